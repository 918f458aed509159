// The serve-mode server end to end over real sockets: the token gate (HTTP and WebSocket), the
// Host/Origin gate, method routing and validation, events, static files and the security headers.
import assert from 'node:assert/strict';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { WebSocket } from 'ws';
import { workbenchEvents } from '../../../shared/api';
import { startServer, type RunningServer } from '../../../electron/host/serve/server';
import { createFakeHost, makeRendererBundle, type FakeHost } from './fake_host';

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

function send(server: RunningServer, path: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({
      host: '127.0.0.1', port: server.port, path, method: options.method ?? 'GET',
      headers: { host: `127.0.0.1:${server.port}`, ...options.headers },
    }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk)).on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject).end(options.body);
  });
}

function call(server: RunningServer, method: string, request?: unknown, token = server.token): Promise<Reply> {
  return send(server, `/api/${method}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, ...(request === undefined ? {} : { 'content-type': 'application/json' }) },
    body: request === undefined ? undefined : JSON.stringify(request),
  });
}

/** Opens the events socket; resolves with the socket once open, or the refused upgrade's status. */
function connect(server: RunningServer, protocols: string[], headers: Record<string, string> = {}): Promise<WebSocket | number> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`ws://127.0.0.1:${server.port}/api/events`, protocols, { headers });
    socket.once('open', () => resolve(socket));
    socket.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      res.resume();
    });
    socket.once('error', reject);
  });
}

