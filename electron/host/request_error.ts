// A request the host refuses because of what the caller sent (a path that does not exist or cannot
// be read, a run config with problems, a run or tensor that is not there), as against the host
// failing. `status` is what serve mode answers with (serve/api_calls.ts: 404 for something named
// that is not there, 400 for a request that cannot be carried out); a plain Error stays a 500, the
// host's fault. Electron's IPC carries only the message, which names what was wrong either way.
export class RequestError extends Error {
  constructor(readonly status: 400 | 404, message: string) {
    super(message);
  }
}
