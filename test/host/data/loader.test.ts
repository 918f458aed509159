// Batches from the demo dataset: shapes, normalisation, reproducible order and augmentation for a
// (seed, epoch), whatever the prefetch depth; the crop parameters stay inside the image.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { scanImageNetLayout } from '../../../electron/host/data/image_folder';
import { Loader, type Batch } from '../../../electron/host/data/loader';
import { sampleRandom } from '../../../electron/host/data/sample_random';
import { randomResizedCrop, type TrainTransform } from '../../../electron/host/data/transforms';

const { train, val } = scanImageNetLayout(join(__dirname, '..', '..', '..', '..', 'resources', 'demo-digits'));
const trainTransform: TrainTransform = { kind: 'train', size: 16, scale: [0.5, 1], ratio: [0.75, 4 / 3], hflip: 0.5, interpolation: 'bicubic' };

async function firstBatches(loader: Loader, epoch: number, count: number): Promise<Batch[]> {
  const out: Batch[] = [];
  for await (const batch of loader.epoch(epoch)) {
    out.push(batch);
    if (out.length === count) break;
  }
  return out;
}

describe('Loader', () => {
  it('makes normalised NHWC batches and counts batches per epoch', async () => {
    const loader = new Loader(val.samples.slice(0, 70), {
      batchSize: 32, shuffle: false, dropLast: false, seed: 0,
      transform: { kind: 'eval', size: 24, cropPct: 0.875, interpolation: 'bicubic' },
    });
    assert.equal(loader.batchesPerEpoch(), 3);
    const batches = await firstBatches(loader, 0, 3);
    assert.deepEqual(batches.map((b) => b.size), [32, 32, 6]);
    assert.equal(batches[0]!.images.length, 32 * 24 * 24 * 3);
    // A black MNIST background is (0 - mean) / std in every channel.
    assert.ok(Math.abs(batches[0]!.images[0]! - -0.485 / 0.229) < 1e-6);
    assert.equal(batches[2]!.labels[5], val.samples[69]!.label);
  });

  it('is reproducible for a (seed, epoch), whatever the prefetch depth', async () => {
    const make = (prefetch: number) => new Loader(train.samples, { batchSize: 16, shuffle: true, dropLast: true, seed: 3, transform: trainTransform, prefetch });
    const [a] = await firstBatches(make(0), 1, 1);
    const [b] = await firstBatches(make(4), 1, 1);
    const [c] = await firstBatches(make(2), 2, 1);
    assert.deepEqual(Array.from(a!.labels), Array.from(b!.labels));
    assert.deepEqual(Array.from(a!.images), Array.from(b!.images));
    assert.notDeepEqual(Array.from(a!.labels), Array.from(c!.labels));
  });

  it('draws crops inside the image', () => {
    for (let i = 0; i < 500; i++) {
      const crop = randomResizedCrop(40, 30, [0.08, 1], [3 / 4, 4 / 3], sampleRandom(1, 0, i));
      assert.ok(crop.left >= 0 && crop.top >= 0 && crop.width >= 1 && crop.height >= 1);
      assert.ok(crop.left + crop.width <= 40 && crop.top + crop.height <= 30);
    }
  });

  it('refuses a bad batch size and an empty dataset', () => {
    assert.throws(() => new Loader(train.samples, { batchSize: 0, shuffle: false, dropLast: false, seed: 0, transform: trainTransform }), /batch size/);
    assert.throws(() => new Loader([], { batchSize: 1, shuffle: false, dropLast: false, seed: 0, transform: trainTransform }), /no samples/);
  });
});
