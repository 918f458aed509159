// The CLI's serve client against a local HTTP server that answers as a failing `pix serve` would:
// a request problem (400, 404) in the server's words, the host's failure (500, a 502 or a success
// without JSON) said to be the host's, a Host refusal (403) naming the server, and no answer (a
// refused connection, one dropped mid-answer) said unreachable, in the words the browser uses
// (shared/call_failure.ts).
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { serverApi, type ServerTarget } from '../../electron/cli/serve_client';
import { freePort } from '../helpers/free_port';

/** What each /api/<method> answers: a status and its body as sent. */
const answers: Record<string, [number, string]> = {
  listRuns: [200, '[]'],
  getRun: [404, JSON.stringify({ error: "no run with id 'x'" })],
  stopRun: [400, JSON.stringify({ error: 'stopRun: invalid request (id: too short)' })],
  listModels: [500, JSON.stringify({ error: 'ENOSPC: no space left on device' })],
  engineInfo: [502, '<html>Bad Gateway</html>'],
  throughputHistory: [200, '<html>not pix serve</html>'],
  systemStats: [403, JSON.stringify({ error: "Host 'example.com' is not this server" })],
};

describe('the CLI serve client', () => {
  let server: Server;
  let target: ServerTarget;
  const seen: { url: string | undefined; authorization: string | undefined }[] = [];

  before(async () => {
    server = createServer((request, response) => {
      seen.push({ url: request.url, authorization: request.headers.authorization });
      const method = request.url!.replace(/^\/api\//, '');
      if (method === 'deleteRun') {
        // Promises more than it sends, then hangs up: the answer is lost midway.
        response.writeHead(200, { 'content-length': 100 });
        response.write('{"del');
        setTimeout(() => response.socket?.destroy(), 20);
        return;
      }
      const [status, body] = answers[method] ?? [404, JSON.stringify({ error: `unknown method ${method}` })];
      response.writeHead(status, { 'content-type': 'application/json' }).end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    target = { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, token: 'tok', source: '--server' };
  });

  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('posts to /api/<method> with the token, and gives back the JSON answer', async () => {
    assert.deepEqual(await serverApi(target).listRuns(), []);
    assert.deepEqual(seen.at(-1), { url: '/api/listRuns', authorization: 'Bearer tok' });
  });

  it("says a request problem (4xx) in the server's words, as they are", async () => {
    const api = serverApi(target);
    await assert.rejects(api.getRun({ id: 'x' }), new Error("no run with id 'x'"));
    await assert.rejects(api.stopRun({ id: 'x' }), new Error('stopRun: invalid request (id: too short)'));
  });

  it('says a 403 (the server refused the address) with the server named', async () => {
    await assert.rejects(serverApi(target).systemStats(), new Error(`pix serve at ${target.url}: Host 'example.com' is not this server`));
  });

  it('says that the host failed (5xx, or a success that is not JSON), with its message or else the status', async () => {
    const api = serverApi(target);
    await assert.rejects(api.listModels(), new Error('The workbench host failed: ENOSPC: no space left on device'));
    await assert.rejects(api.engineInfo(), new Error('The workbench host failed: engineInfo: the server answered HTTP 502'));
    await assert.rejects(api.throughputHistory(),
      new Error('The workbench host failed: throughputHistory: the server answered HTTP 200 with a body that is not JSON'));
  });

  it('says that the server cannot be reached: a refused connection, or one lost mid-answer', async () => {
    const port = await freePort();
    await assert.rejects(serverApi({ ...target, url: `http://127.0.0.1:${port}/` }).listRuns(),
      new Error(`Cannot reach the workbench server at http://127.0.0.1:${port} (connection refused; from --server); is \`pix serve\` still running?`));
    const origin = target.url.replace(/\/$/, '');
    await assert.rejects(serverApi(target).deleteRun({ id: 'x' }), (error: Error) => {
      assert.ok(error.message.startsWith(`Cannot reach the workbench server at ${origin} (`), error.message);
      assert.ok(error.message.endsWith('; from --server); is `pix serve` still running?'), error.message);
      return true;
    });
  });
});
