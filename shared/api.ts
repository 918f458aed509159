// The one contract between the workbench UI and its host. Implemented over Electron IPC (preload)
// and, later, over HTTP/WebSocket (serve mode); the renderer codes against this interface only.
import type { EngineInfo } from './engine';

/** Every API method: its request and response types. Channel names derive from the keys. */
export interface WorkbenchApiMethods {
  engineInfo: { request: void; response: EngineInfo };
}

export type WorkbenchMethod = keyof WorkbenchApiMethods;

/** The client-side shape: one async function per method. */
export type WorkbenchApi = {
  [M in WorkbenchMethod]: WorkbenchApiMethods[M]['request'] extends void
    ? () => Promise<WorkbenchApiMethods[M]['response']>
    : (request: WorkbenchApiMethods[M]['request']) => Promise<WorkbenchApiMethods[M]['response']>;
};

/** IPC channel of a method; the single place channel names are made. */
export function channelOf(method: WorkbenchMethod): string {
  return `workbench:${method}`;
}

export const workbenchMethods: readonly WorkbenchMethod[] = ['engineInfo'];
