// Exposes the workbench to the renderer as `window.pix = { api, on, dialogs }` (a WorkbenchClient):
// one narrow function per contract method and dialog, each an ipcRenderer.invoke on its channel,
// and `on` for the contract's events only. Raw ipcRenderer is never exposed, and `on` refuses any
// name that is not a WorkbenchEvent, so the page cannot listen on other channels.
//
// The window is sandboxed, and a sandboxed preload can require only 'electron' and a few Node
// builtins, not project files. So this file is bundled (electron/vite.preload.config.mts) with
// shared/api.ts inlined: the method list and channel names still come from the one contract.
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import {
  channelOf, dialogChannelOf, eventChannelOf, workbenchEvents, workbenchMethods,
  type Subscribe, type WorkbenchApi, type WorkbenchClient, type WorkbenchDialogs, type WorkbenchEvent,
} from '../shared/api';
import { settleInvoke } from './invoke_error';

/** The handler's value, or an Error saying whether the request or the host was at fault. */
function invoke(channel: string, ...args: unknown[]): Promise<unknown> {
  return settleInvoke(() => ipcRenderer.invoke(channel, ...args));
}

// Object.fromEntries loses the key types; the entries are built from workbenchMethods itself.
const api = Object.fromEntries(
  workbenchMethods.map((method) => [method, (request?: unknown) => invoke(channelOf(method), request)]),
) as WorkbenchApi;

const on: Subscribe = (event, listener) => {
  if (!workbenchEvents.includes(event as WorkbenchEvent)) throw new Error(`window.pix.on: unknown event '${String(event)}'`);
  const channel = eventChannelOf(event);
  // The IPC event object (with its sender) stays here; the page gets the payload only.
  const relay = (_event: IpcRendererEvent, payload: unknown) => listener(payload as Parameters<typeof listener>[0]);
  ipcRenderer.on(channel, relay);
  return () => {
    ipcRenderer.removeListener(channel, relay);
  };
};

const dialogs: WorkbenchDialogs = {
  pickFolder: () => invoke(dialogChannelOf('pickFolder')) as Promise<string | null>,
  pickFile: (extensions) => invoke(dialogChannelOf('pickFile'), extensions) as Promise<string | null>,
};

const client: WorkbenchClient = { api, on, dialogs };
contextBridge.exposeInMainWorld('pix', client);
