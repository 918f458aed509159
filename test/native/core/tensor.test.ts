// Tensor basics through the binding: round trips, dtypes, bf16 rounding, reshape, and clear errors.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadEngine, type Tensor } from '../../../electron/host/engine/addon';
import { cudaSkipReason } from '../../helpers/cuda';

const { Tensor } = loadEngine();

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

  it('explains a CUDA device that is not there', { skip: cudaSkipReason() === false ? 'a CUDA device is present' : false }, () => {
    assert.throws(() => Tensor.zeros([2], 'f32', 'cuda:0'), /cuda:0|CUDA backend/);
  });

  it('moves to CUDA and back', { skip: cudaSkipReason() }, () => {
    const t = Tensor.fromArray(new Float32Array([1, 2, 3]), [3]).to('cuda:0');
    assert.equal(t.device, 'cuda:0');
    assert.deepEqual(list(t.cast('bf16').cast('f32')), [1, 2, 3]);
    assert.throws(() => Tensor.zeros([1], 'f32', 'cuda:63'), /cuda:63 does not exist/);
  });
});
