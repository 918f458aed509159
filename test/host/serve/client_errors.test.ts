// Serve mode over a real host: what a client names that is not there, or cannot be used, is the
// client's error (404 or 400, with a message naming the field and the path), not the host's 500.
// The audit found a missing checkpoint path answered with 500, and then a file that is not a
// checkpoint (or a damaged one), and every refusal from a task process, whose RequestError-ness was
// lost on the way back to the host.
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createHost, type Host } from '../../../electron/host/api';
import { convertCheckpoint } from '../../../electron/host/checkpoints/convert';
import { saveModelCheckpoint } from '../../../electron/host/checkpoints/model_checkpoint';
import { writeSafetensors } from '../../../electron/host/checkpoints/safetensors';
import { loadEngine } from '../../../electron/host/engine/addon';
import { startServer, type RunningServer } from '../../../electron/host/serve/server';
import { callApi } from './api_call';
import { makeRendererBundle } from './fake_host';
import { smallDigits } from '../../helpers/small_digits';

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

  async function call(method: string, body: unknown): Promise<{ status: number; error: string }> {
    const { status, error } = await callApi(server, method, body);
    return { status, error: String(error) };
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

  describe('a file that is not a checkpoint we can read is 400, naming the file and what is wrong', () => {
    let notes: string;
    let truncated: string;
    let truncatedPth: string;
    let tar: string;

    before(() => {
      notes = join(work, 'notes.txt');
      writeFileSync(notes, 'these are not weights\n');
      truncated = join(work, 'truncated.safetensors');
      const whole = readFileSync(checkpoint);
      writeFileSync(truncated, whole.subarray(0, whole.length - 4));
      const pth = join(work, 'whole.pth');
      convertCheckpoint(checkpoint, pth);
      truncatedPth = join(work, 'truncated.pth');
      const pthBytes = readFileSync(pth);
      writeFileSync(truncatedPth, pthBytes.subarray(0, pthBytes.length >> 1));
      // The tar container of torch.save before 0.1.10: 'ustar' at byte 257.
      tar = join(work, 'ancient.pth');
      const header = Buffer.alloc(1024);
      header.write('ustar', 257, 'latin1');
      writeFileSync(tar, header);
    });

    it('refuses one that is neither format, on every checkpoint read', async () => {
      const neither = `${notes}: neither a PyTorch checkpoint (.pth) nor a safetensors file`;
      assert.deepEqual(await call('inspectCheckpoint', { path: notes }), { status: 400, error: neither });
      assert.deepEqual(await call('tensorHistogram', { path: notes, name: 'fc.weight', bins: 4 }), { status: 400, error: neither });
      assert.deepEqual(await call('diffCheckpoints', { a: checkpoint, b: notes }), { status: 400, error: neither });
      assert.deepEqual(await call('convertCheckpoint', { from: notes, to: join(work, 'out.safetensors') }), { status: 400, error: neither });
    });

    it('refuses a damaged or truncated one, and an unsupported format', async () => {
      const safetensors = await call('inspectCheckpoint', { path: truncated });
      assert.equal(safetensors.status, 400);
      assert.match(safetensors.error, new RegExp(`^${truncated}: not a valid safetensors file: .*past the end`));
      const pth = await call('inspectCheckpoint', { path: truncatedPth });
      assert.equal(pth.status, 400);
      assert.ok(pth.error.startsWith(`${truncatedPth}: `), pth.error);
      const ancient = await call('inspectCheckpoint', { path: tar });
      assert.equal(ancient.status, 400);
      assert.match(ancient.error, new RegExp(`^${tar}: the tar format .* is not supported`));
    });

    it('refuses an output path whose extension names no format', async () => {
      const to = join(work, 'model.txt');
      assert.deepEqual(await call('convertCheckpoint', { from: checkpoint, to }),
        { status: 400, error: `${to}: the output must end in .safetensors, .pth or .pt, which picks its format` });
    });
  });

  describe('what a task process refuses is still 400 when it reaches the host', () => {
    let digits: string;
    let pix: string;
    let resnet: string;
    let threeClasses: string;

    before(() => {
      digits = smallDigits(1, 2);
      const { Model } = loadEngine();
      pix = join(work, 'pix.safetensors');
      saveModelCheckpoint(new Model('pix_resnet_tiny_cs', { numClasses: 10, seed: 1 }), pix);
      resnet = join(work, 'resnet.safetensors');
      saveModelCheckpoint(new Model('resnet_tiny', { numClasses: 10, seed: 1 }), resnet);
      threeClasses = join(work, 'three.safetensors');
      saveModelCheckpoint(new Model('pix_resnet_tiny_cs', { numClasses: 3, seed: 1 }), threeClasses);
    });
    after(() => rmSync(digits, { recursive: true, force: true }));

    it('refuses a file that is not a checkpoint, or one that fits no model', async () => {
      assert.deepEqual(await call('evaluateCheckpoint', { path: join(work, 'notes.txt'), dataPath: digits }),
        { status: 400, error: `${join(work, 'notes.txt')}: neither a PyTorch checkpoint (.pth) nor a safetensors file` });
      assert.deepEqual(await call('classifyImage', { path: checkpoint, image: { base64: 'AAAA' } }),
        { status: 400, error: `${checkpoint} fits none of the engine's models exactly: pass the model name` });
    });

    it('refuses an unknown model, or one the checkpoint does not fit', async () => {
      const unknown = await call('evaluateCheckpoint', { path: pix, model: 'nope', dataPath: digits });
      assert.equal(unknown.status, 400);
      assert.match(unknown.error, /^unknown model 'nope' \(valid: .*pix_resnet_tiny_cs/);
      const misfit = await call('evaluateCheckpoint', { path: pix, model: 'resnet_tiny', dataPath: digits });
      assert.equal(misfit.status, 400);
      assert.match(misfit.error, new RegExp(`^${pix}: the checkpoint does not fit resnet_tiny:\\n  missing keys: `));
    });

    it('refuses a data folder in neither layout, or with another number of classes', async () => {
      const empty = join(work, 'empty');
      mkdirSync(empty);
      const neither = await call('evaluateCheckpoint', { path: pix, dataPath: empty });
      assert.equal(neither.status, 400);
      assert.match(neither.error, new RegExp(`^dataPath: ${empty} is in none of the layouts`));
      assert.deepEqual(await call('gateStatistics', { path: threeClasses, dataPath: digits, images: 2 }),
        { status: 400, error: `dataPath: the checkpoint has 3 classes but ${digits} has 10` });
      // At input_size <= 32 images are taken as they are: the 28x28 digits cannot be evaluated at 32.
      for (const method of ['evaluateCheckpoint', 'gateStatistics']) {
        const size = await call(method, { path: pix, dataPath: digits, images: 2, inputSize: 32 });
        assert.equal(size.status, 400, method);
        assert.match(size.error, new RegExp(`^dataPath: ${digits}/val/\\d/[^:]+: the image is 28x28, but evaluation at --input_size 32`), method);
      }
    });

    it('refuses gate statistics of a ResNet, and an image that cannot be decoded', async () => {
      const gates = await call('gateStatistics', { path: resnet, dataPath: digits, images: 2 });
      assert.equal(gates.status, 400);
      assert.match(gates.error, /^resnet_tiny has no PiX gates/);
      const upload = await call('classifyImage', { path: pix, image: { base64: Buffer.from('not a picture').toString('base64') } });
      assert.equal(upload.status, 400);
      assert.match(upload.error, /^image\.base64: the uploaded image: /);
      const file = await call('classifyImage', { path: pix, image: { file: join(work, 'notes.txt') } });
      assert.equal(file.status, 400);
      assert.ok(file.error.startsWith(`image.file: ${join(work, 'notes.txt')}: `), file.error);
    });

    it('still answers 200 for a checkpoint and data that fit', async () => {
      const reply = await callApi(server, 'evaluateCheckpoint', { path: pix, dataPath: digits });
      assert.equal(reply.status, 200, reply.error);
    });
  });
});
