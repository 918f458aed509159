// A model's whole state made random, with BatchNorm far from the identity: what tests of folded
// BatchNorm need, since a fresh model's statistics (mean 0, variance 1) would hide a wrong fold.
import { loadEngine, type Model } from '../../electron/host/engine/addon';
import { randomValues, rng } from './random';

/** Random weights and statistics (running variance in [0.25, 2.25)), on the model's device. */
export function randomizeState(model: Model, seed: number): void {
  const { Tensor } = loadEngine();
  const next = rng(seed);
  for (const e of model.stateEntries()) {
    if (e.kind === 'bn_num_batches_tracked') continue;
    const count = e.shape.reduce((a, b) => a * b, 1);
    const values = Float32Array.from(randomValues(next, count), (v) => {
      if (e.kind === 'bn_running_var') return 1.25 + v;
      if (e.kind === 'bn_weight') return 1 + 0.5 * v;
      return e.kind === 'conv_weight' ? 0.3 * v : 0.5 * v;
    });
    model.setState(e.key, Tensor.fromArray(values, e.shape, 'f32', model.device));
  }
}
