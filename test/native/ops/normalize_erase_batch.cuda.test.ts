// normalizeEraseBatch on CUDA against the CPU (native/src/ops/normalize_erase_batch.h): the same
// float32 bytes for every erasing mode, several and overlapping boxes, null entries, other
// statistics and a 224-pixel batch; the result stays on the input's device. Bit-identity is by
// construction (the host's table, noise from correctly rounded operations: image/normal_draws.h),
// and this is where it is checked. Skips, printing why, where no CUDA device is usable.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadEngine } from '../../../electron/host/engine/addon';
import { cudaSkipReason } from '../../helpers/cuda';
import { floatBytes, randomEraseCase } from '../../helpers/erase_batches';

const skip = cudaSkipReason();
const engine = loadEngine();
const { Tensor: T } = engine;

describe('normalizeEraseBatch CUDA vs CPU', { skip }, () => {
  const cases = [[11, 8, 17, 23], [12, 16, 64, 48], [13, 4, 224, 224], [14, 1, 1, 1], [15, 32, 7, 9]] as const;
  for (const [seed, n, h, w] of cases) {
    it(`${n}x${h}x${w}, every mode`, () => {
      const { pixels, erase } = randomEraseCase(seed, n, h, w);
      const stats = seed % 2 ? {} : { mean: [0.5, 0.4, 0.3] as [number, number, number], std: [0.25, 0.5, 1.5] as [number, number, number] };
      const cpu = engine.normalizeEraseBatch(T.fromArray(pixels, [n, h, w, 3]), { ...stats, erase });
      const cuda = engine.normalizeEraseBatch(T.fromArray(pixels, [n, h, w, 3], 'u8', 'cuda'), { ...stats, erase });
      assert.equal(cuda.device, 'cuda:0');
      assert.equal(cuda.dtype, 'f32');
      assert.ok(floatBytes(cuda.toArray() as Float32Array).equals(floatBytes(cpu.toArray() as Float32Array)));
    });
  }

  it('a whole-image pixel-mode box on every sample (the most noise per batch)', () => {
    const [n, h, w] = [16, 96, 96];
    const pixels = new Uint8Array(n * h * w * 3).fill(9);
    const erase = Array.from({ length: n }, (_, i) => ({ boxes: [{ top: 0, left: 0, height: h, width: w }], mode: 'pixel' as const, seed: 2 ** 52 + i }));
    const cpu = engine.normalizeEraseBatch(T.fromArray(pixels, [n, h, w, 3]), { erase });
    const cuda = engine.normalizeEraseBatch(T.fromArray(pixels, [n, h, w, 3], 'u8', 'cuda'), { erase });
    assert.ok(floatBytes(cuda.toArray() as Float32Array).equals(floatBytes(cpu.toArray() as Float32Array)));
  });

  it('names bad arguments on CUDA too', () => {
    const x = T.fromArray(new Uint8Array(2 * 4 * 5 * 3), [2, 4, 5, 3], 'u8', 'cuda');
    assert.throws(() => engine.normalizeEraseBatch(x, { erase: [null, { boxes: [{ top: 0, left: 3, height: 1, width: 3 }], mode: 'rand', seed: 0 }] }),
      /sample 1: box \(top 0, left 3, 1x3\) is not inside the 5x4 image/);
    assert.throws(() => engine.normalizeEraseBatch(T.zeros([2, 4, 5, 3], 'f32', 'cuda'), {}), /x must be u8/);
  });
});
