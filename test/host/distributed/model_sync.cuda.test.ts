// Data parallelism on CUDA through NCCL, the CPU check (model_sync.test.ts) again: two processes
// with batch B, each on its own device, must follow one process with batch 2B and per-process
// BatchNorm statistics (issue #8's effective batch), up to float order, and hold bit-identical
// weights; with SyncBatchNorm, one process with batch 2B and full-batch statistics. Runs on the CUDA emulator with its NCCL stand-in (PIX_CUDA_EMULATOR_DEVICES=2 for the
// ranks) or on a machine with two GPUs and NCCL; skips, printing why, elsewhere.
import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { accumulateBoth, accumulateOn, makeCudaModel } from '../../helpers/data_parallel_cuda';
import { flatParameters, optimizerStep, STEPS } from '../../helpers/data_parallel_step';
import { maxRelativeError } from '../../helpers/compare';
import { assertFollowsOneProcess } from '../../helpers/data_parallel_check';
import { twoRankNcclSkipReason } from '../../helpers/cuda';
import { freePort } from '../../helpers/free_port';

interface RankReport { losses: number[]; parameters: number[]; backend: string }


function runRank(rank: number, worldSize: number, masterPort: number, syncBatchNorm = false): Promise<RankReport> {
  return new Promise((resolve, reject) => {
    const child = fork(join(__dirname, '..', '..', 'helpers', 'data_parallel_cuda.js'), [], {
      env: { ...process.env, PIX_RANK: String(rank), PIX_WORLD_SIZE: String(worldSize), PIX_MASTER_PORT: String(masterPort),
        PIX_DATA_PARALLEL_CUDA: '1', PIX_CUDA_EMULATOR_DEVICES: '2', PIX_NUM_THREADS: '1', PIX_SYNC_BN: syncBatchNorm ? '1' : '0' },
    });
    child.once('message', (report: RankReport | { error: string }) => ('error' in report ? reject(new Error(`rank ${rank}: ${report.error}`)) : resolve(report)));
    child.once('exit', (code) => { if (code !== 0) reject(new Error(`rank ${rank} exited with code ${code}`)); });
  });
}

describe('data parallelism on CUDA through NCCL', { skip: twoRankNcclSkipReason() }, () => {
  it('two processes with batch B follow one process with batch 2B and per-process BatchNorm statistics', { timeout: 10 * 60_000 }, async () => {
    const port = await freePort();
    const ranks = await Promise.all([runRank(0, 2, port), runRank(1, 2, port)]);
    assert.deepEqual(ranks.map((r) => r.backend), ['nccl', 'nccl']);

    // The reference on one device.
    const device = 'cuda:0';
    await assertFollowsOneProcess(ranks, {
      make: () => makeCudaModel(device),
      accumulate: (model, shard, step, gradScale) => accumulateOn(model, device, shard, step, gradScale),
    });
  });

  it('with SyncBatchNorm, two processes with batch B follow one process with batch 2B and full-batch statistics', { timeout: 10 * 60_000 }, async () => {
    const port = await freePort();
    const ranks = await Promise.all([runRank(0, 2, port, true), runRank(1, 2, port, true)]);
    assert.deepEqual(ranks[0]!.losses, ranks[1]!.losses, 'the ranks agree on the averaged loss');
    assert.deepEqual(ranks[0]!.parameters, ranks[1]!.parameters, 'the ranks hold bit-identical weights');

    // One process, both shards as one batch: BatchNorm sees all 2B images at once.
    const device = 'cuda:0';
    const whole = makeCudaModel(device);
    const losses: number[] = [];
    for (let step = 0; step < STEPS; step++) {
      losses.push(await accumulateBoth(whole.model, device, step));
      optimizerStep(whole.model, whole.optimizer);
    }
    for (let step = 0; step < STEPS; step++) {
      assert.ok(Math.abs(ranks[0]!.losses[step]! - losses[step]!) <= 1e-5 * Math.abs(losses[step]!), `loss of step ${step}: ${ranks[0]!.losses[step]} against ${losses[step]}`);
    }
    const error = maxRelativeError(ranks[0]!.parameters, flatParameters(whole.model));
    assert.ok(error < 1e-5, `weights differ by ${error} relative to the largest`);

    // The check can fail: with per-process statistics (each shard normalised alone) the weights end elsewhere.
    const apart = makeCudaModel(device);
    for (let step = 0; step < STEPS; step++) {
      await accumulateOn(apart.model, device, 0, step, 0.5);
      await accumulateOn(apart.model, device, 1, step, 0.5);
      optimizerStep(apart.model, apart.optimizer);
    }
    assert.ok(maxRelativeError(flatParameters(apart.model), flatParameters(whole.model)) > 100 * Math.max(error, 1e-7));
  });
});
