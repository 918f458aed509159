// The real training worker under the run manager, end to end on a small copy of the demo digits
// (pix_resnet_tiny_cs at 28x28, 12 steps per epoch): a run killed with SIGKILL after its first
// checkpoint is failed, names that checkpoint, and a resume finishes it from there — the epochs
// continue, no epoch is trained twice, and the step count ends where an uninterrupted run would.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { RunSummary, WorkbenchEvent } from '../../../shared/api';
import { resolveRunConfig } from '../../../electron/host/runs/run_config';
import { RunManager } from '../../../electron/host/runs/run_manager';
import { RunStore } from '../../../electron/host/runs/run_store';
import { smallDigits } from '../../helpers/small_digits';

describe('training worker', () => {
  it('survives SIGKILL after a checkpoint: failed, then resumed to completion from that checkpoint', async () => {
    const store = new RunStore(mkdtempSync(join(tmpdir(), 'pix-home-')));
    const events: { event: WorkbenchEvent; payload: unknown }[] = [];
    const manager = new RunManager({ store, cudaDevices: 0, emit: (event, payload) => events.push({ event, payload }) });
    const id = store.newId();
    const resolved = resolveRunConfig({
      model: 'pix_resnet_tiny_cs', data_path: smallDigits(), input_size: 28, batch_size: 25, epochs: 3, opt: 'momentum', lr: 0.05,
      warmup_epochs: 0, aa: 'none', reprob: 0, mixup: 0, cutmix: 0, hflip: 0, scale: [0.6, 1], test_freq: 1, num_workers: 0, seed: 1,
    }, store.folderOf(id));
    const summary = () => manager.list().find((s) => s.id === id)!;
    const until = async (wanted: (s: RunSummary) => boolean, what: string) => {
      for (let i = 0; i < 3000 && !wanted(summary()); i++) await new Promise((r) => setTimeout(r, 10));
      assert.ok(wanted(summary()), `${what}: ${JSON.stringify(summary())}`);
    };

    manager.create(id, 'sigkill', resolved);
    await until((s) => s.epoch >= 1 && s.step > 12, 'trained into the second epoch');
    process.kill(manager.workerPid(id)!, 'SIGKILL');
    await until((s) => s.status === 'failed', 'failed after SIGKILL');
    const failed = summary();
    assert.match(failed.error!, /killed by SIGKILL before reporting an outcome; resume continues from checkpoint-\d/);

    manager.resume(id);
    await until((s) => s.status === 'completed', 'completed after resume');
    const detail = manager.get(id);
    assert.deepEqual(detail.epochRecords.map((r) => r.epoch), [...new Set(detail.epochRecords.map((r) => r.epoch))], 'no epoch logged twice');
    assert.equal(detail.epochRecords.at(-1)!.epoch, 2);
    assert.equal(detail.step, 36);
    assert.ok(detail.logTail.some((l) => /resumed from .*checkpoint-\d\.safetensors/.test(l)), detail.logTail.join('\n'));
    assert.equal(JSON.parse(readFileSync(join(store.folderOf(id), 'run.json'), 'utf8')).attempts, 2);
    // The iteration events of both attempts, batched: a handful per second, never one per step.
    const batches = events.filter((e) => e.event === 'runIterations').length;
    const points = events.filter((e) => e.event === 'runIterations').flatMap((e) => (e.payload as { points: unknown[] }).points).length;
    assert.ok(points >= 36 && batches < points, `${batches} batches for ${points} points`);
    const series = manager.series(id, { metric: 'loss', axis: 'epoch', maxPoints: 1000 });
    assert.equal(series.totalPoints, 36);
    assert.deepEqual([series.xMin, series.xMax], [0, 2 + 11 / 12]);
  });

  it('trains a run asking for two CPU processes, its peer rank a child of the worker', async () => {
    const store = new RunStore(mkdtempSync(join(tmpdir(), 'pix-home-')));
    const manager = new RunManager({ store, cudaDevices: 0, emit: () => {} });
    const id = store.newId();
    const port = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const { port: free } = server.address() as { port: number };
        server.close(() => resolve(free));
      });
    });
    manager.create(id, 'two ranks', resolveRunConfig({
      model: 'pix_resnet_tiny_cs', data_path: smallDigits(), input_size: 28, batch_size: 10, epochs: 1, opt: 'momentum', lr: 0.05,
      warmup_epochs: 0, aa: 'none', reprob: 0, mixup: 0, cutmix: 0, hflip: 0, scale: [0.6, 1], test_freq: 1, num_workers: 0, seed: 1,
      nproc_per_node: 2, master_port: port,
    }, store.folderOf(id)));
    for (let i = 0; i < 3000 && !['completed', 'failed'].includes(manager.list()[0]!.status); i++) await new Promise((r) => setTimeout(r, 10));
    const detail = manager.get(id);
    assert.equal(detail.status, 'completed', detail.error ?? detail.logTail.join('\n'));
    // 300 images / (2 ranks x 10) = 15 steps.
    assert.equal(detail.step, 15);
    assert.equal(detail.epochRecords.length, 1);
  });
});
