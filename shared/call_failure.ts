// How a failed WorkbenchApi call reaches the user, the same over both transports. A call fails
// either because of what was asked (kind 'request': a path that is not there, an invalid config, a
// run whose state does not allow the action; the host's message names the problem and is shown as
// it is) or because the host failed (kind 'host': a bug, a crashed worker, a full disk), which is
// not the user's doing and is said to be the host's.
//
// Serve mode carries the kind as the HTTP status: 4xx or 5xx (electron/host/serve/api_calls.ts),
// read alike by the browser's serve client and the CLI's (serveAnswerFailure).
// Electron's IPC keeps only a thrown Error's message, so its handlers answer with an IpcOutcome
// instead of throwing (electron/ipc_bridge.ts), and the preload turns a failed one into an Error.
// contextBridge too passes an Error's message alone, so the page tells the kinds apart by the words
// that callFailureMessage makes, here for both transports (readCallFailure reads them back).
//
// A call to `pix serve` can also get no answer at all: the server is unreachable, said by
// unreachableMessage. That is no kind of CallFailure (no host answered), but the page names it too.

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

/**
 * Why a `pix serve` answer to POST /api/<method> is no value: its status is not a success (the
 * server's `{ error }` says why, else the status does), or body is undefined because the answer was
 * not JSON. A 401 is the caller's to word: each client says what to do about a refused token.
 */
export function serveAnswerFailure(method: string, status: number, body: unknown): CallFailure {
  const ok = status >= 200 && status < 300;
  const error = (body as { error?: unknown } | null | undefined)?.error;
  const message = !ok && typeof error === 'string' ? error : `${method}: the server answered HTTP ${status}${ok ? ' with a body that is not JSON' : ''}`;
  return { kind: failureKindOfStatus(status), message };
}

/** A failed call as the page tells it: answered with a failure, or not answered ('unreachable'). */
export type ShownFailureKind = CallFailureKind | 'unreachable';

const HOST_FAILED = 'The workbench host failed: ';
const UNREACHABLE = 'Cannot reach the workbench server at ';

/** The text the page shows for a failed call. */
export function callFailureMessage(failure: CallFailure): string {
  return failure.kind === 'request' ? failure.message : `${HOST_FAILED}${failure.message}`;
}

/** The text for a `pix serve` that did not answer; origin e.g. http://127.0.0.1:8765, cause e.g. "connection refused". */
export function unreachableMessage(origin: string, cause: string): string {
  return `${UNREACHABLE}${origin} (${cause}); is \`pix serve\` still running?`;
}

/**
 * The kind of a failure from its text (the words above), and what is left to say once the kind is
 * named: the host's own words after "The workbench host failed: ", else the whole text (an
 * unreachable server's text names the server; a request's is the host's message as it is).
 */
export function readCallFailure(message: string): { kind: ShownFailureKind; detail: string } {
  if (message.startsWith(HOST_FAILED)) return { kind: 'host', detail: message.slice(HOST_FAILED.length) };
  if (message.startsWith(UNREACHABLE)) return { kind: 'unreachable', detail: message };
  return { kind: 'request', detail: message };
}
