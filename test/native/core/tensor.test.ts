// Tensor basics through the binding: round trips, dtypes, bf16 rounding, reshape, and clear errors;
// u8 tensors (8-bit image batches) and the ops that refuse them.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadEngine, type Tensor } from '../../../electron/host/engine/addon';
import { cudaSkipReason } from '../../helpers/cuda';

const engine = loadEngine();
const { Tensor } = engine;

function list(t: Tensor): (number | bigint)[] {
  const data: Iterable<number | bigint> = t.toArray();
  return [...data];
}

describe('Tensor', () => {
  it('round-trips f32, f64 and i64 data with its shape', () => {
    const f32 = Tensor.fromArray(new Float32Array([1.5, -2, 3, 4, 5, 6]), [2, 3]);
    assert.deepEqual(f32.shape, [2, 3]);
    assert.equal(f32.dtype, 'f32');
    assert.equal(f32.device, 'cpu');
    assert.equal(f32.numel, 6);
    assert.deepEqual(list(f32), [1.5, -2, 3, 4, 5, 6]);
    const f64 = Tensor.fromArray(new Float64Array([0.1, 0.2]), [2]);
    assert.equal(f64.dtype, 'f64');
    assert.deepEqual(list(f64), [0.1, 0.2]);
    const i64 = Tensor.fromArray(new BigInt64Array([1n, -5n, 9007199254740993n]), [3]);
    assert.equal(i64.dtype, 'i64');
    assert.deepEqual(list(i64), [1n, -5n, 9007199254740993n]);
  });

  it('reads a typed array view at its byte offset', () => {
    const backing = new Float32Array([9, 9, 1, 2, 3]);
    const t = Tensor.fromArray(backing.subarray(2), [3]);
    assert.deepEqual(list(t), [1, 2, 3]);
  });

  it('rounds to bf16 to nearest even, like PyTorch', () => {
    // 1 + 2^-8 is halfway between bf16 neighbours 1 and 1 + 2^-7: ties go to the even one (1).
    // 1 + 3 * 2^-8 is halfway between 1 + 2^-7 and 1 + 2^-6: ties go to 1 + 2^-6.
    const t = Tensor.fromArray(new Float32Array([1 + 2 ** -8, 1 + 3 * 2 ** -8, 3.14159, -0, Infinity, NaN]), [6], 'bf16');
    assert.equal(t.dtype, 'bf16');
    const back = list(t);
    assert.deepEqual(back.slice(0, 5), [1, 1 + 2 ** -6, 3.140625, -0, Infinity]);
    assert.ok(Number.isNaN(back[5]));
    assert.deepEqual(list(t.cast('f32')).slice(0, 3), back.slice(0, 3));
  });

  it('zeros, reshape (shared memory) and dispose', () => {
    const z = Tensor.zeros([2, 2], 'f64');
    assert.deepEqual(list(z), [0, 0, 0, 0]);
    assert.deepEqual(z.reshape([4]).shape, [4]);
    assert.throws(() => z.reshape([3]), /cannot reshape \(2,2\) to \(3\)/);
    z.dispose();
    assert.throws(() => z.shape, /disposed/);
  });

  it('names bad arguments', () => {
    assert.throws(() => Tensor.fromArray(new Float32Array(5), [2, 3]), /data has 5 elements but shape \(2,3\) needs 6/);
    assert.throws(() => Tensor.fromArray(new Int32Array(2) as unknown as Float32Array, [2]), TypeError);
    assert.throws(() => Tensor.fromArray(new Float32Array(2), [2, -1]), /non-negative integers/);
    assert.throws(() => Tensor.fromArray(new Float32Array(2), [2], 'f16' as 'f32'), /unknown dtype 'f16'/);
    assert.throws(() => Tensor.zeros([2], 'f32', 'gpu'), /unknown device 'gpu'/);
    assert.throws(() => Tensor.fromArray(new BigInt64Array(2), [2]).cast('f32'), /only f32, f64 and bf16 convert/);
    assert.throws(() => Tensor.zeros([2 ** 40, 2 ** 40]), /too large/);
  });

  it('round-trips u8 pixels from a Uint8Array, its views, zeros and copies', () => {
    const pixels = Uint8Array.from({ length: 2 * 3 * 4 * 3 }, (_, i) => (i * 53 + 7) % 256);
    const t = Tensor.fromArray(pixels, [2, 3, 4, 3]);
    assert.equal(t.dtype, 'u8');
    assert.deepEqual(t.shape, [2, 3, 4, 3]);
    const back = t.toArray();
    assert.ok(back instanceof Uint8Array);
    assert.deepEqual(back, pixels);
    assert.deepEqual(list(Tensor.fromArray(pixels, [72], 'u8')), [...pixels]);
    const backing = Uint8Array.of(1, 2, 255, 0, 128);
    assert.deepEqual(list(Tensor.fromArray(backing.subarray(2), [3])), [255, 0, 128]);
    const copy = t.to('cpu');
    pixels.fill(0);  // the tensor owns its bytes: neither it nor its copy follows the array
    assert.deepEqual(copy.toArray(), back);
    assert.deepEqual(t.toArray(), back);
    assert.deepEqual(list(Tensor.zeros([3], 'uint8' as 'u8')), [0, 0, 0]);  // the engine also takes the long name
    assert.deepEqual(t.reshape([6, 12]).shape, [6, 12]);
  });

  it('names what u8 tensors cannot do', () => {
    const u8 = Tensor.fromArray(new Uint8Array(12), [1, 2, 2, 3]);
    assert.throws(() => Tensor.fromArray(new Uint8Array(2), [2], 'f32'), /cannot convert u8 data to f32/);
    assert.throws(() => Tensor.fromArray(new Float32Array(2), [2], 'u8'), /cannot convert f32 data to u8/);
    assert.throws(() => u8.cast('f32'), /only f32, f64 and bf16 convert, not u8 to f32/);
    assert.throws(() => Tensor.zeros([2]).cast('u8'), /only f32, f64 and bf16 convert, not f32 to u8/);
    assert.throws(() => engine.mixupApply(u8, { lam: 0.5, cutmix: false, box: { y0: 0, y1: 0, x0: 0, x1: 0 } }), /mixup_apply: x must be f32 on the cpu, got u8/);
    assert.throws(() => engine.conv2dForward(u8, Tensor.zeros([4, 1, 1, 3])), /got u8/);
    assert.throws(() => engine.globalAvgPoolForward(u8), /got u8/);
    assert.throws(() => Tensor.fromArray(new Int8Array(2) as unknown as Uint8Array, [2]), /Float32Array, Float64Array, BigInt64Array or Uint8Array/);
  });

  it('explains a CUDA device that is not there', { skip: cudaSkipReason() === false ? 'a CUDA device is present' : false }, () => {
    assert.throws(() => Tensor.zeros([2], 'f32', 'cuda:0'), /cuda:0|CUDA backend/);
  });

  it('moves to CUDA and back', { skip: cudaSkipReason() }, () => {
    const t = Tensor.fromArray(new Float32Array([1, 2, 3]), [3]).to('cuda:0');
    assert.equal(t.device, 'cuda:0');
    assert.deepEqual(list(t.cast('bf16').cast('f32')), [1, 2, 3]);
    assert.throws(() => Tensor.zeros([1], 'f32', 'cuda:63'), /cuda:63 does not exist/);
  });

  it('moves u8 tensors to CUDA and back', { skip: cudaSkipReason() }, () => {
    const pixels = Uint8Array.from({ length: 1000 }, (_, i) => (i * 31) % 256);
    const t = Tensor.fromArray(pixels, [1000], 'u8', 'cuda:0');
    assert.equal(t.device, 'cuda:0');
    assert.equal(t.dtype, 'u8');
    assert.deepEqual(t.toArray(), pixels);
    assert.deepEqual(t.to('cuda:0').to('cpu').toArray(), pixels);
  });
});
