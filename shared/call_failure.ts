// How a failed WorkbenchApi call reaches the user, the same over both transports. A call fails
// either because of what was asked (kind 'request': a path that is not there, an invalid config, a
// run whose state does not allow the action; the host's message names the problem and is shown as
// it is) or because the host failed (kind 'host': a bug, a crashed worker, a full disk), which is
// not the user's doing and is said to be the host's.
//
// Serve mode carries the kind as the HTTP status: 4xx or 5xx (electron/host/serve/api_calls.ts).
// Electron's IPC keeps only a thrown Error's message, so its handlers answer with an IpcOutcome
// instead of throwing (electron/ipc_bridge.ts), and the preload turns a failed one into an Error.
// contextBridge too passes an Error's message alone, so the page tells the kinds apart by the words
// that callFailureMessage makes, here for both transports.

export type CallFailureKind = 'request' | 'host';

export interface CallFailure {
  kind: CallFailureKind;
  /** The host's own words, e.g. "path: /data/x does not exist". */
  message: string;
}

/** What an Electron IPC handler answers: the call's value, or why it failed. */
export type IpcOutcome<T = unknown> = { ok: true; value: T } | { ok: false; failure: CallFailure };

/** A 4xx is the request's problem; anything else that is not a success is the host's. */
export function failureKindOfStatus(status: number): CallFailureKind {
  return status >= 400 && status < 500 ? 'request' : 'host';
}

/** The text the page shows for a failed call. */
export function callFailureMessage(failure: CallFailure): string {
  return failure.kind === 'request' ? failure.message : `The workbench host failed: ${failure.message}`;
}
