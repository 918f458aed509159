// The serve mode's HTTP server: the renderer bundle at `/`, the WorkbenchApi at `POST /api/<method>`
// and its events on the WebSocket `/api/events`, for using the workbench from a browser (a GPU server
// with no display, reached over an SSH tunnel). Every request passes the same gate first: the Host
// and Origin must name this server (403), and anything under /api/ must carry the access token (401).
// This file wires the pieces together; each rule lives in its own module beside it.
import { existsSync } from 'node:fs';
import { realpath } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { networkInterfaces } from 'node:os';
import type { Duplex } from 'node:stream';
import { join } from 'node:path';
import type { WorkbenchClient } from '../../../shared/api';
import { createAccessToken, presentedToken, tokensMatch } from './auth';
import { allowedAuthorities, formatAuthority, hostHeaderAllowed, isLoopbackHost, isWildcardHost, originAllowed } from './allowed_hosts';
import { handleApiCall, sendJson } from './api_calls';
import { createEventsSocket } from './events_socket';
import { setSecurityHeaders } from './security_headers';
import { serveStaticFile } from './static_files';

export const DEFAULT_HOST = '127.0.0.1';

/** How long in-flight API calls may finish after close() before their connections are cut. */
const CLOSE_GRACE_MS = 2000;

export interface ServeOptions {
  /** The host to serve; only `api` and `on` are used, closing it stays with the caller. */
  client: WorkbenchClient;
  /** The built renderer, dist/renderer. */
  rendererRoot: string;
  /** Default 127.0.0.1 (loopback only). */
  host?: string;
  /** 0 picks any free port. */
  port: number;
}

export interface RunningServer {
  host: string;
  port: number;
  token: string;
  /** Whether only this machine can connect. */
  loopback: boolean;
  /** e.g. http://127.0.0.1:8765/ */
  url: string;
  /** url plus `#token=…`: what to open. The fragment never leaves the browser, so no log sees it. */
  pageUrl: string;
  close(): Promise<void>;
}

type Gate = { ok: true; authority: string } | { ok: false; status: 401 | 403 | 404; message: string };

/** The address to print for a wildcard bind: the first external IPv4, which another machine can reach. */
function browsableHost(host: string): string {
  if (!isWildcardHost(host)) return host;
  const external = Object.values(networkInterfaces()).flatMap((list) => list ?? [])
    .find((a) => a.family === 'IPv4' && !a.internal);
  return external?.address ?? DEFAULT_HOST;
}

export async function startServer(options: ServeOptions): Promise<RunningServer> {
  const host = options.host ?? DEFAULT_HOST;
  if (!existsSync(join(options.rendererRoot, 'index.html'))) {
    throw new Error(`the renderer is not built (${join(options.rendererRoot, 'index.html')} is missing): run \`npm run build:renderer\``);
  }
  const root = await realpath(options.rendererRoot);
  const token = createAccessToken();
  const events = createEventsSocket(options.client);
  let allowed = new Set<string>();
  let boundAuthority = '';

  function gate(request: IncomingMessage, path: string): Gate {
    if (!hostHeaderAllowed(request.headers.host, allowed)) {
      return { ok: false, status: 403, message: `Host '${request.headers.host ?? ''}' is not this server` };
    }
    if (!originAllowed(request.headers.origin, allowed)) {
      return { ok: false, status: 403, message: `Origin '${request.headers.origin}' may not use this server` };
    }
    if (path.startsWith('/api/') && !tokensMatch(token, presentedToken(request.headers))) {
      return { ok: false, status: 401, message: 'missing or wrong access token: open the URL `pix serve` printed' };
    }
    // The Host header passed, so it is one of our own authorities, safe to put into the CSP.
    return { ok: true, authority: new URL(`http://${request.headers.host}`).host };
  }

  async function onRequest(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = new URL(request.url ?? '/', 'http://placeholder').pathname;
    const verdict = gate(request, path);
    setSecurityHeaders(response, verdict.ok ? verdict.authority : boundAuthority);
    if (!verdict.ok) {
      if (verdict.status === 401) response.setHeader('WWW-Authenticate', 'Bearer');
      sendJson(response, verdict.status, { error: verdict.message });
      return;
    }
    if (path === '/api/session') {
      // Lets the browser client learn whether its token is accepted, which a failed WebSocket
      // upgrade cannot tell it (browsers hide the status of a refused upgrade).
      response.writeHead(204, { 'Cache-Control': 'no-store' }).end();
    } else if (path.startsWith('/api/')) {
      await handleApiCall(options.client.api, path.slice('/api/'.length), request, response);
    } else {
      await serveStaticFile(root, request, response, path);
    }
  }

  function refuseUpgrade(socket: Duplex, status: number, reason: string, message: string): void {
    const body = JSON.stringify({ error: message });
    socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: application/json; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  }

  const server = createServer((request, response) => {
    onRequest(request, response).catch((error: unknown) => {
      if (!response.headersSent) sendJson(response, 500, { error: error instanceof Error ? error.message : String(error) });
      else response.destroy();
    });
  });

  server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    const path = new URL(request.url ?? '/', 'http://placeholder').pathname;
    const verdict = gate(request, path);
    if (!verdict.ok) {
      refuseUpgrade(socket, verdict.status, verdict.status === 401 ? 'Unauthorized' : 'Forbidden', verdict.message);
    } else if (path !== '/api/events') {
      refuseUpgrade(socket, 404, 'Not Found', `no WebSocket at ${path}`);
    } else {
      events.handleUpgrade(request, socket, head);
    }
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      const hint = error.code === 'EADDRINUSE' ? ' (pass --port 0 for any free port)' : '';
      reject(new Error(`cannot listen on ${formatAuthority(host, options.port)}: ${error.message}${hint}`));
    });
    server.listen(options.port, host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  allowed = allowedAuthorities(host, port);
  boundAuthority = formatAuthority(host, port);
  const url = `http://${formatAuthority(browsableHost(host), port)}/`;

  let closing: Promise<void> | undefined;
  return {
    host,
    port,
    token,
    loopback: isLoopbackHost(host),
    url,
    pageUrl: `${url}#token=${token}`,
    close() {
      closing ??= (async () => {
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        const cutoff = setTimeout(() => server.closeAllConnections(), CLOSE_GRACE_MS);
        await events.close();
        await stopped;
        clearTimeout(cutoff);
      })();
      return closing;
    },
  };
}
