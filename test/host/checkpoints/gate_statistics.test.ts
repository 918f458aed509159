// Gate statistics from the engine's lastGates(): with a block's squeeze weights zeroed its gates
// are exactly sigmoid(0) = tau, so every subset mixes (pick needs p < tau) and the histogram holds
// them all in the bin starting at 0.5; the other blocks' gates are sigmoid outputs in (0, 1); the
// classification of one image gives the same gates per block as a batch containing it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classifyImage, gateStatistics } from '../../../electron/host/checkpoints/gate_statistics';
import { loadEngine } from '../../../electron/host/engine/addon';
import { rng } from '../../helpers/random';

const SIZE = 16;

function images(count: number): Float32Array {
  const next = rng(11);
  return Float32Array.from({ length: count * SIZE * SIZE * 3 }, () => next() * 2 - 1);
}

describe('gate statistics', () => {
  it('reads each PiX block\'s gates: a zeroed squeeze gives tau everywhere, hence no picks', async () => {
    const engine = loadEngine();
    const model = new engine.Model('pix_resnet_tiny_cs', { seed: 3 });
    const key = 'layer2.blocks.1.conv_sqz.weight';
    const shape = model.stateEntries().find((e) => e.key === key)!.shape;
    model.setState(key, engine.Tensor.zeros(shape));
    const blocks = await gateStatistics(model, images(40), 40, SIZE);  // two forward chunks
    assert.equal(blocks.length, 6);
    const zeroed = blocks.find((b) => b.block === 'layer2.blocks.1')!;
    assert.equal(zeroed.subsets, shape[0]);
    assert.equal(zeroed.pickFraction, 0);
    assert.equal(zeroed.histogram.counts[10], 40 * zeroed.subsets);
    for (const b of blocks) {
      assert.equal(b.tau, 0.5);
      assert.equal(b.histogram.counts.reduce((x, y) => x + y, 0), 40 * b.subsets);
    }
  });

  it('gives an image the gates it has inside a batch', async () => {
    const engine = loadEngine();
    const model = new engine.Model('pix_resnet_tiny_cs', { seed: 3 });
    const batch = images(3);
    const one = batch.slice(SIZE * SIZE * 3, 2 * SIZE * SIZE * 3);
    const result = await classifyImage(model, one, SIZE, null);
    assert.equal(result.top5.length, 5);
    assert.ok(result.top5.every((c, i) => i === 0 || c.probability <= result.top5[i - 1]!.probability));
    await model.forward(engine.Tensor.fromArray(batch, [3, SIZE, SIZE, 3]), { layout: 'nhwc' });
    for (const record of model.lastGates()) {
      const k = record.values.shape[1]!;
      const second = Array.from((record.values.toArray() as Float32Array).subarray(k, 2 * k));
      const single = result.blocks.find((b) => b.block === record.block)!.gate;
      second.forEach((p, i) => assert.ok(Math.abs(p - single[i]!) < 1e-5, `${record.block}[${i}]`));
    }
  });

  it('refuses a network without gates', async () => {
    const model = new (loadEngine().Model)('resnet_tiny');
    await assert.rejects(gateStatistics(model, images(1), 1, SIZE), /resnet_tiny has no PiX gates/);
  });
});
