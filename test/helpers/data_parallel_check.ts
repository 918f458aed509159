// What both data-parallel equivalence tests assert (model_sync.test.ts on the CPU ring,
// model_sync.cuda.test.ts through NCCL): two ranks of batch B against one process of batch 2B with
// per-process BatchNorm statistics, given how that one process builds its model and accumulates a
// shard's gradient on its device.
import assert from 'node:assert/strict';
import type { Model, Optimizer } from '../../electron/host/engine/addon';
import { maxRelativeError } from './compare';
import { flatParameters, optimizerStep, STEPS } from './data_parallel_step';

export interface RankOutcome {
  losses: number[];
  parameters: number[];
}

export interface SingleProcess {
  make(): { model: Model; optimizer: Optimizer };
  accumulate(model: Model, shard: number, step: number, gradScale: number): Promise<number>;
}

export async function assertFollowsOneProcess(ranks: RankOutcome[], single: SingleProcess): Promise<void> {
  // The reference: the two shards as two micro-batches (BatchNorm sees each alone, as each
  // process does), each contributing half of the gradient, then one optimizer step.
  const { model, optimizer } = single.make();
  const losses: number[] = [];
  for (let step = 0; step < STEPS; step++) {
    const l0 = await single.accumulate(model, 0, step, 0.5);
    const l1 = await single.accumulate(model, 1, step, 0.5);
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
  const alone = single.make();
  for (let step = 0; step < STEPS; step++) {
    await single.accumulate(alone.model, 0, step, 1);
    optimizerStep(alone.model, alone.optimizer);
  }
  assert.ok(maxRelativeError(flatParameters(alone.model), ranks[0]!.parameters) > 1e-3);
}
