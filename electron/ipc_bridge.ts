// The main-process half of the Electron transport, kept free of any `electron` import so it can be
// tested with a fake registry: one handler per WorkbenchApi method and per dialog, each refusing
// untrusted senders and validating its arguments with the contract's schemas before the host sees
// them; and host events forwarded to the window. electron/main.ts supplies ipcMain and the window.
// Handlers never throw: they answer an IpcOutcome (shared/call_failure.ts), whose failure says
// whether the request or the host was at fault, which a thrown Error would not carry over IPC.
import { z } from 'zod';
import {
  channelOf, dialogChannelOf, eventChannelOf, parseRequest, workbenchEvents, workbenchMethods,
  type WorkbenchApi, type WorkbenchClient, type WorkbenchDialogs, type WorkbenchMethod,
} from '../shared/api';
import type { CallFailure, IpcOutcome } from '../shared/call_failure';
import { RequestError } from './host/request_error';
import type { FrameLike } from './trusted_sender';

/** The slice of Electron's ipcMain used here; its IpcMainInvokeEvent fits `{ senderFrame }`. */
export interface IpcRegistry {
  handle(channel: string, listener: (event: { senderFrame: FrameLike | null }, ...args: unknown[]) => unknown): void;
}

export type SenderCheck = (frame: FrameLike | null) => boolean;

/** A RequestError is the caller's problem, as in serve mode's 4xx; any other throw is the host failing. */
export function callFailureOf(error: unknown): CallFailure {
  return { kind: error instanceof RequestError ? 'request' : 'host', message: error instanceof Error ? error.message : String(error) };
}

function guarded(channel: string, isTrusted: SenderCheck, handler: (...args: unknown[]) => unknown) {
  return async (event: { senderFrame: FrameLike | null }, ...args: unknown[]): Promise<IpcOutcome> => {
    try {
      if (!isTrusted(event.senderFrame)) throw new RequestError(400, `${channel} refused: the caller is not the workbench renderer`);
      return { ok: true, value: await handler(...args) };
    } catch (error) {
      return { ok: false, failure: callFailureOf(error) };
    }
  };
}

/** The request as the contract's schema accepts it; one it refuses is the caller's error, a 400 in serve mode. */
function validRequest(method: WorkbenchMethod, request: unknown): unknown {
  try {
    return parseRequest(method, request);
  } catch (error) {
    throw new RequestError(400, (error as Error).message);
  }
}

export function registerApiHandlers(ipc: IpcRegistry, api: WorkbenchApi, isTrusted: SenderCheck): void {
  for (const method of workbenchMethods) {
    const forward = api[method] as (request: unknown) => Promise<unknown>;
    ipc.handle(channelOf(method), guarded(channelOf(method), isTrusted, (request) => forward.call(api, validRequest(method, request))));
  }
}

/** File-dialog filters: a few plain extensions such as 'pth' or 'safetensors'. */
const extensionsSchema = z.array(z.string().regex(/^[A-Za-z0-9]{1,16}$/, 'an extension is letters and digits, without the dot')).min(1).max(16);

export function registerDialogHandlers(ipc: IpcRegistry, dialogs: WorkbenchDialogs, isTrusted: SenderCheck): void {
  ipc.handle(dialogChannelOf('pickFolder'), guarded(dialogChannelOf('pickFolder'), isTrusted, () => dialogs.pickFolder()));
  ipc.handle(dialogChannelOf('pickFile'), guarded(dialogChannelOf('pickFile'), isTrusted, (extensions) => {
    const result = extensionsSchema.safeParse(extensions);
    if (!result.success) throw new RequestError(400, `pickFile: invalid extensions (${result.error.issues.map((i) => i.message).join('; ')})`);
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
