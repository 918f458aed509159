// Batches from the demo dataset: shapes, normalisation, reproducible order and augmentation for a
// (seed, epoch), the same bytes whatever the prefetch depth or worker count, ranks that split the
// data like DistributedSampler, workers that stop with the consumer, and bad files skipped,
// replaced and listed up to a limit; u8 batches that normalise on the device to the f32 batches'
// bytes; the crop parameters stay inside the image.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { scanImageFolder, scanImageNetLayout } from '../../../electron/host/data/image_folder';
import { Loader, type Batch, type LoaderOptions } from '../../../electron/host/data/loader';
import { sampleRandom } from '../../../electron/host/data/sample_random';
import { IMAGENET_DEFAULT, IMAGENET_INCEPTION, randomResizedCrop, trainTransformFromFlags, type TrainTransform } from '../../../electron/host/data/transforms';
import { liveLoaderWorkers } from '../../../electron/host/data/worker_pool';
import { batchInput } from '../../../electron/host/train/batch_input';
import { imageTree } from '../../helpers/image_tree';

process.env.XDG_CACHE_HOME = mkdtempSync(join(tmpdir(), 'pix-cache-'));

const { train, val } = scanImageNetLayout(join(__dirname, '..', '..', '..', '..', 'resources', 'demo-digits'));
const trainTransform: TrainTransform = { kind: 'train', size: 16, scale: [0.5, 1], ratio: [0.75, 4 / 3], hflip: 0.5, interpolation: 'bicubic' };

async function allBatches(loader: Loader, epoch: number): Promise<Batch[]> {
  const out: Batch[] = [];
  for await (const batch of loader.epoch(epoch)) out.push(batch);
  return out;
}

