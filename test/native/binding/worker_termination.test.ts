// A worker thread terminated while it is inside an engine call must not take the process down.
// Node stops a terminated worker's JavaScript; the engine call then returns into an environment that
// can no longer throw, and an error the binding tries to raise there would end in std::terminate
// (SIGABRT) unless the binding gives such errors up (NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS). The
// loader's decode workers are terminated this way when a run stops, so CI once lost a training run
// to it. The workers run in a child process, so an abort shows here as its signal, not as a crash
// of the test runner.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { it } from 'node:test';

const CHILD = `
const { Worker } = require('node:worker_threads');
const addon = ${JSON.stringify(join(__dirname, '..', '..', '..', 'electron', 'host', 'engine', 'addon.js'))};
// Each worker raises engine errors (a JPEG header that is not one, or, in a build without
// libjpeg, a bad shape) and makes engine tensors in a loop, so a termination lands inside an engine
// call with some certainty.
const body = \`
  const engine = require(\${JSON.stringify(addon)}).loadEngine();
  const garbage = new Uint8Array([0xff, 0xd8, 0xff, 0x00, 1, 2, 3]);
  const fail = engine.jpegInfo ? () => engine.jpegInfo(garbage) : () => engine.Tensor.zeros([-1]);
  require('node:worker_threads').parentPort.postMessage('ready');
  for (;;) {
    try { fail(); } catch {}
    engine.Tensor.zeros([64], 'f32').dispose();
  }
\`;
async function round() {
  const workers = Array.from({ length: 3 }, () => new Worker(body, { eval: true }));
  await Promise.all(workers.map((w) => new Promise((resolve) => w.once('message', resolve))));
  await new Promise((resolve) => setTimeout(resolve, Math.random() * 5));
  await Promise.all(workers.map((w) => w.terminate()));
}
(async () => { for (let i = 0; i < 30; i++) await round(); console.log('survived'); })();
`;

it('terminating worker threads in the middle of engine calls leaves the process alive', () => {
  const child = spawnSync(process.execPath, ['-e', CHILD], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(child.signal, null, `the process died of ${child.signal}: ${child.stderr.slice(-2000)}`);
  assert.equal(child.status, 0, child.stderr.slice(-2000));
  assert.match(child.stdout, /survived/);
});
