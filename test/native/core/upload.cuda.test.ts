// Uploads to CUDA return before the transfer is done (core/cuda/runtime.h): the bytes are staged in
// pinned buffers used in turn, the transfer queued behind the device's earlier work. Held here: the
// source may be overwritten at once; more uploads than buffers, of growing and shrinking sizes,
// each land whole while convolutions are queued before them; a size above the staging limit takes
// the waiting path; and the device's result reads back exactly. On a GPU the transfers really are
// in flight when the next upload reuses a buffer; the CUDA emulator (synchronous) checks the
// bookkeeping. Skips, saying why, without a CUDA device.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadEngine, type Tensor } from '../../../electron/host/engine/addon';
import { floats } from '../../helpers/compare';
import { cudaSkipReason } from '../../helpers/cuda';

const skip = cudaSkipReason();
const engine = loadEngine();
const { Tensor: T } = engine;

/** Values that differ per upload and per element. */
function fill(into: Float32Array, upload: number): void {
  for (let i = 0; i < into.length; i++) into[i] = upload * 1_000_003 + i;
}

describe('uploads to CUDA', { skip }, () => {
  it('land whole when the source is overwritten at once and the buffers are reused, behind queued work', () => {
    const x = T.fromArray(new Float32Array(2 * 32 * 32 * 64).fill(0.5), [2, 32, 32, 64], 'f32', 'cuda');
    const w = T.fromArray(new Float32Array(64 * 3 * 3 * 64).fill(0.01), [64, 3, 3, 64], 'f32', 'cuda');
    // Sizes cycle through small and large (the buffers grow and are reused at other sizes); one
    // source array for all, rewritten right after each upload.
    const sizes = [1 << 20, 7, 3 << 20, 1 << 10, 1 << 20, 5 << 20, 13, 2 << 20, 1 << 20, 11, 4 << 20, 1 << 19];
    const source = new Float32Array(Math.max(...sizes));
    const uploads: { tensor: Tensor; upload: number; size: number }[] = [];
    sizes.forEach((size, upload) => {
      // Device work queued before each upload, so its transfer waits behind it on a GPU.
      engine.conv2dForward(x, w, { kernel: 3, stride: 1, pad: 1 }).dispose();
      const view = source.subarray(0, size);
      fill(view, upload);
      uploads.push({ tensor: T.fromArray(view, [size], 'f32', 'cuda'), upload, size });
      fill(view, -1 - upload);  // the caller's memory is free again
    });
    for (const { tensor, upload, size } of uploads) {
      const back = floats(tensor);
      const expected = new Float32Array(size);
      fill(expected, upload);
      assert.equal(back.length, size);
      const first = back.findIndex((v, i) => v !== expected[i]);
      assert.equal(first, -1, `upload ${upload} (${size} floats): element ${first} is ${back[first]}, expected ${expected[first]}`);
      tensor.dispose();
    }
    x.dispose();
    w.dispose();
  });

  it('above the staging limit (128 MiB) still lands whole', () => {
    const size = (129 << 20) / 4;
    const source = new Float32Array(size);
    fill(source, 3);
    const t = T.fromArray(source, [size], 'f32', 'cuda');
    source.fill(0);
    const back = floats(t);
    const expected = new Float32Array(size);
    fill(expected, 3);
    assert.equal(back.findIndex((v, i) => v !== expected[i]), -1);
    t.dispose();
  });

  it('u8 and i64 batches, as the trainer uploads them, read back exactly', () => {
    const pixels = Uint8Array.from({ length: 4 * 8 * 8 * 3 }, (_, i) => (i * 37) % 256);
    const labels = BigInt64Array.from({ length: 4 }, (_, i) => BigInt(i * 3 + 1));
    const p = T.fromArray(pixels, [4, 8, 8, 3], 'u8', 'cuda');
    const l = T.fromArray(labels, [4], 'i64', 'cuda');
    pixels.fill(0);
    labels.fill(0n);
    assert.deepEqual([...(p.to('cpu').toArray() as Uint8Array)], Array.from({ length: 4 * 8 * 8 * 3 }, (_, i) => (i * 37) % 256));
    assert.deepEqual([...(l.to('cpu').toArray() as BigInt64Array)], [1n, 4n, 7n, 10n]);
    p.dispose();
    l.dispose();
  });
});
