// The run manager with stand-in workers (fake_worker.ts, no engine): statuses from queued to
// completed with batched events, one CPU run at a time with queue positions, stop of a running and
// of a queued run, a crash that leaves a failed run which resumes from its checkpoint, a host
// restart that marks a run whose worker is gone as interrupted, and deletion rules.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { RunSummary, WorkbenchEvent, WorkbenchEvents } from '../../../shared/api';
import { defaultRunConfig, type RunConfig } from '../../../shared/config';
import { RequestError } from '../../../electron/host/request_error';
import { INTERRUPTED, RunManager } from '../../../electron/host/runs/run_manager';
import { RunStore } from '../../../electron/host/runs/run_store';

const FAKE = join(__dirname, '..', 'jobs', 'fake_worker.js');

function harness(home = mkdtempSync(join(tmpdir(), 'pix-home-')), cudaDevices = 0) {
  const events: { event: WorkbenchEvent; payload: unknown }[] = [];
  const store = new RunStore(home);
  const manager = new RunManager({
    store, cudaDevices, workerScript: FAKE, heartbeatTimeoutMs: 5000,
    emit: (event, payload) => events.push({ event, payload }),
  });
  const start = (behaviour: string, overrides: Partial<RunConfig> = {}) => {
    const id = store.newId();
    const config = { ...defaultRunConfig(), model: `fake-${behaviour}`, epochs: 2, batch_size: 5, output_dir: store.folderOf(id), ...overrides };
    return manager.create(id, behaviour, { config, dataset: '' });
  };
  const until = async (id: string, wanted: (s: RunSummary) => boolean) => {
    for (let i = 0; i < 1000; i++) {
      const summary = manager.list().find((s) => s.id === id)!;
      if (wanted(summary)) return summary;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`run ${id} never reached the wanted state: ${JSON.stringify(manager.list().find((s) => s.id === id))}`);
  };
  const of = <E extends WorkbenchEvent>(event: E, id: string) =>
    events.filter((e) => e.event === event && (e.payload as { id: string }).id === id).map((e) => e.payload as WorkbenchEvents[E]);
  return { home, store, manager, events, start, until, of };
}