describe('serve mode server', () => {
  let host: FakeHost;
  let server: RunningServer;
  let secret: string;

  before(async () => {
    host = createFakeHost();
    const bundle = makeRendererBundle();
    secret = bundle.secret;
    server = await startServer({ client: host, rendererRoot: bundle.root, port: 0 });
  });
  after(() => server.close());

  it('prints a loopback URL with the token in the fragment only', () => {
    assert.equal(server.url, `http://127.0.0.1:${server.port}/`);
    assert.equal(server.pageUrl, `${server.url}#token=${server.token}`);
    assert.match(server.token, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(server.loopback, true);
  });

  describe('the access token', () => {
    it('refuses API calls without it, with a wrong one, or with it in the query (401)', async () => {
      const missing = await send(server, '/api/listModels', { method: 'POST' });
      assert.equal(missing.status, 401);
      assert.equal(missing.headers['www-authenticate'], 'Bearer');
      assert.match(JSON.parse(missing.body).error, /access token/);
      const wrong = `${server.token.slice(0, -1)}${server.token.endsWith('A') ? 'B' : 'A'}`;
      assert.equal((await call(server, 'listModels', undefined, wrong)).status, 401);
      assert.equal((await send(server, `/api/listModels?token=${server.token}`, { method: 'POST' })).status, 401);
      assert.equal((await send(server, '/api/session')).status, 401);
      assert.equal(host.calls.length, 0);
    });

    it('answers the session probe with the right token', async () => {
      const reply = await send(server, '/api/session', { headers: { authorization: `Bearer ${server.token}` } });
      assert.equal(reply.status, 204);
    });

    it('refuses the WebSocket upgrade without it or with a wrong one (401)', async () => {
      assert.equal(await connect(server, ['pix-events']), 401);
      assert.equal(await connect(server, ['pix-events', 'pix-token.wrong']), 401);
    });
  });

  describe('Host and Origin (DNS rebinding)', () => {
    it('refuses a foreign Host header (403), before the token is even looked at', async () => {
      const reply = await send(server, '/api/listModels', { method: 'POST', headers: { host: `evil.example:${server.port}`, authorization: `Bearer ${server.token}` } });
      assert.equal(reply.status, 403);
      assert.match(JSON.parse(reply.body).error, /Host 'evil\.example/);
      assert.equal((await send(server, '/', { headers: { host: `evil.example:${server.port}` } })).status, 403);
      assert.equal((await send(server, '/', { headers: { host: '127.0.0.1:1' } })).status, 403);
    });

    it('accepts the other loopback spellings of this port', async () => {
      for (const name of ['localhost', '[::1]', 'LOCALHOST']) {
        assert.equal((await send(server, '/', { headers: { host: `${name}:${server.port}` } })).status, 200, name);
      }
    });

    it('refuses a foreign or opaque Origin (403) and accepts our own', async () => {
      for (const origin of ['http://evil.example', `https://127.0.0.1:${server.port}`, 'null']) {
        const reply = await send(server, '/api/session', { headers: { origin, authorization: `Bearer ${server.token}` } });
        assert.equal(reply.status, 403, origin);
      }
      const own = await send(server, '/api/session', { headers: { origin: `http://localhost:${server.port}`, authorization: `Bearer ${server.token}` } });
      assert.equal(own.status, 204);
    });

    it('refuses a WebSocket from a foreign Origin even with the token (403)', async () => {
      assert.equal(await connect(server, ['pix-events', `pix-token.${server.token}`], { origin: 'http://evil.example' }), 403);
    });
  });

  describe('API calls', () => {
    it('routes a method without a request and returns its JSON', async () => {
      const reply = await call(server, 'listModels');
      assert.equal(reply.status, 200);
      assert.equal(reply.headers['content-type'], 'application/json; charset=utf-8');
      assert.equal(JSON.parse(reply.body)[0].name, 'pix_resnet50_cs');
    });

    it('passes a validated request through', async () => {
      const reply = await call(server, 'stopRun', { id: 'run-7' });
      assert.equal(reply.status, 200);
      assert.deepEqual(JSON.parse(reply.body), { id: 'run-7', status: 'stopping' });
      assert.deepEqual(host.calls.at(-1), { method: 'stopRun', request: { id: 'run-7' } });
    });

    it('answers an invalid request with 400 naming the field, without calling the host', async () => {
      const before = host.calls.length;
      const reply = await call(server, 'stopRun', { id: 7 });
      assert.equal(reply.status, 400);
      assert.match(JSON.parse(reply.body).error, /^stopRun: invalid request \(id: /);
      const bad = await send(server, '/api/stopRun', { method: 'POST', headers: { authorization: `Bearer ${server.token}`, 'content-type': 'application/json' }, body: '{"id":' });
      assert.equal(bad.status, 400);
      assert.match(JSON.parse(bad.body).error, /not valid JSON/);
      assert.equal(host.calls.length, before);
    });

    it('answers an unknown method with 404, prototype names included', async () => {
      for (const name of ['launchMissiles', 'constructor', '__proto__']) {
        const reply = await call(server, name);
        assert.equal(reply.status, 404, name);
        assert.match(JSON.parse(reply.body).error, /unknown method/);
      }
    });

    it('answers a host failure with 500 and its message', async () => {
      const reply = await call(server, 'getRun', { id: 'gone' });
      assert.equal(reply.status, 500);
      assert.deepEqual(JSON.parse(reply.body), { error: "no run 'gone'" });
    });

    it('wants POST, a JSON content type, and a body under the limit', async () => {
      const get = await send(server, '/api/listModels', { headers: { authorization: `Bearer ${server.token}` } });
      assert.equal(get.status, 405);
      assert.equal(get.headers.allow, 'POST');
      const form = await send(server, '/api/stopRun', { method: 'POST', headers: { authorization: `Bearer ${server.token}`, 'content-type': 'text/plain' }, body: '{"id":"x"}' });
      assert.equal(form.status, 415);
      const huge = await send(server, '/api/stopRun', { method: 'POST', headers: { authorization: `Bearer ${server.token}`, 'content-type': 'application/json', 'content-length': String(64 * 2 ** 20) } });
      assert.equal(huge.status, 413);
    });
  });

  describe('events', () => {
    it('pushes every host event to each socket as { event, payload }', async () => {
      const sockets = await Promise.all([1, 2].map(() => connect(server, ['pix-events', `pix-token.${server.token}`])));
      const received = sockets.map((socket) => {
        assert.ok(socket instanceof WebSocket);
        assert.equal(socket.protocol, 'pix-events');
        return new Promise<unknown>((resolve) => socket.once('message', (data) => resolve(JSON.parse(String(data)))));
      });
      host.emit('runLog', { id: 'run-1', lines: ['epoch 1'] });
      for (const message of await Promise.all(received)) {
        assert.deepEqual(message, { event: 'runLog', payload: { id: 'run-1', lines: ['epoch 1'] } });
      }
      for (const socket of sockets) (socket as WebSocket).close();
    });

    it('has no socket at any other path (404)', async () => {
      const status = await new Promise<number>((resolve) => {
        const socket = new WebSocket(`ws://127.0.0.1:${server.port}/api/other`, ['pix-events', `pix-token.${server.token}`]);
        socket.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      });
      assert.equal(status, 404);
    });
  });

  describe('static files', () => {
    it('serves the bundle with a strict CSP and the other security headers', async () => {
      const page = await send(server, '/');
      assert.equal(page.status, 200);
      assert.match(page.body, /PiX Workbench/);
      assert.equal(page.headers['content-type'], 'text/html; charset=utf-8');
      const csp = String(page.headers['content-security-policy']);
      assert.match(csp, /script-src 'self'(;|$)/);
      assert.match(csp, /frame-ancestors 'none'/);
      assert.match(csp, new RegExp(`connect-src 'self' ws://127\\.0\\.0\\.1:${server.port}(;|$)`));
      assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
      assert.equal(page.headers['x-content-type-options'], 'nosniff');
      assert.equal(page.headers['referrer-policy'], 'no-referrer');
      assert.equal(page.headers['x-frame-options'], 'DENY');
      const script = await send(server, '/assets/app.js');
      assert.equal(script.headers['content-type'], 'text/javascript; charset=utf-8');
      assert.ok(script.headers['content-security-policy'], 'every response has the headers');
    });

    it('refuses every way out of the bundle (404) and writes (405)', async () => {
      for (const path of ['/../secret.txt', '/assets/..%2f..%2fsecret.txt', '/%2e%2e/secret.txt', '/assets/%2e%2e%2f%2e%2e%2fsecret.txt',
        '/assets/link-out.txt', '/assets', '/assets/..\\..\\secret.txt', '/index.html%00.js', '/missing.js', `/${encodeURIComponent(secret)}`]) {
        const reply = await send(server, path);
        assert.equal(reply.status, 404, path);
        assert.doesNotMatch(reply.body, /not for the browser/);
      }
      assert.equal((await send(server, '/index.html', { method: 'PUT', body: 'x' })).status, 405);
    });
  });

  it('listens to the host only while a socket is open', async () => {
    const quiet = createFakeHost();
    const other = await startServer({ client: quiet, rendererRoot: makeRendererBundle().root, port: 0 });
    try {  // closed whatever fails: an open server would keep the test process, and the suite, waiting
      assert.equal(quiet.listenerCount(), 0, 'no browser, no subscription');
      const socket = await connect(other, ['pix-events', `pix-token.${other.token}`]);
      assert.ok(socket instanceof WebSocket);
      assert.equal(quiet.listenerCount(), workbenchEvents.length, 'one per event');
      const second = await connect(other, ['pix-events', `pix-token.${other.token}`]);
      assert.equal(quiet.listenerCount(), workbenchEvents.length, 'not one per socket');
      (second as WebSocket).terminate();
      socket.close();
      await new Promise((resolve) => socket.once('close', resolve));
      // The server learns of the closes a moment after the client does.
      for (let waited = 0; quiet.listenerCount() > 0 && waited < 2000; waited += 10) await new Promise((resolve) => setTimeout(resolve, 10));
      assert.equal(quiet.listenerCount(), 0, 'the last socket gone, the subscription is dropped');
    } finally {
      await other.close();
    }
  });

  it('closes cleanly: open sockets are told, the host is unsubscribed, the port is freed', async () => {
    const closingHost = createFakeHost();
    const other = await startServer({ client: closingHost, rendererRoot: makeRendererBundle().root, port: 0 });
    const socket = await connect(other, ['pix-events', `pix-token.${other.token}`]);
    assert.ok(socket instanceof WebSocket);
    const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
    await other.close();
    assert.equal(await closed, 1001);
    assert.equal(closingHost.listenerCount(), 0);
    await assert.rejects(send(other, '/'), /ECONNREFUSED/);
  });
});
