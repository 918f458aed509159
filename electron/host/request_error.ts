// A request the host refuses because of what the caller sent (a path that does not exist or cannot
// be read, a file that is not a checkpoint, a run config with problems, a run or tensor that is not
// there) or because of the state it finds (a run that is running cannot be resumed or deleted), as
// against the host failing. `status` is what serve mode answers with (serve/api_calls.ts): 404 for
// something named that is not there, 409 for an action the named thing's current state does not
// allow (the message names the state), 400 for any other request that cannot be carried out; a
// plain Error stays a 500, the host's fault. Electron's IPC carries which of the two it was
// (ipc_bridge.ts, shared/call_failure.ts); task processes carry the status too (jobs/worker_protocol.ts).
export type RequestStatus = 400 | 404 | 409;

export const REQUEST_STATUSES: readonly RequestStatus[] = [400, 404, 409];

export class RequestError extends Error {
  constructor(readonly status: RequestStatus, message: string, options?: ErrorOptions) {
    super(message, options);
  }
}
