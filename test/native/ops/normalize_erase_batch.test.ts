// normalizeEraseBatch on the CPU (native/src/ops/normalize_erase_batch.h): a u8 batch (N,H,W,3)
// becomes exactly the floats normalizeErase writes image by image, for every erasing mode, several
// and overlapping boxes, samples without erasing, empty boxes and other statistics; the noise of a
// sample depends on its own seed only, not on its slot. Bad arguments are named.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadEngine } from '../../../electron/host/engine/addon';
import { floatBytes as bytes, perImage, randomEraseCase } from '../../helpers/erase_batches';

const engine = loadEngine();
const { Tensor: T } = engine;


describe('normalizeEraseBatch on the CPU', () => {
  for (const [seed, n, h, w] of [[1, 8, 17, 23], [2, 5, 32, 32], [3, 12, 9, 40], [4, 1, 1, 1]] as const) {
    it(`gives normalizeErase's floats image by image (${n}x${h}x${w}, every mode)`, () => {
      const { pixels, erase } = randomEraseCase(seed, n, h, w);
      const y = engine.normalizeEraseBatch(T.fromArray(pixels, [n, h, w, 3]), { erase });
      assert.equal(y.dtype, 'f32');
      assert.equal(y.device, 'cpu');
      assert.deepEqual(y.shape, [n, h, w, 3]);
      assert.ok(bytes(y.toArray() as Float32Array).equals(bytes(perImage(pixels, n, h, w, erase))));
    });
  }

  it('overlapping boxes: the last one drawn stays, with noise indices running on from the boxes before', () => {
    const [n, h, w] = [3, 12, 12];
    const pixels = new Uint8Array(n * h * w * 3).fill(200);
    const boxes = [{ top: 0, left: 0, height: 8, width: 8 }, { top: 4, left: 4, height: 8, width: 8 }];
    const erase = (['pixel', 'rand', 'const'] as const).map((mode) => ({ boxes, mode, seed: 77 }));
    const y = engine.normalizeEraseBatch(T.fromArray(pixels, [n, h, w, 3]), { erase }).toArray() as Float32Array;
    assert.ok(bytes(y).equals(bytes(perImage(pixels, n, h, w, erase))));
    // In 'rand' mode the second box has its own colour, not the first box's.
    const at = (sample: number, row: number, col: number) => Array.from(y.subarray(((sample * h + row) * w + col) * 3, ((sample * h + row) * w + col) * 3 + 3));
    assert.notDeepEqual(at(1, 0, 0), at(1, 11, 11));
    assert.deepEqual(at(1, 5, 5), at(1, 11, 11));
    assert.deepEqual(at(2, 5, 5), [0, 0, 0]);
  });

  it('normalises only, with any statistics, when nothing is erased', () => {
    const { pixels } = randomEraseCase(5, 4, 6, 7);
    const stats = { mean: [0.5, 0.25, 0] as [number, number, number], std: [0.5, 2, 0.1] as [number, number, number] };
    const x = T.fromArray(pixels, [4, 6, 7, 3]);
    const y = engine.normalizeEraseBatch(x, stats).toArray() as Float32Array;
    assert.ok(bytes(y).equals(bytes(perImage(pixels, 4, 6, 7, undefined, stats))));
    const nulls = engine.normalizeEraseBatch(x, { ...stats, erase: [null, null, null, null] }).toArray() as Float32Array;
    assert.ok(bytes(nulls).equals(bytes(y)));
    assert.deepEqual(engine.normalizeEraseBatch(T.zeros([0, 4, 4, 3], 'u8'), {}).shape, [0, 4, 4, 3]);
  });

  it("a sample's noise is its seed's, whatever its slot and its neighbours", () => {
    const { pixels, erase } = randomEraseCase(6, 4, 10, 10);
    erase[0] = { boxes: [{ top: 1, left: 1, height: 8, width: 8 }], mode: 'pixel', seed: 12345 };
    const x = T.fromArray(pixels, [4, 10, 10, 3]);
    const y = engine.normalizeEraseBatch(x, { erase }).toArray() as Float32Array;
    const flipped = Uint8Array.from(pixels);
    flipped.set(pixels.subarray(0, 300), 900);
    flipped.set(pixels.subarray(900), 0);
    const moved = [erase[3]!, erase[1]!, erase[2]!, erase[0]];
    const z = engine.normalizeEraseBatch(T.fromArray(flipped, [4, 10, 10, 3]), { erase: moved }).toArray() as Float32Array;
    assert.ok(bytes(z.subarray(900)).equals(bytes(y.subarray(0, 300))));
  });

  it('names bad arguments', () => {
    const x = T.fromArray(new Uint8Array(2 * 4 * 5 * 3), [2, 4, 5, 3]);
    assert.throws(() => engine.normalizeEraseBatch(T.zeros([2, 4, 5, 3]), {}), /normalize_erase_batch: x must be u8 \(8-bit pixels\), got f32/);
    assert.throws(() => engine.normalizeEraseBatch(T.zeros([2, 4, 5, 4], 'u8'), {}), /x must be \(N,H,W,3\), got \(2,4,5,4\)/);
    assert.throws(() => engine.normalizeEraseBatch(T.zeros([4, 5, 3], 'u8'), {}), /x must be \(N,H,W,3\), got \(4,5,3\)/);
    assert.throws(() => engine.normalizeEraseBatch(x, { erase: [null] }), /erase has 1 entries for a batch of 2/);
    assert.throws(() => engine.normalizeEraseBatch(x, { erase: [null, { boxes: [{ top: 2, left: 0, height: 3, width: 1 }], mode: 'pixel', seed: 1 }] }),
      /sample 1: box \(top 2, left 0, 3x1\) is not inside the 5x4 image/);
    assert.throws(() => engine.normalizeEraseBatch(x, { erase: [null, { boxes: [], mode: 'noise' as 'pixel', seed: 1 }] }), /mode must be 'pixel', 'rand' or 'const', got 'noise'/);
    assert.throws(() => engine.normalizeEraseBatch(x, { erase: [null, { boxes: [], mode: 'pixel', seed: -1 }] }), /seed must be a non-negative integer/);
    assert.throws(() => engine.normalizeEraseBatch(x, { erase: [null, 3 as unknown as null] }), /erase\[1\] must be null or \{ boxes, mode, seed \}/);
    assert.throws(() => engine.normalizeEraseBatch(x, { std: [0.2, 0, 0.2] }), /std non-zero, got mean\[1\] = [0-9.]+, std\[1\] = 0/);
    assert.throws(() => engine.normalizeEraseBatch(new Uint8Array(3) as unknown as ReturnType<typeof T.zeros>, {}), /argument 'x' must be a Tensor/);
  });
});
