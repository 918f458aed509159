import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { accumulate, flatParameters, makeModel, optimizerStep, STEPS } from '../../helpers/data_parallel_step';
import { freePort } from '../../helpers/free_port';
import { maxRelativeError } from '../../helpers/compare';

type RankReport = { losses: number[]; parameters: number[] } | { error: string };

function runRank(rank: number, worldSize: number, masterPort: number): Promise<{ losses: number[]; parameters: number[] }> {
  return new Promise((resolve, reject) => {
    const child = fork(join(__dirname, '..', '..', 'helpers', 'data_parallel_rank.js'), [], {
      env: { ...process.env, PIX_RANK: String(rank), PIX_WORLD_SIZE: String(worldSize), PIX_MASTER_PORT: String(masterPort), PIX_NUM_THREADS: '1' },
    });
    child.once('message', (report: RankReport) => ('error' in report ? reject(new Error(report.error)) : resolve(report)));
    child.once('exit', (code) => { if (code !== 0) reject(new Error(`rank ${rank} exited with code ${code}`)); });
  });
}

describe('data parallelism on the CPU', () => {
  it('two processes with batch B follow one process with batch 2B and per-process BatchNorm statistics', async () => {
    const port = await freePort();
    const ranks = await Promise.all([runRank(0, 2, port), runRank(1, 2, port)]);

    // The reference: the two shards as two micro-batches (BatchNorm sees each alone, as each
    // process does), each contributing half of the gradient, then one optimizer step.
    const { model, optimizer } = makeModel();
    const losses: number[] = [];
    for (let step = 0; step < STEPS; step++) {
      const l0 = await accumulate(model, 0, step, 0.5);
      const l1 = await accumulate(model, 1, step, 0.5);
      losses.push((l0 + l1) / 2);
      optimizerStep(model, optimizer);
    }
    const reference = flatParameters(model);

    assert.deepEqual(ranks[0]!.losses, ranks[1]!.losses, 'the ranks agree on the averaged loss');
    assert.deepEqual(ranks[0]!.parameters, ranks[1]!.parameters, 'the ranks hold bit-identical weights');
    // Up to floating-point order: the all-reduce sums the two gradients in another order than
    // the accumulating backward does.
    for (let step = 0; step < STEPS; step++) assert.ok(Math.abs(ranks[0]!.losses[step]! - losses[step]!) <= 1e-5 * Math.abs(losses[step]!), `loss of step ${step}`);
    const error = maxRelativeError(ranks[0]!.parameters, reference);
    assert.ok(error < 1e-5, `weights differ by ${error} relative to the largest`);
    // The check can fail: trained on rank 0's shard alone, the weights end elsewhere.
    const alone = makeModel();
    for (let step = 0; step < STEPS; step++) {
      await accumulate(alone.model, 0, step, 1);
      optimizerStep(alone.model, alone.optimizer);
    }
    assert.ok(maxRelativeError(flatParameters(alone.model), ranks[0]!.parameters) > 1e-3);
  });
});
