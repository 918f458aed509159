// The WorkbenchClient of a browser talking to `pix serve` (electron/host/serve/): each method is a
// `POST /api/<method>` with the access token as a bearer credential, and events arrive on the
// `/api/events` WebSocket, opened on the first subscription and reopened with backoff when it
// drops. Without a token, or once the server refuses it, every call rejects with a message that
// tells the user what to do, and the socket stays closed. A refused call says what was wrong with
// it (4xx) or that the host failed (5xx), as shared/call_failure.ts words it for both transports;
// a server that cannot be reached is named, with the hint that `pix serve` may have stopped (the
// same file's unreachableMessage).
import {
  workbenchMethods, type EventStreamState, type Subscribe, type WorkbenchApi, type WorkbenchClient, type WorkbenchEvent,
} from '../../../shared/api';
import { callFailureMessage, serveAnswerFailure, unreachableMessage } from '../../../shared/call_failure';
import { MISSING_TOKEN_MESSAGE, REJECTED_TOKEN_MESSAGE } from './access_token';
import { DEFAULT_BACKOFF, openEventStream, type Backoff, type EventStream } from './event_stream';

/** Mirrors electron/host/serve/auth.ts: the socket's protocol, and the entry that carries the token. */
const EVENTS_PROTOCOL = 'pix-events';
const TOKEN_PROTOCOL_PREFIX = 'pix-token.';

export interface ServeClientOptions {
  /** The server's origin, e.g. http://127.0.0.1:8765 */
  origin: string;
  token: string | null;
  fetch: typeof fetch;
  WebSocket: typeof WebSocket;
  backoff?: Backoff;
}

type Listener = (payload: unknown) => void;

export function createServeClient(options: ServeClientOptions): WorkbenchClient {
  const { origin, token } = options;
  let rejected = false;
  let stream: EventStream | undefined;
  const listeners = new Map<string, Set<Listener>>();
  const streamStateListeners = new Set<(state: EventStreamState) => void>();
  // Whether `lost` was last said: a stream that keeps failing to reconnect says it once.
  let streamLost = false;

  function tellStreamState(state: EventStreamState): void {
    if ((state === 'lost') === streamLost) return;
    streamLost = state === 'lost';
    for (const listener of [...streamStateListeners]) listener(state);
  }

  function accessProblem(): string | undefined {
    if (token === null) return MISSING_TOKEN_MESSAGE;
    return rejected ? REJECTED_TOKEN_MESSAGE : undefined;
  }

  function refuseToken(): void {
    rejected = true;
    stream?.stop();
    stream = undefined;
  }

  async function post(method: string, request: unknown): Promise<unknown> {
    const problem = accessProblem();
    if (problem) throw new Error(problem);
    let response: Response;
    let text: string;
    try {
      response = await options.fetch(`${origin}/api/${method}`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${token}`, ...(request === undefined ? {} : { 'Content-Type': 'application/json' }) },
        body: request === undefined ? undefined : JSON.stringify(request),
      });
      // Read here: a connection lost mid-answer is as unreachable as one never made.
      text = await response.text();
    } catch (error) {
      throw new Error(unreachableMessage(origin, error instanceof Error ? error.message : String(error)));
    }
    if (response.status === 401) {
      refuseToken();
      throw new Error(REJECTED_TOKEN_MESSAGE);
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;  // JSON.parse never gives undefined: it stands for "not JSON"
    }
    if (body === undefined || !response.ok) throw new Error(callFailureMessage(serveAnswerFailure(method, response.status, body)));
    return body;
  }

  /** A socket that never opened may have been refused (401) or found nobody; only HTTP can tell. */
  async function checkToken(): Promise<void> {
    try {
      const response = await options.fetch(`${origin}/api/session`, { headers: { Authorization: `Bearer ${token}` } });
      if (response.status === 401) refuseToken();
    } catch {
      // Unreachable: the stream keeps retrying, and calls say so themselves.
    }
  }

  function deliver(data: string): void {
    const message = JSON.parse(data) as { event?: unknown; payload?: unknown };
    if (typeof message.event !== 'string') throw new Error(`events socket: a message without an event name: ${data.slice(0, 200)}`);
    // Copied: a listener may unsubscribe while the event is delivered.
    for (const listener of [...(listeners.get(message.event) ?? [])]) listener(message.payload);
  }

  function ensureStream(): void {
    if (stream || accessProblem()) return;
    stream = openEventStream({
      url: `${origin.replace(/^http/, 'ws')}/api/events`,
      protocols: [EVENTS_PROTOCOL, `${TOKEN_PROTOCOL_PREFIX}${token}`],
      WebSocket: options.WebSocket,
      backoff: options.backoff ?? DEFAULT_BACKOFF,
      onMessage: deliver,
      onOpen: (reopened) => {
        if (reopened || streamLost) tellStreamState('restored');
      },
      onClose: (opened) => {
        tellStreamState('lost');
        if (!opened) void checkToken();
      },
    });
  }

  const api = Object.fromEntries(
    workbenchMethods.map((method) => [method, (request?: unknown) => post(method, request)]),
  ) as WorkbenchApi;

  const on: Subscribe = (event, listener) => {
    const set = listeners.get(event) ?? new Set<Listener>();
    listeners.set(event as WorkbenchEvent, set);
    set.add(listener as Listener);
    ensureStream();
    return () => {
      set.delete(listener as Listener);
    };
  };

  const onStreamState = (listener: (state: EventStreamState) => void) => {
    streamStateListeners.add(listener);
    return () => {
      streamStateListeners.delete(listener);
    };
  };

  return { api, on, onStreamState };
}
