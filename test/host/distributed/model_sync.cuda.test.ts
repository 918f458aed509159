// Data parallelism on CUDA through NCCL, the CPU check (model_sync.test.ts) again: two processes
// with batch B, each on its own device, must follow one process with batch 2B and per-process
// BatchNorm statistics (issue #8's effective batch), up to float order, and hold bit-identical
// weights. Runs on the CUDA emulator with its NCCL stand-in (PIX_CUDA_EMULATOR_DEVICES=2 for the
// ranks) or on a machine with two GPUs and NCCL; skips, printing why, elsewhere.
import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { accumulateOn, makeCudaModel } from '../../helpers/data_parallel_cuda';
import { flatParameters, optimizerStep, STEPS } from '../../helpers/data_parallel_step';
import { twoRankNcclSkipReason } from '../../helpers/cuda';
import { freePort } from '../../helpers/free_port';
import { maxRelativeError } from '../../helpers/compare';

interface RankReport { losses: number[]; parameters: number[]; backend: string }


function runRank(rank: number, worldSize: number, masterPort: number): Promise<RankReport> {
  return new Promise((resolve, reject) => {
    const child = fork(join(__dirname, '..', '..', 'helpers', 'data_parallel_cuda.js'), [], {
      env: { ...process.env, PIX_RANK: String(rank), PIX_WORLD_SIZE: String(worldSize), PIX_MASTER_PORT: String(masterPort),
        PIX_DATA_PARALLEL_CUDA: '1', PIX_CUDA_EMULATOR_DEVICES: '2', PIX_NUM_THREADS: '1' },
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

    // The reference on one device: the two shards as two micro-batches, each half the gradient.
    const device = 'cuda:0';
    const { model, optimizer } = makeCudaModel(device);
    const losses: number[] = [];
    for (let step = 0; step < STEPS; step++) {
      const l0 = await accumulateOn(model, device, 0, step, 0.5);
      const l1 = await accumulateOn(model, device, 1, step, 0.5);
      losses.push((l0 + l1) / 2);
      optimizerStep(model, optimizer);
    }
    const reference = flatParameters(model);

    assert.deepEqual(ranks[0]!.losses, ranks[1]!.losses, 'the ranks agree on the averaged loss');
    assert.deepEqual(ranks[0]!.parameters, ranks[1]!.parameters, 'the ranks hold bit-identical weights');
    for (let step = 0; step < STEPS; step++) assert.ok(Math.abs(ranks[0]!.losses[step]! - losses[step]!) <= 1e-5 * Math.abs(losses[step]!), `loss of step ${step}`);
    const error = maxRelativeError(ranks[0]!.parameters, reference);
    assert.ok(error < 1e-5, `weights differ by ${error} relative to the largest`);
    // The check can fail: trained on rank 0's shard alone, the weights end elsewhere.
    const alone = makeCudaModel(device);
    for (let step = 0; step < STEPS; step++) {
      await accumulateOn(alone.model, device, 0, step, 1);
      optimizerStep(alone.model, alone.optimizer);
    }
    assert.ok(maxRelativeError(flatParameters(alone.model), ranks[0]!.parameters) > 1e-3);
  });
});
