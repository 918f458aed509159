// Serve mode over a real host: what a client names that is not there, or cannot be used, is the
// client's error (404 or 400, with a message naming the field and the path), not the host's 500.
// The audit found a missing checkpoint path answered with 500.
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createHost, type Host } from '../../../electron/host/api';
import { writeSafetensors } from '../../../electron/host/checkpoints/safetensors';
import { startServer, type RunningServer } from '../../../electron/host/serve/server';
import { makeRendererBundle } from './fake_host';

describe('serve mode: the client’s mistakes are 4xx', () => {
  let work: string;
  let host: Host;
  let server: RunningServer;
  let checkpoint: string;

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'pix-client-errors-'));
    checkpoint = join(work, 'tiny.safetensors');
    writeSafetensors(checkpoint, { 'fc.weight': { dtype: 'F32', shape: [2], data: new Float32Array([1, 2]) } }, { epoch: '3' });
    host = createHost({ home: join(work, 'home') });
    server = await startServer({ client: host, rendererRoot: makeRendererBundle().root, port: 0 });
  });

  after(async () => {
    await server?.close();
    await host?.close();
    rmSync(work, { recursive: true, force: true });
  });

  function call(method: string, body: unknown): Promise<{ status: number; error: string }> {
    const text = JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = httpRequest({
        host: '127.0.0.1', port: server.port, path: `/api/${method}`, method: 'POST',
        headers: { host: `127.0.0.1:${server.port}`, authorization: `Bearer ${server.token}`, 'content-type': 'application/json' },
      }, (res) => {
        let reply = '';
        res.setEncoding('utf8').on('data', (chunk: string) => (reply += chunk)).on('end', () => {
          resolve({ status: res.statusCode ?? 0, error: String((JSON.parse(reply) as { error?: unknown }).error) });
        });
      });
      req.on('error', reject).end(text);
    });
  }

  it('answers 404 naming the path for a checkpoint that does not exist', async () => {
    for (const method of ['inspectCheckpoint', 'tensorHistogram']) {
      const reply = await call(method, { path: '/nope/x.safetensors', name: 'fc.weight', bins: 4 });
      assert.deepEqual(reply, { status: 404, error: 'path: /nope/x.safetensors does not exist' }, method);
    }
    assert.deepEqual(await call('diffCheckpoints', { a: checkpoint, b: '/nope/b.pth' }), { status: 404, error: 'b: /nope/b.pth does not exist' });
    assert.deepEqual(await call('convertCheckpoint', { from: '/nope/a.pth', to: join(work, 'a.safetensors') }),
      { status: 404, error: 'from: /nope/a.pth does not exist' });
    assert.deepEqual(await call('classifyImage', { path: checkpoint, image: { file: '/nope/cat.png' } }),
      { status: 404, error: 'image.file: /nope/cat.png does not exist' });
  });

  it('answers 404 for a folder that does not exist: an output folder, a dataset', async () => {
    assert.deepEqual(await call('convertCheckpoint', { from: checkpoint, to: '/nope/out.pth' }),
      { status: 404, error: 'to: the folder /nope does not exist' });
    assert.deepEqual(await call('evaluateCheckpoint', { path: checkpoint, dataPath: '/nope/imagenet' }),
      { status: 404, error: 'dataPath: /nope/imagenet does not exist' });
    assert.deepEqual(await call('gateStatistics', { path: checkpoint, dataPath: '/nope/imagenet', images: 4 }),
      { status: 404, error: 'dataPath: /nope/imagenet does not exist' });
  });

  it('answers 400 for a path that cannot be used: relative, a folder for a file, a file for a folder', async () => {
    assert.deepEqual(await call('inspectCheckpoint', { path: 'x.pth' }), { status: 400, error: "path: 'x.pth' must be an absolute path" });
    assert.deepEqual(await call('inspectCheckpoint', { path: work }), { status: 400, error: `path: ${work} is not a file` });
    assert.deepEqual(await call('evaluateCheckpoint', { path: checkpoint, dataPath: checkpoint }), { status: 400, error: `dataPath: ${checkpoint} is not a folder` });
    assert.deepEqual(await call('convertCheckpoint', { from: checkpoint, to: checkpoint }),
      { status: 400, error: 'to: converting a file onto itself would destroy it; choose another output path' });
  });

  it('answers 400 for a file this process may not read', { skip: process.getuid?.() === 0 ? 'root reads every file' : false }, async () => {
    const locked = join(work, 'locked.safetensors');
    writeFileSync(locked, 'x');
    chmodSync(locked, 0o000);
    const reply = await call('inspectCheckpoint', { path: locked });
    assert.deepEqual(reply, { status: 400, error: `path: ${locked} cannot be read (EACCES)` });
  });

  it('answers 404 for a tensor or a run that is not there, 400 for a run config with problems', async () => {
    assert.deepEqual(await call('tensorHistogram', { path: checkpoint, name: 'nope', bins: 4 }), { status: 404, error: `${checkpoint} has no tensor named 'nope'` });
    assert.deepEqual(await call('getRun', { id: '20260101-000000-abcdef' }), { status: 404, error: "no run with id '20260101-000000-abcdef'" });
    const refused = await call('startRun', { config: { data_path: '/nope/imagenet' } });
    assert.equal(refused.status, 400);
    assert.match(refused.error, /data_path: .*\/nope\/imagenet/);
  });

  it('still answers 200 for a file that is there', async () => {
    const reply = await call('tensorHistogram', { path: checkpoint, name: 'fc.weight', bins: 2 });
    assert.equal(reply.status, 200);
  });
});
