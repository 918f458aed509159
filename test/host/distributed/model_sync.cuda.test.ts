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
import { assertFollowsOneProcess } from '../../helpers/data_parallel_check';
import { twoRankNcclSkipReason } from '../../helpers/cuda';
import { freePort } from '../../helpers/free_port';

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

    // The reference on one device.
    const device = 'cuda:0';
    await assertFollowsOneProcess(ranks, {
      make: () => makeCudaModel(device),
      accumulate: (model, shard, step, gradScale) => accumulateOn(model, device, shard, step, gradScale),
    });
  });
});
