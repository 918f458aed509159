// batchInput (electron/host/train/batch_input.ts): an f32 batch goes to the device as it is; a u8
// batch is normalised and erased there, giving the f32 batch's bytes for the same samples, on the
// CPU and (where a device is usable) on CUDA.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { scanImageNetLayout } from '../../../electron/host/data/image_folder';
import { Loader, type Batch } from '../../../electron/host/data/loader';
import { trainTransformFromFlags } from '../../../electron/host/data/transforms';
import { batchInput } from '../../../electron/host/train/batch_input';
import { cudaSkipReason } from '../../helpers/cuda';
import { floatBytes } from '../../helpers/erase_batches';

const { train } = scanImageNetLayout(join(__dirname, '..', '..', '..', '..', 'resources', 'demo-digits'));
const transform = trainTransformFromFlags({ input_size: 16, scale: [0.5, 1], hflip: 0.5, train_interpolation: 'bicubic',
  aa: 'rand-m7-mstd0.5-inc1', reprob: 0.5, remode: 'pixel', recount: 1 });
const options = { batchSize: 12, shuffle: true, dropLast: true, seed: 9, transform };

async function first<O extends 'f32' | 'u8'>(loader: Loader<O>): Promise<Batch<O>> {
  for await (const batch of loader.epoch(3)) return batch;
  throw new Error('no batch');
}

describe('batchInput', () => {
  const batches = Promise.all([first(new Loader(train.samples, options)), first(new Loader(train.samples, { ...options, output: 'u8' }))]);

  it('passes an f32 batch through and normalises a u8 batch to the same bytes on the CPU', async () => {
    const [f32, u8] = await batches;
    assert.ok(u8.erase.some((e) => e !== null), 'the batch has erased samples');
    const a = batchInput(f32, 16, 'cpu');
    const b = batchInput(u8, 16, 'cpu');
    for (const t of [a, b]) {
      assert.deepEqual(t.shape, [12, 16, 16, 3]);
      assert.equal(t.dtype, 'f32');
    }
    assert.ok(floatBytes(a.toArray() as Float32Array).equals(floatBytes(f32.images)));
    assert.ok(floatBytes(b.toArray() as Float32Array).equals(floatBytes(f32.images)));
  });

  it('does the same on CUDA', { skip: cudaSkipReason() }, async () => {
    const [f32, u8] = await batches;
    const b = batchInput(u8, 16, 'cuda:0');
    assert.equal(b.device, 'cuda:0');
    assert.ok(floatBytes(b.toArray() as Float32Array).equals(floatBytes(f32.images)));
  });
});
