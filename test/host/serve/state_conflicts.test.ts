// Serve mode over a real host (runs trained by the stand-in worker, comparisons by the real one):
// an action the named thing's current state does not allow is 409 Conflict with a message naming
// the state, not the host's 500 — resume, delete or start into the folder of a running run, stop a
// stopped one, start a comparison while one runs, cancel one that ended; a run asking for devices
// this machine lacks or a malformed run id is 400, a comparison never started 404.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { RunSummary, ThroughputReport } from '../../../shared/api';
import { createHost, type Host } from '../../../electron/host/api';
import { startServer, type RunningServer } from '../../../electron/host/serve/server';
import { callApi } from './api_call';
import { makeRendererBundle } from './fake_host';

const FAKE_WORKER = join(__dirname, '..', 'jobs', 'fake_worker.js');
/** The demo digits; the stand-in worker takes batch_size milliseconds a step, 3 steps an epoch: about 10 minutes, stopped long before. */
const LONG_RUN = { data_path: '', epochs: 300, batch_size: 600 };

async function until<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  for (let i = 0; i < 1000; i++) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`never got ${what}`);
}

describe('serve mode: actions the current state does not allow are 409', () => {
  let work: string;
  let host: Host;
  let server: RunningServer;

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'pix-conflicts-'));
    host = createHost({ home: join(work, 'home'), runWorkerScript: FAKE_WORKER });
    server = await startServer({ client: host, rendererRoot: makeRendererBundle().root, port: 0 });
  });

  after(async () => {
    await server?.close();
    await host?.close();
    rmSync(work, { recursive: true, force: true });
  });

  const call = async (method: string, request: unknown) => {
    const { status, error } = await callApi(server, method, request);
    return { status, error };
  };

  it('refuses to resume or delete a running run, or start another into its folder; stops it, then refuses to stop it again', async () => {
    const started = await callApi(server, 'startRun', { name: 'long', config: LONG_RUN });
    assert.equal(started.status, 200, started.error);
    const run = started.body as RunSummary;
    assert.equal(run.status, 'running');

    assert.deepEqual(await call('resumeRun', { id: run.id }),
      { status: 409, error: `run ${run.id} is running; only a stopped or failed run can be resumed` });
    assert.deepEqual(await call('deleteRun', { id: run.id }), { status: 409, error: `run ${run.id} is running: stop it before deleting it` });
    assert.deepEqual(await call('startRun', { config: { ...LONG_RUN, output_dir: run.outputDir } }), {
      status: 409,
      error: `output_dir ${run.outputDir} is the folder of run ${run.id}, which is running: choose another folder, or wait until that run ends`,
    });

    assert.equal((await callApi(server, 'stopRun', { id: run.id })).status, 200);
    await until('the run stopped', async () => {
      const detail = (await callApi(server, 'getRun', { id: run.id })).body as RunSummary;
      return detail.status === 'stopped' ? detail : undefined;
    });
    assert.deepEqual(await call('stopRun', { id: run.id }), { status: 409, error: `run ${run.id} is stopped; there is nothing to stop` });
    assert.equal((await callApi(server, 'deleteRun', { id: run.id })).status, 200, 'a stopped run may be deleted');
    assert.deepEqual((await host.api.listRuns()).map((r) => r.id), []);
  });

  it('answers 400 for a run asking for a GPU this machine does not have, and for a malformed run id', async () => {
    // A CPU-only build refuses any CUDA device in the config's checks, a CUDA build one it lacks
    // there too, and more processes than GPUs in the run manager's: all as the config's problem.
    for (const config of [{ device: 'cuda:99' }, { device: 'cuda', nproc_per_node: 64 }]) {
      const gpu = await call('startRun', { config: { ...LONG_RUN, ...config } });
      assert.equal(gpu.status, 400, gpu.error);
      assert.match(gpu.error!, /^the run config has problems: (device|nproc_per_node): /);
    }
    assert.deepEqual(await call('getRun', { id: '../x' }), { status: 400, error: "'../x' is not a run id" });
    assert.deepEqual(await call('resumeRun', { id: 'no-such-run' }), { status: 404, error: "no run with id 'no-such-run'" });
  });

  it('refuses a second comparison while one runs, and cancelling one that ended; 404 for one never started', async () => {
    const request = { models: ['pix_resnet_tiny_cs'], device: 'cpu', precision: 'fp32', mode: 'infer', batchSizes: [1], inputSize: 32, repeats: 100 };
    const first = await callApi(server, 'startThroughput', request);
    assert.equal(first.status, 200, first.error);
    const { id } = first.body as ThroughputReport;
    assert.deepEqual(await call('startThroughput', request), { status: 409, error: `comparison ${id} is still running: cancel it or wait for it` });
    assert.equal((await callApi(server, 'cancelThroughput', { id })).status, 200);
    await until('the comparison in the history', async () =>
      ((await callApi(server, 'throughputHistory')).body as ThroughputReport[]).find((r) => r.id === id));
    assert.deepEqual(await call('cancelThroughput', { id }), { status: 409, error: `comparison ${id} is not running: it was cancelled` });
    assert.deepEqual(await call('cancelThroughput', { id: 'nope' }), { status: 404, error: "no comparison with id 'nope'" });
  });
});