async function allBatches8(loader: Loader<'u8'>, epoch: number): Promise<Batch<'u8'>[]> {
  const out: Batch<'u8'>[] = [];
  for await (const batch of loader.epoch(epoch)) out.push(batch);
  return out;
}

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

  it('normalises with the transform\'s mean and std: (pixel / 255 - mean) / std, in both batch forms, on any worker count', async () => {
    const samples = val.samples.slice(0, 12);
    for (const normalization of [IMAGENET_INCEPTION, IMAGENET_DEFAULT]) {
      for (const transform of [{ kind: 'eval', size: 20, cropPct: 0.875, interpolation: 'bicubic', normalization } as const,
        trainTransformFromFlags({ input_size: 20, scale: [0.5, 1], hflip: 0.5, train_interpolation: 'bicubic', aa: 'none', reprob: 0,
          remode: 'pixel', recount: 1, imagenet_default_mean_and_std: normalization === IMAGENET_DEFAULT })]) {
        for (const numWorkers of [0, 2]) {
          const base = { batchSize: 6, shuffle: true, dropLast: false, seed: 4, transform, numWorkers };
          const f32 = await allBatches(new Loader(samples, base), 1);
          const u8 = await allBatches8(new Loader(samples, { ...base, output: 'u8' }), 1);
          u8.forEach((batch, b) => {
            assert.deepEqual(batch.normalization, normalization);
            const floats = f32[b]!.images;
            let worst = 0;
            batch.images.forEach((p, i) => {
              const c = i % 3;
              worst = Math.max(worst, Math.abs(floats[i]! - (p / 255 - normalization.mean[c]!) / normalization.std[c]!));
            });
            assert.ok(worst < 1e-6, `batch ${b}: ${worst}`);
            const onDevice = batchInput(batch, 20, 'cpu');
            assert.ok(Buffer.from((onDevice.toArray() as Float32Array).buffer).equals(Buffer.from(floats.buffer)), `batch ${b} differs on the device`);
            onDevice.dispose();
          });
        }
      }
    }
    // An MNIST background pixel (0) with the Inception mean and std is exactly -1.
    const [first] = await firstBatches(new Loader(samples, { batchSize: 2, shuffle: false, dropLast: false, seed: 0,
      transform: { kind: 'eval', size: 20, cropPct: 0.875, interpolation: 'bicubic', normalization: IMAGENET_INCEPTION } }), 0, 1);
    assert.equal(first!.images[0], -1);
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

  it('gives bit-identical batches with 0, 1 and 3 workers', async () => {
    const samples = train.samples.slice(0, 200);
    // The full recipe transform: RandAugment and random erasing run in the engine, on each worker's thread.
    const transform = trainTransformFromFlags({ input_size: 16, scale: [0.5, 1], hflip: 0.5, train_interpolation: 'random',
      aa: 'rand-m9-mstd0.5-inc1', reprob: 0.5, remode: 'pixel', recount: 1 });
    const make = (numWorkers: number) => new Loader(samples, { batchSize: 24, shuffle: true, dropLast: true, seed: 5, transform, numWorkers });
    const [inline, one, three] = await Promise.all([0, 1, 3].map((w) => allBatches(make(w), 2)));
    assert.equal(inline!.length, 8);
    for (const other of [one!, three!]) {
      assert.equal(other.length, inline!.length);
      other.forEach((batch, b) => {
        assert.deepEqual(batch.indices, inline![b]!.indices);
        assert.deepEqual(batch.labels, inline![b]!.labels);
        assert.ok(Buffer.from(batch.images.buffer).equals(Buffer.from(inline![b]!.images.buffer)), `batch ${b} differs`);
      });
    }
    assert.equal(liveLoaderWorkers(), 0);
  });

  it('splits an epoch between ranks like DistributedSampler, padding from the start', async () => {
    const samples = val.samples.slice(0, 10);
    const options = (rank: number): LoaderOptions => ({ batchSize: 2, shuffle: false, dropLast: false, seed: 0, rank, worldSize: 3,
      transform: { kind: 'eval', size: 8, cropPct: 0.875, interpolation: 'bicubic' } });
    const seen = await Promise.all([0, 1, 2].map(async (rank) => (await allBatches(new Loader(samples, options(rank)), 0)).flatMap((b) => [...b.indices])));
    assert.deepEqual(seen, [[0, 3, 6, 9], [1, 4, 7, 0], [2, 5, 8, 1]]);
    assert.equal(new Loader(samples, options(1)).batchesPerEpoch(), 2);
    assert.throws(() => new Loader(samples, options(3)), /rank must be an integer in \[0, 3\), got 3/);
  });

  it('stops its workers when the consumer stops early', async () => {
    const loader = new Loader(train.samples.slice(0, 400), { batchSize: 16, shuffle: true, dropLast: true, seed: 1, transform: trainTransform, numWorkers: 3 });
    for await (const batch of loader.epoch(0)) {
      assert.equal(batch.size, 16);
      assert.equal(liveLoaderWorkers(), 3);
      break;
    }
    assert.equal(liveLoaderWorkers(), 0);
  });

  it('lets the process exit when a consumer abandons an epoch without closing it', () => {
    const script = `
      const { Loader } = require(${JSON.stringify(join(__dirname, '..', '..', '..', 'electron', 'host', 'data', 'loader.js'))});
      const samples = ${JSON.stringify(train.samples.slice(0, 200))};
      const loader = new Loader(samples, { batchSize: 16, shuffle: true, dropLast: true, seed: 1, numWorkers: 2,
        transform: ${JSON.stringify(trainTransform)} });
      loader.epoch(0).next().then((r) => console.log('got', r.value.size));`;
    const result = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(result.signal, null, 'the process hung');
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stdout.trim(), 'got 16');
  });

  it('fails on an error other than a bad image, from a worker as from this thread', async () => {
    for (const numWorkers of [0, 1]) {
      const loader = new Loader(val.samples.slice(0, 4), { batchSize: 2, shuffle: false, dropLast: false, seed: 0, numWorkers,
        transform: { kind: 'eval', size: 1e6, cropPct: 0.875, interpolation: 'bicubic' } });
      await assert.rejects(allBatches(loader, 0), /Invalid typed array length/);
      assert.equal(liveLoaderWorkers(), 0);
    }
  });

  it('draws crops inside the image', () => {
    for (let i = 0; i < 500; i++) {
      const crop = randomResizedCrop(40, 30, [0.08, 1], [3 / 4, 4 / 3], sampleRandom(1, 0, i));
      assert.ok(crop.left >= 0 && crop.top >= 0 && crop.width >= 1 && crop.height >= 1);
      assert.ok(crop.left + crop.width <= 40 && crop.top + crop.height <= 30);
    }
  });

  it('refuses a bad worker count or bad-file fraction', () => {
    const base = { batchSize: 1, shuffle: false, dropLast: false, seed: 0, transform: trainTransform };
    assert.throws(() => new Loader(train.samples, { ...base, numWorkers: -1 }), /worker count must be a non-negative integer, got -1/);
    assert.throws(() => new Loader(train.samples, { ...base, maxBadFraction: 2 }), /bad-file fraction must be in \[0, 1\], got 2/);
  });

  it('refuses a bad batch size and an empty dataset', () => {
    assert.throws(() => new Loader(train.samples, { batchSize: 0, shuffle: false, dropLast: false, seed: 0, transform: trainTransform }), /batch size/);
    assert.throws(() => new Loader([], { batchSize: 1, shuffle: false, dropLast: false, seed: 0, transform: trainTransform }), /no samples/);
  });
});

