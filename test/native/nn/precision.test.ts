// The CPU compute-precision switch (setCpuPrecision): with bf16 matrix products (operands rounded to
// bf16, sums in f32) a small PiX network's logits stay within 2e-2 of its f32 logits, and the switch
// reads back, refuses unknown names and is restored to fp32 after each test.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyState } from '../../../electron/host/checkpoints/model_state';
import type { StoredTensor } from '../../../electron/host/checkpoints/safetensors';
import { loadEngine, type CpuPrecision } from '../../../electron/host/engine/addon';
import { floats, maxRelativeError } from '../../helpers/compare';
import { readFixture } from '../../helpers/fixtures';

const engine = loadEngine();
const { Model, Tensor } = engine;
const TOLERANCE = 2e-2;

async function withPrecision<T>(precision: CpuPrecision, body: () => Promise<T>): Promise<T> {
  const before = engine.cpuPrecision();
  engine.setCpuPrecision(precision);
  try {
    return await body();
  } finally {
    engine.setCpuPrecision(before);
  }
}

describe('CPU compute precision', () => {
  it('is fp32 until set, reads back what was set, and names the valid values', () => {
    assert.equal(engine.cpuPrecision(), 'fp32');
    try {
      engine.setCpuPrecision('bf16');
      assert.equal(engine.cpuPrecision(), 'bf16');
      assert.throws(() => engine.setCpuPrecision('f16' as CpuPrecision),
        /setCpuPrecision: precision must be 'fp32' or 'bf16', got 'f16'/);
      assert.throws(() => engine.setCpuPrecision(undefined as unknown as CpuPrecision), TypeError);
      assert.equal(engine.cpuPrecision(), 'bf16');
    } finally {
      engine.setCpuPrecision('fp32');
    }
  });

  it(`keeps pix_resnet_tiny_cs logits within ${TOLERANCE} of f32 with bf16 products`, async () => {
    const fixture = readFixture('pix_resnet_tiny_cs.safetensors').tensors;
    const state = new Map<string, StoredTensor>();
    for (const [key, value] of fixture) if (key.startsWith('state.')) state.set(key.slice('state.'.length), value);
    const model = new Model('pix_resnet_tiny_cs');
    applyState(model, state, { strict: true });
    const input = fixture.get('input')!;
    const x = Tensor.fromArray(input.data as Float32Array, input.shape);

    const f32 = floats(await model.forward(x));
    const bf16 = floats(await withPrecision('bf16', () => model.forward(x)));
    assert.equal(engine.cpuPrecision(), 'fp32');
    const error = maxRelativeError(bf16, f32);
    assert.ok(error <= TOLERANCE, `bf16 logits: relative error ${error.toExponential(2)} > ${TOLERANCE}`);
    assert.ok(error > 0, 'bf16 logits equal the f32 ones: the switch did not reach the layers');
  });
});
