// Exposes the WorkbenchApi to the renderer as `window.pix`: one narrow function per contract method,
// each an ipcRenderer.invoke on that method's channel. Raw ipcRenderer is never exposed.
//
// The window is sandboxed, and a sandboxed preload can require only 'electron' and a few Node
// builtins, not project files. So this file is bundled (electron/vite.preload.config.mts) with
// shared/api.ts inlined: the method list and channel names still come from the one contract.
import { contextBridge, ipcRenderer } from 'electron';
import { channelOf, workbenchMethods, type WorkbenchApi } from '../shared/api';

// Object.fromEntries loses the key types; the entries are built from workbenchMethods itself.
const api = Object.fromEntries(
  workbenchMethods.map((method) => [
    method,
    (request?: unknown) => ipcRenderer.invoke(channelOf(method), request),
  ]),
) as WorkbenchApi;

contextBridge.exposeInMainWorld('pix', api);