describe('Loader with bad files', () => {
  const planted = imageTree(8, true);
  const evalTransform = { kind: 'eval', size: 16, cropPct: 0.875, interpolation: 'bicubic' } as const;

  it('skips each bad file, replaces it with the next good one of the order, and lists it', async () => {
    const { root, bad } = await planted;
    const folder = scanImageFolder(join(root, 'train'));
    assert.equal(folder.samples.length, 20);
    for (const numWorkers of [0, 2]) {
      const loader = new Loader(folder.samples, { batchSize: 5, shuffle: false, dropLast: false, seed: 0, transform: evalTransform, maxBadFraction: 0.25, numWorkers });
      const batches = await allBatches(loader, 0);
      assert.deepEqual(batches.map((b) => b.size), [5, 5, 5, 5]);
      const badIndex = new Set(bad.map((path) => folder.samples.findIndex((s) => s.path === path)));
      const used = batches.flatMap((b) => [...b.indices]);
      // Position p of a bad file holds the first good index after it: a000_truncated (1) -> a001 (2),
      // a001_empty (3) -> a002 (4), b000_text (11) -> b001 (12), b001_corrupt (13) -> b002 (14).
      assert.deepEqual(used, folder.samples.map((_, p) => {
        let q = p;
        while (badIndex.has(q)) q++;
        return q;
      }));
      assert.deepEqual(batches.flatMap((b) => [...b.labels]), used.map((i) => folder.samples[i]!.label));
      assert.deepEqual(loader.badFiles().map((f) => f.path), bad);
      for (const file of loader.badFiles()) assert.ok(file.reason.length > 0);
    }
  });

  it('delivers u8 batches that normalise to the f32 batches, bad files replaced, with and without workers', async () => {
    const { root } = await planted;
    const folder = scanImageFolder(join(root, 'train'));
    const transform = trainTransformFromFlags({ input_size: 16, scale: [0.25, 1], hflip: 0.5, train_interpolation: 'random',
      aa: 'rand-m9-mstd0.5-inc1', reprob: 1, remode: 'pixel', recount: 2 });
    const base = { batchSize: 5, shuffle: true, dropLast: true, seed: 2, transform, maxBadFraction: 0.25 };
    const f32 = await allBatches(new Loader(folder.samples, base), 0);
    for (const numWorkers of [0, 2]) {
      const u8 = await allBatches8(new Loader(folder.samples, { ...base, output: 'u8', numWorkers }), 0);
      assert.equal(u8.length, f32.length);
      u8.forEach((batch, b) => {
        assert.equal(batch.output, 'u8');
        assert.ok(batch.images instanceof Uint8Array);
        assert.equal(batch.erase.length, batch.size);
        assert.deepEqual(batch.indices, f32[b]!.indices);
        assert.deepEqual(batch.labels, f32[b]!.labels);
        const y = batchInput(batch, 16, 'cpu');
        assert.ok(Buffer.from((y.toArray() as Float32Array).buffer).equals(Buffer.from(f32[b]!.images.buffer)), `batch ${b} differs`);
      });
    }
    assert.equal(liveLoaderWorkers(), 0);
    assert.throws(() => new Loader(folder.samples, { ...base, output: 'f16' as 'u8' }), /the loader's output must be 'f32' or 'u8', got 'f16'/);
  });

  it('fails with the list once the bad files exceed the allowed fraction', async () => {
    const { root } = await planted;
    const folder = scanImageFolder(join(root, 'train'));
    // The same batch fails with the same count and list whatever the worker count and timing.
    const failures = await Promise.all([0, 3].map(async (numWorkers) => {
      const listed: string[] = [];
      const loader = new Loader(folder.samples, { batchSize: 5, shuffle: true, dropLast: true, seed: 0, transform: trainTransform, maxBadFraction: 0.1,
        numWorkers, onBadFile: (file) => listed.push(file.path) });
      let delivered = 0;
      const error = await (async () => {
        for await (const _ of loader.epoch(0)) delivered++;
      })().then(() => undefined, (e: Error) => e.message);
      return { error, delivered, listed };
    }));
    assert.match(failures[0]!.error!, /^3 of 20 images could not be decoded, more than the allowed 0\.1 of the dataset \(--max_bad_fraction\): .*pix data check/);
    assert.match(failures[1]!.error!, /^3 of 20 images/);
    // (The decoder's wording of a reason may differ between threads, so the reasons are not compared.)
    assert.deepEqual([failures[1]!.delivered, failures[1]!.listed], [failures[0]!.delivered, failures[0]!.listed]);
    assert.equal(failures[0]!.listed.length, 3);
  });
});
