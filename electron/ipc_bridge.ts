// The main-process half of the Electron transport, kept free of any `electron` import so it can be
// tested with a fake registry: one handler per WorkbenchApi method and per dialog, each refusing
// untrusted senders and validating its arguments with the contract's schemas before the host sees
// them; and host events forwarded to the window. electron/main.ts supplies ipcMain and the window.
import { z } from 'zod';
import {
  channelOf, dialogChannelOf, eventChannelOf, parseRequest, workbenchEvents, workbenchMethods,
  type WorkbenchApi, type WorkbenchClient, type WorkbenchDialogs,
} from '../shared/api';
import type { FrameLike } from './trusted_sender';

/** The slice of Electron's ipcMain used here; its IpcMainInvokeEvent fits `{ senderFrame }`. */
export interface IpcRegistry {
  handle(channel: string, listener: (event: { senderFrame: FrameLike | null }, ...args: unknown[]) => unknown): void;
}

export type SenderCheck = (frame: FrameLike | null) => boolean;

function guarded(channel: string, isTrusted: SenderCheck, handler: (...args: unknown[]) => unknown) {
  return (event: { senderFrame: FrameLike | null }, ...args: unknown[]): unknown => {
    if (!isTrusted(event.senderFrame)) throw new Error(`${channel} refused: the caller is not the workbench renderer`);
    return handler(...args);
  };
}

export function registerApiHandlers(ipc: IpcRegistry, api: WorkbenchApi, isTrusted: SenderCheck): void {
  for (const method of workbenchMethods) {
    const forward = api[method] as (request: unknown) => Promise<unknown>;
    ipc.handle(channelOf(method), guarded(channelOf(method), isTrusted, (request) => forward.call(api, parseRequest(method, request))));
  }
}

/** File-dialog filters: a few plain extensions such as 'pth' or 'safetensors'. */
const extensionsSchema = z.array(z.string().regex(/^[A-Za-z0-9]{1,16}$/, 'an extension is letters and digits, without the dot')).min(1).max(16);

export function registerDialogHandlers(ipc: IpcRegistry, dialogs: WorkbenchDialogs, isTrusted: SenderCheck): void {
  ipc.handle(dialogChannelOf('pickFolder'), guarded(dialogChannelOf('pickFolder'), isTrusted, () => dialogs.pickFolder()));
  ipc.handle(dialogChannelOf('pickFile'), guarded(dialogChannelOf('pickFile'), isTrusted, (extensions) => {
    const result = extensionsSchema.safeParse(extensions);
    if (!result.success) throw new Error(`pickFile: invalid extensions (${result.error.issues.map((i) => i.message).join('; ')})`);
    return dialogs.pickFile(result.data);
  }));
}

/** Sends every host event on its channel; returns the function that stops forwarding. */
export function forwardEvents(client: Pick<WorkbenchClient, 'on'>, send: (channel: string, payload: unknown) => void): () => void {
  const unsubscribes = workbenchEvents.map((event) => client.on(event, (payload) => send(eventChannelOf(event), payload)));
  return () => {
    for (const unsubscribe of unsubscribes) unsubscribe();
  };
}
