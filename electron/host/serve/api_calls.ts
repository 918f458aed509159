// `POST /api/<method>`: one WorkbenchApi call per request. The JSON body is the request (no body
// for methods that take none), validated with the contract's parseRequest before the host sees it;
// the response is the method's result as JSON, or `{ error }` with 400 (invalid request), 404
// (no such method), 405, 413, 415, a RequestError's 400, 404 or 409 (the host refused what the
// request names: a missing or unreadable path, a file that is not a checkpoint, an unknown run, a
// run whose status does not allow the action; request_error.ts), or 500 (the host failed).
// Authentication happens before this.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parseRequest, requestSchemas, type WorkbenchApi, type WorkbenchMethod } from '../../../shared/api';
import { RequestError } from '../request_error';

/** Large enough for classifyImage's base64 upload of a photo; small enough to refuse a flood. */
export const MAX_REQUEST_BYTES = 16 * 2 ** 20;

class HttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

export function sendJson(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body) ?? 'null';
  response.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
  });
  response.end(text);
}

function isMethod(name: string): name is WorkbenchMethod {
  // Own keys only: 'constructor' or '__proto__' are not methods.
  return Object.hasOwn(requestSchemas, name);
}

async function readBody(request: IncomingMessage): Promise<string> {
  const declared = Number(request.headers['content-length'] ?? 0);
  if (declared > MAX_REQUEST_BYTES) throw new HttpError(413, `request body over ${MAX_REQUEST_BYTES} bytes`);
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    bytes += chunk.length;
    // A chunked body declares no length; count as it arrives.
    if (bytes > MAX_REQUEST_BYTES) throw new HttpError(413, `request body over ${MAX_REQUEST_BYTES} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** The request a body carries: undefined when empty (methods without a request), else its JSON. */
async function requestOf(request: IncomingMessage): Promise<unknown> {
  const body = await readBody(request);
  if (body.length === 0) return undefined;
  const type = request.headers['content-type'] ?? '';
  if (!/^application\/json\s*(;|$)/i.test(type)) {
    throw new HttpError(415, `the request body must be application/json, not '${type || 'unspecified'}'`);
  }
  try {
    return JSON.parse(body) as unknown;
  } catch (error) {
    throw new HttpError(400, `the request body is not valid JSON (${(error as Error).message})`);
  }
}

async function respond(api: WorkbenchApi, name: string, request: IncomingMessage): Promise<unknown> {
  if (!isMethod(name)) throw new HttpError(404, `unknown method '${name}'`);
  if (request.method !== 'POST') throw new HttpError(405, `${name}: use POST`);
  const body = await requestOf(request);
  let valid: unknown;
  try {
    valid = parseRequest(name, body);
  } catch (error) {
    throw new HttpError(400, (error as Error).message);
  }
  const call = api[name] as (request: unknown) => Promise<unknown>;
  return call.call(api, valid);
}

export async function handleApiCall(api: WorkbenchApi, name: string, request: IncomingMessage, response: ServerResponse): Promise<void> {
  try {
    sendJson(response, 200, await respond(api, name, request));
  } catch (error) {
    const status = error instanceof HttpError || error instanceof RequestError ? error.status : 500;
    if (status === 405) response.setHeader('Allow', 'POST');
    // The rest of an oversized body is never read; closing stops it being parsed as a next request.
    if (status === 413) response.setHeader('Connection', 'close');
    sendJson(response, status, { error: error instanceof Error ? error.message : String(error) });
  }
}
