// How a `pix` command reaches a running `pix serve`: the server named by --server, else by
// PIX_SERVER (either one the URL `pix serve` printed, its `#token=…` included), else the one
// recorded in the home's serve.json (serve_record.ts). Calls are the WorkbenchApi over the
// server's HTTP face (electron/host/serve/api_calls.ts), typed by the contract. A failure is one
// line, worded as the browser's serve client words it (shared/call_failure.ts): a request problem
// (4xx) in the server's words, "The workbench host failed: …" for the host's (5xx, or an answer
// that is not JSON), "Cannot reach the workbench server at …" for no answer (refused, dropped, or
// none in time), with where the address came from. No events: a command asks and exits.
import { workbenchMethods, type WorkbenchApi } from '../../shared/api';
import { callFailureMessage, serveAnswerFailure, unreachableMessage } from '../../shared/call_failure';
import { workbenchHome } from '../host/api';
import { processAlive, readServeRecord, serveRecordPath } from './serve_record';

/** Long enough for startRun, which scans the dataset folder before answering. */
const CALL_TIMEOUT_MS = 30_000;

export interface ServerTarget {
  /** e.g. http://127.0.0.1:8765/ */
  url: string;
  token: string;
  /** Where the address came from, for messages: '--server', 'PIX_SERVER' or the serve.json path. */
  source: string;
}

export interface ServerChoice {
  server?: string | undefined;
  home?: string | undefined;
}

function fromUrl(text: string, source: string): ServerTarget {
  const url = URL.canParse(text) ? new URL(text) : undefined;
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new Error(`${source}: '${text}' is not an http URL; give the URL pix serve printed (http://HOST:PORT/#token=…)`);
  }
  const token = new URLSearchParams(url.hash.slice(1)).get('token');
  if (!token) throw new Error(`${source}: ${text} carries no access token; give the whole URL pix serve printed, with its #token=…`);
  return { url: `${url.origin}/`, token, source };
}

/** The server to talk to; throws a message saying how to start or name one. */
export function locateServer(choice: ServerChoice, env: NodeJS.ProcessEnv = process.env): ServerTarget {
  if (choice.server !== undefined) return fromUrl(choice.server, '--server');
  if (env.PIX_SERVER) return fromUrl(env.PIX_SERVER, 'PIX_SERVER');
  const home = workbenchHome(choice.home);
  const start = `start one with pix serve${choice.home === undefined ? '' : ` --home ${home}`}`;
  const record = readServeRecord(home);
  if (!record) throw new Error(`no pix serve is running for home ${home} (no ${serveRecordPath(home)}); ${start}, or name one with --server URL`);
  if (!processAlive(record.pid)) {
    throw new Error(`no pix serve is running for home ${home} (stale serve.json from pid ${record.pid}); ${start}`);
  }
  return { url: record.url, token: record.token, source: serveRecordPath(home) };
}

/** Why fetch failed, in words: the system error's code and message rather than undici's "fetch failed". */
function unreachable(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  if (cause?.code === 'ECONNREFUSED') return 'connection refused';
  return cause?.message ?? (error instanceof Error ? error.message : String(error));
}

async function post(target: ServerTarget, method: string, request: unknown): Promise<unknown> {
  const where = `pix serve at ${target.url}`;
  let response: Response;
  let text: string;
  try {
    response = await fetch(new URL(`api/${method}`, target.url), {
      method: 'POST',
      headers: { Authorization: `Bearer ${target.token}`, ...(request === undefined ? {} : { 'Content-Type': 'application/json' }) },
      body: request === undefined ? undefined : JSON.stringify(request),
      signal: AbortSignal.timeout(CALL_TIMEOUT_MS),
    });
    // Read here: a connection lost mid-answer is as unreachable as one never made.
    text = await response.text();
  } catch (error) {
    const cause = (error as Error).name === 'TimeoutError' ? `no answer to ${method} within ${CALL_TIMEOUT_MS / 1000} s` : unreachable(error);
    throw new Error(unreachableMessage(new URL(target.url).origin, `${cause}; from ${target.source}`));
  }
  if (response.status === 401) {
    throw new Error(`${where} refused the access token from ${target.source}; each start makes a new one: ` +
      'use the URL it printed last, or leave out --server and PIX_SERVER to read it from the home\'s serve.json');
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;  // JSON.parse never gives undefined: it stands for "not JSON"
  }
  if (body === undefined || !response.ok) {
    const failure = serveAnswerFailure(method, response.status, body);
    // 403: the server refused the address itself (its Host check), not the request: name the server.
    if (response.status === 403) failure.message = `${where}: ${failure.message}`;
    throw new Error(callFailureMessage(failure));
  }
  return body;
}

/** The WorkbenchApi of a running server: each method one POST. */
export function serverApi(target: ServerTarget): WorkbenchApi {
  return Object.fromEntries(workbenchMethods.map((method) => [method, (request?: unknown) => post(target, method, request)])) as WorkbenchApi;
}
