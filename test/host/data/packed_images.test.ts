// Images held in memory (CIFAR-100's, data/cifar.ts) through the loader: at --input_size 32 the
// official small-input transforms take their pixels exactly; above it evaluation is PIL's resize and
// centre crop; and batches are the same bytes on worker threads (which read the shared pixels in
// place) as on the calling thread, for the f32 and u8 outputs alike.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { readCifar100 } from '../../../electron/host/data/cifar';
import { packedPixels } from '../../../electron/host/data/image_folder';
import { Loader, type Batch } from '../../../electron/host/data/loader';
import { evalTransformFromFlags, IMAGENET_MEAN, IMAGENET_STD, trainTransformFromFlags, type Transform } from '../../../electron/host/data/transforms';
import { loadEngine } from '../../../electron/host/engine/addon';
import { fixturesDir } from '../../helpers/fixtures';

const root = join(fixturesDir, 'cifar', 'py2');
const test = readCifar100(root, 'test');
const train = readCifar100(root, 'train');

async function batches<O extends 'f32' | 'u8'>(samples: typeof train.samples, transform: Transform, numWorkers: number, output: O): Promise<Batch<O>[]> {
  const loader = new Loader<O>(samples, { batchSize: 8, shuffle: transform.kind === 'train', dropLast: false, seed: 3, transform, numWorkers, output });
  const out: Batch<O>[] = [];
  for await (const batch of loader.epoch(1)) out.push(batch);
  return out;
}

function normalised(pixels: Uint8Array): Float32Array {
  return Float32Array.from(pixels, (v, i) => (v / 255 - IMAGENET_MEAN[i % 3]!) / IMAGENET_STD[i % 3]!);
}

function assertClose(actual: Float32Array, expected: Float32Array, what: string): void {
  assert.equal(actual.length, expected.length, what);
  for (let i = 0; i < actual.length; i++) {
    if (Math.abs(actual[i]! - expected[i]!) > 1e-5) assert.fail(`${what}: value ${i} is ${actual[i]}, expected ${expected[i]}`);
  }
}

describe('packed images in the loader', () => {
  it('evaluates at --input_size 32 on the pixels as they are, normalised', async () => {
    const [first] = await batches(test.samples, evalTransformFromFlags({ input_size: 32 }), 0, 'f32');
    const image = 32 * 32 * 3;
    for (let slot = 0; slot < 8; slot++) {
      const sample = test.samples[first!.indices[slot]!]!;
      assertClose(first!.images.subarray(slot * image, (slot + 1) * image), normalised(packedPixels(sample.packed!)), `image ${slot}`);
      assert.equal(first!.labels[slot], sample.label);
    }
  });

  it("evaluates above 32 as torchvision's Resize and CenterCrop of the PIL image", async () => {
    // input 64, crop_pct 0.875: the whole 32x32 image resized to 73x73 (bicubic), then the 64x64 window at (4, 4).
    const [first] = await batches(test.samples, evalTransformFromFlags({ input_size: 64 }), 0, 'f32');
    const engine = loadEngine();
    const sample = test.samples[first!.indices[2]!]!;
    const full = new Uint8Array(73 * 73 * 3);
    engine.resizeImage(packedPixels(sample.packed!), 32, 32, full, 73, 73, { resample: 'bicubic' });
    const window = new Uint8Array(64 * 64 * 3);
    for (let y = 0; y < 64; y++) window.set(full.subarray(((y + 4) * 73 + 4) * 3, ((y + 4) * 73 + 68) * 3), y * 64 * 3);
    assertClose(first!.images.subarray(2 * 64 * 64 * 3, 3 * 64 * 64 * 3), normalised(window), 'resized image 2');
  });

  for (const size of [32, 48]) {
    it(`trains at --input_size ${size} with the same bytes on worker threads as on this thread, f32 and u8`, async () => {
      const transform = trainTransformFromFlags({ input_size: size, scale: [0.08, 1], hflip: 0.5, train_interpolation: 'random',
        aa: 'rand-m9-mstd0.5-inc1', reprob: 0.25, remode: 'pixel', recount: 1 });
      const here = await batches(train.samples, transform, 0, 'f32');
      const threads = await batches(train.samples, transform, 2, 'f32');
      assert.equal(here.length, 5);
      assert.deepEqual(threads.map((b) => [...b.indices]), here.map((b) => [...b.indices]));
      for (let b = 0; b < here.length; b++) assert.ok(Buffer.from(threads[b]!.images.buffer).equals(Buffer.from(here[b]!.images.buffer)), `batch ${b}`);
      const bytes = await batches(train.samples, transform, 2, 'u8');
      const bytesHere = await batches(train.samples, transform, 0, 'u8');
      for (let b = 0; b < here.length; b++) assert.ok(Buffer.from(bytes[b]!.images).equals(Buffer.from(bytesHere[b]!.images)), `u8 batch ${b}`);
      // The augmentation ran: no training image is its stored pixels.
      if (size === 32) {
        const stored = packedPixels(train.samples[here[0]!.indices[0]!]!.packed!);
        assert.ok(!Buffer.from(bytesHere[0]!.images.subarray(0, stored.length)).equals(Buffer.from(stored)));
      }
    });
  }
});