describe('RunManager', () => {
  it('runs a queued run to completion and reports it through events and getRun', async () => {
    const h = harness();
    const created = h.start('normal');
    assert.equal(created.status, 'running');
    const done = await h.until(created.id, (s) => s.status === 'completed');
    assert.equal(done.epoch, 2);
    assert.equal(done.step, 6);
    assert.equal(done.totalSteps, 6);
    assert.equal(done.bestAcc1, 20);
    const statuses = h.of('runUpdated', created.id).map((s) => s.status);
    assert.deepEqual([...new Set(statuses)], ['queued', 'running', 'completed']);
    assert.equal(h.of('runIterations', created.id).flatMap((e) => e.points).length, 6);
    assert.equal(h.of('runEpoch', created.id).length, 2);
    const detail = h.manager.get(created.id);
    assert.deepEqual(detail.epochRecords.map((r) => r.epoch), [0, 1]);
    assert.deepEqual(detail.checkpoints.map((c) => c.name), ['checkpoint-1', 'checkpoint-0']);
    assert.ok(detail.logTail.some((l) => l.includes('attempt 1 on cpu')));
    assert.ok(detail.logTail.some((l) => l === 'epoch 1: train loss 0.5000 test acc1 20.00%'), 'each epoch summarised in the console');
    const record = JSON.parse(readFileSync(join(h.store.folderOf(created.id), 'run.json'), 'utf8')) as { status: string; imagesPerSecond: number };
    assert.equal(record.status, 'completed');
    // The speed of its last steps outlives the worker, in the summary and on disk (the stand-in reports 100 images/s).
    assert.equal(done.imagesPerSecond, 100);
    assert.equal(record.imagesPerSecond, 100);
  });

  it('runs one CPU run at a time and shows the others their queue position', async () => {
    const h = harness();
    const a = h.start('slow', { batch_size: 20 });
    const b = h.start('normal');
    const c = h.start('normal');
    assert.deepEqual([b.status, b.queuePosition, c.queuePosition], ['queued', 1, 2]);
    h.manager.stop(c.id);  // a queued run stops at once
    assert.equal(h.manager.list().find((s) => s.id === c.id)!.status, 'stopped');
    await h.until(a.id, (s) => s.status === 'completed');
    await h.until(b.id, (s) => s.status === 'completed');
    assert.ok(h.of('runUpdated', b.id).some((s) => s.status === 'queued' && s.queuePosition === 1));
  });

  it('stops a running run after its step; resume continues after the saved checkpoint', async () => {
    const h = harness();
    const run = h.start('slow', { epochs: 40, batch_size: 20 });
    await h.until(run.id, (s) => s.step >= 1);
    assert.equal(h.manager.stop(run.id).status, 'stopping');
    const stopped = await h.until(run.id, (s) => s.status === 'stopped');
    assert.equal(stopped.error, null);
    assert.throws(() => h.manager.stop(run.id), /is stopped; there is nothing to stop/);
    h.manager.resume(run.id);
    await h.until(run.id, (s) => s.status === 'running');
    h.manager.stop(run.id);
    await h.until(run.id, (s) => s.status === 'stopped');
    const detail = h.manager.get(run.id);
    assert.equal(detail.config.auto_resume, true);
    assert.ok(detail.logTail.some((l) => /resumed at epoch [1-9]/.test(l)), detail.logTail.join('\n'));
  });

  it('marks a crashed run failed, naming the checkpoint a resume continues from', async () => {
    const h = harness();
    const run = h.start('crash', { epochs: 3 });
    const failed = await h.until(run.id, (s) => s.status === 'failed');
    assert.match(failed.error!, /exited with code 3 before reporting an outcome; no checkpoint was saved yet/);
    assert.throws(() => h.manager.resume('nope'), /no run with id 'nope'/);
  });

  it('after a host restart, a run recorded as running becomes failed (interrupted) and can be resumed', async () => {
    const h = harness();
    const run = h.start('slow', { epochs: 40, batch_size: 20 });
    await h.until(run.id, (s) => s.step >= 1);
    // A second host on the same home sees 'running' in run.json with no worker of its own.
    const restarted = harness(h.home);
    const after = restarted.manager.list().find((s) => s.id === run.id)!;
    assert.equal(after.status, 'failed');
    assert.equal(after.error, INTERRUPTED);
    await h.manager.close();  // the first host goes away; its worker saved on the way out
    restarted.manager.resume(run.id);
    await restarted.until(run.id, (s) => s.status === 'running' && s.step > 3);
    restarted.manager.stop(run.id);
    await restarted.until(run.id, (s) => s.status === 'stopped');
    assert.ok(restarted.manager.get(run.id).logTail.some((l) => /resumed at epoch [1-9]/.test(l)));
  });

  it('refuses to delete an active run and deletes a finished one with its folder', async () => {
    const h = harness();
    const run = h.start('slow', { epochs: 40, batch_size: 20 });
    assert.throws(() => h.manager.delete(run.id), /is running: stop it before deleting it/);
    h.manager.stop(run.id);
    await h.until(run.id, (s) => s.status === 'stopped');
    h.manager.delete(run.id);
    assert.deepEqual(h.manager.list(), []);
    assert.deepEqual(h.of('runDeleted', run.id), [{ id: run.id }]);
    assert.throws(() => h.store.read(run.id), /no run with id/);
    assert.throws(() => h.manager.get('../etc'), /'..\/etc' is not a run id/);
  });

  it('queues GPU runs by device count and refuses what the machine cannot give', async () => {
    const h = harness(undefined, 2);
    const two = h.start('slow', { device: 'cuda', nproc_per_node: 2, batch_size: 20, epochs: 40 });
    const one = h.start('normal', { device: 'cuda' });
    assert.deepEqual([two.status, two.device, two.gpus], ['running', 'cuda:0,cuda:1', 2]);
    assert.deepEqual([one.status, one.queuePosition], ['queued', 1]);
    assert.throws(() => h.start('normal', { device: 'cuda', nproc_per_node: 3 }),
      (e: unknown) => e instanceof RequestError && e.status === 400 && /^the run config has problems: device: nproc_per_node 3 asks for 3 GPUs; this machine has 2$/.test(e.message));
    h.manager.stop(two.id);
    await h.until(one.id, (s) => s.status === 'completed');
    assert.equal(h.manager.list().find((s) => s.id === one.id)!.device, 'cuda:0');
  });

  it('refuses to resume, as a conflict (409), a run whose GPU this machine no longer has', async () => {
    const h = harness(undefined, 2);
    const run = h.start('slow', { device: 'cuda:1', batch_size: 20, epochs: 40 });
    h.manager.stop(run.id);
    await h.until(run.id, (s) => s.status === 'stopped');
    await h.manager.close();
    const fewer = harness(h.home, 1);
    assert.throws(() => fewer.manager.resume(run.id), (e: unknown) => e instanceof RequestError && e.status === 409 &&
      e.message === `run ${run.id} cannot resume on this machine: device cuda:1: this machine has CUDA devices 0..0`);
  });
});
