// The official build_transform at input_size <= 32 (electron/host/data/small_input.ts, through
// transforms.ts and the loader): training's zero-padded RandomCrop pixel for pixel against an
// explicit pad-and-slice, its offsets drawn top, then left, then the flip (nothing drawn for a crop
// of the padded image's own size), a refusal of images too small even padded; evaluation without
// Resize or CenterCrop (the image's own pixels, any other size refused by name); PNGs through sharp
// and JPEGs through the engine's decode; both batch forms (f32, and u8 normalised by batchInput);
// and the flags that choose the branch.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { torchRandint } from '../../../electron/host/data/augment/python_numbers';
import { BadImageError } from '../../../electron/host/data/bad_image';
import { scanImageNetLayout } from '../../../electron/host/data/image_folder';
import { Loader, type Batch } from '../../../electron/host/data/loader';
import type { Random } from '../../../electron/host/data/sample_random';
import {
  evalTransformFromFlags, IMAGENET_DEFAULT, IMAGENET_INCEPTION, loadImage, loadPixelsInto, trainTransformFromFlags, type Transform,
} from '../../../electron/host/data/transforms';
import { loadEngine } from '../../../electron/host/engine/addon';
import { batchInput } from '../../../electron/host/train/batch_input';
import { floatBytes } from '../../helpers/erase_batches';
import { syntheticPixels } from '../../helpers/image_tree';

const dir = mkdtempSync(join(tmpdir(), 'pix-small-input-'));
const path = (name: string) => join(dir, name);
const W = 6;
const H = 5;
/** A 6x5 image whose every pixel is distinct from the padding's 0: (10 + 20x, 15 + 30y, 200 - 7x - 11y). */
const known = Uint8Array.from({ length: W * H * 3 }, (_, i) => {
  const x = Math.floor(i / 3) % W;
  const y = Math.floor(i / 3 / W);
  return [10 + 20 * x, 15 + 30 * y, 200 - 7 * x - 11 * y][i % 3]!;
});
const square = syntheticPixels(8, 8, 3);
const jpegSource = syntheticPixels(20, 20, 5);

const flags = { scale: [0.08, 1] as [number, number], hflip: 0.5, train_interpolation: 'bicubic', aa: 'none', reprob: 0, remode: 'pixel', recount: 1 };
const train8 = trainTransformFromFlags({ ...flags, input_size: 8 });

/** A stream that returns `values` in order and fails on any further draw; `used` counts the draws. */
function scripted(values: number[]): Random & { used: () => number } {
  let next = 0;
  const random = () => {
    if (next >= values.length) throw new Error(`draw ${next + 1} of a stream scripted with ${values.length}`);
    return values[next++]!;
  };
  return Object.assign(random, { used: () => next });
}

/** The reference: an explicit zero-padded copy (F.pad), the size x size window at (top, left), then mirrored when flipped. */
function padCropFlip(src: Uint8Array, width: number, height: number, top: number, left: number, flip: boolean, size: number): Uint8Array {
  const pw = width + 8;
  const padded = new Uint8Array(pw * (height + 8) * 3);
  for (let y = 0; y < height; y++) padded.set(src.subarray(y * width * 3, (y + 1) * width * 3), ((y + 4) * pw + 4) * 3);
  const out = new Uint8Array(size * size * 3);
  for (let y = 0; y < size; y++) {
    const row = padded.slice(((top + y) * pw + left) * 3, ((top + y) * pw + left + size) * 3);
    for (let x = 0; x < size; x++) out.set(row.subarray((flip ? size - 1 - x : x) * 3, (flip ? size - x : x + 1) * 3), (y * size + x) * 3);
  }
  return out;
}

async function pixels(file: string, transform: Transform, random?: Random): Promise<Uint8Array> {
  const out = new Uint8Array(transform.size * transform.size * 3);
  await loadPixelsInto(path(file), transform, random, out);
  return out;
}

const pixel = (image: Uint8Array, size: number, x: number, y: number) => Array.from(image.subarray((y * size + x) * 3, (y * size + x) * 3 + 3));

before(async () => {
  const png = (data: Uint8Array, width: number, height: number) => sharp(data, { raw: { width, height, channels: 3 } }).png().toBuffer();
  writeFileSync(path('known.png'), await png(known, W, H));
  writeFileSync(path('square.png'), await png(square, 8, 8));
  const jpeg = await sharp(jpegSource, { raw: { width: 20, height: 20, channels: 3 } }).jpeg({ quality: 90 }).toBuffer();
  writeFileSync(path('photo.jpg'), jpeg);
  writeFileSync(path('truncated.jpg'), jpeg.subarray(0, jpeg.length >> 1));
  writeFileSync(path('text.png'), 'not an image\n');
});

after(() => rmSync(dir, { recursive: true, force: true }));

describe('training at input_size <= 32: RandomCrop(size, padding=4)', () => {
  it('crops the zero-padded image at the drawn offsets (top, then left), then flips: pixel for pixel', async () => {
    // 6x5 padded to 14x13: top in [0, 5], left in [0, 6] (torch.randint's exclusive upper ends).
    const cases = [
      { draws: [0, 0, 0.9], top: 0, left: 0, flip: false },
      { draws: [0.999, 0.999, 0.1], top: 5, left: 6, flip: true },
      { draws: [0.5, 0.25, 0.9], top: 3, left: 1, flip: false },
    ];
    for (const c of cases) {
      const random = scripted(c.draws);
      const out = await pixels('known.png', train8, random);
      assert.deepEqual(out, padCropFlip(known, W, H, c.top, c.left, c.flip, 8), JSON.stringify(c));
      assert.equal(random.used(), 3, 'the crop and the flip draw three numbers, and nothing else is drawn without augmentation');
    }
    // Anchors by hand. At (0, 0) the padding fills the first 4 rows and columns, and the image starts at (4, 4).
    const corner = await pixels('known.png', train8, scripted([0, 0, 0.9]));
    for (let i = 0; i < 4; i++) assert.deepEqual([pixel(corner, 8, i, 7), pixel(corner, 8, 7, i)], [[0, 0, 0], [0, 0, 0]]);
    assert.deepEqual(pixel(corner, 8, 4, 4), [10, 15, 200]);
    assert.deepEqual(pixel(corner, 8, 7, 7), [70, 105, 146]);  // image (3, 3)
    // At (5, 6) flipped: output column x shows padded column 13 - x, so image column 5 lands at x = 4,
    // the right padding at x < 4, and image row 4 (the last) at y = 3, the bottom padding below it.
    const flipped = await pixels('known.png', train8, scripted([0.999, 0.999, 0.1]));
    assert.deepEqual(pixel(flipped, 8, 4, 0), [110, 45, 154]);  // image (5, 1)
    assert.deepEqual(pixel(flipped, 8, 4, 3), [110, 135, 121]);  // image (5, 4)
    assert.deepEqual([pixel(flipped, 8, 3, 0), pixel(flipped, 8, 4, 4)], [[0, 0, 0], [0, 0, 0]]);
  });

  it('draws nothing for the crop when the padded image is the crop\'s size, only the flip', async () => {
    const random = scripted([0.2]);
    const out = await pixels('square.png', trainTransformFromFlags({ ...flags, input_size: 16 }), random);
    assert.equal(random.used(), 1);
    assert.deepEqual(out, padCropFlip(square, 8, 8, 0, 0, true, 16));
  });

  it('refuses an image smaller than the crop even padded, by name, as torchvision does (not as a bad file)', async () => {
    const error = await pixels('known.png', trainTransformFromFlags({ ...flags, input_size: 16 }), scripted([0.5])).then(() => undefined, (e: unknown) => e);
    assert.ok(error instanceof Error && !(error instanceof BadImageError), String(error));
    assert.match(error.message, /known\.png: 6x5 \(14x13 with the 4-pixel padding\) is smaller than the 16x16 random crop of --input_size 16/);
  });

  it('crops a JPEG decoded as PIL decodes it', { skip: loadEngine().decodeJpeg ? false : 'the engine was built without libjpeg' }, async () => {
    const decoded = loadEngine().decodeJpeg!(readFileSync(path('photo.jpg')));
    const out = await pixels('photo.jpg', trainTransformFromFlags({ ...flags, input_size: 16 }), scripted([0.99, 0.3, 0.7]));
    // 20x20 padded to 28x28: top floor(0.99 * 13) = 12, left floor(0.3 * 13) = 3.
    assert.deepEqual(out, padCropFlip(decoded, 20, 20, 12, 3, false, 16));
  });

  it('refuses undecodable files as bad files, in training and evaluation', async () => {
    for (const file of ['truncated.jpg', 'text.png']) {
      for (const [transform, random] of [[train8, scripted([0, 0, 0])], [evalTransformFromFlags({ input_size: 8 }), undefined]] as const) {
        await assert.rejects(pixels(file, transform, random), (e: unknown) => e instanceof BadImageError && e.path === path(file));
      }
    }
  });
});

describe('evaluation at input_size <= 32: no Resize, no CenterCrop', () => {
  it("takes the image's own pixels, normalised, where the resizing transform would change them", async () => {
    const t = evalTransformFromFlags({ input_size: 8 });
    assert.deepEqual(await pixels('square.png', t), Uint8Array.from(square));
    const floats = await loadImage(path('square.png'), t, undefined);
    const { mean, std } = IMAGENET_DEFAULT;
    assert.ok(floats.every((v, i) => Math.abs(v - (square[i]! / 255 - mean[i % 3]!) / std[i % 3]!) < 1e-6));
    // The same size with Resize(int(8 / 0.875) = 9) and CenterCrop(8) is another image.
    assert.notDeepEqual(await pixels('square.png', { ...t, resize: true }), Uint8Array.from(square));
  });

  it('takes a JPEG as the engine decodes it', { skip: loadEngine().decodeJpeg ? false : 'the engine was built without libjpeg' }, async () => {
    assert.deepEqual(await pixels('photo.jpg', evalTransformFromFlags({ input_size: 20 })), loadEngine().decodeJpeg!(readFileSync(path('photo.jpg'))));
  });

  it('refuses an image of another size, naming the file, its size and the input size', async () => {
    const error = await pixels('known.png', evalTransformFromFlags({ input_size: 8 })).then(() => undefined, (e: unknown) => e);
    assert.ok(error instanceof Error && !(error instanceof BadImageError), String(error));
    assert.match(error.message, /known\.png: the image is 6x5, but evaluation at --input_size 8 \(<= 32\) takes images as they are, without Resize or CenterCrop/);
    assert.match(error.message, /every evaluation image must be 8x8/);
  });
});

describe('the loader at input_size <= 32', () => {
  const { train, val } = scanImageNetLayout(join(__dirname, '..', '..', '..', '..', 'resources', 'demo-digits'));

  async function first<O extends 'f32' | 'u8'>(loader: Loader<O>): Promise<Batch<O>> {
    for await (const batch of loader.epoch(2)) return batch;
    throw new Error('no batch');
  }

  it('gives the same floats in both batch forms, with RandAugment and erasing drawn after the crop', async () => {
    const transform = trainTransformFromFlags({ ...flags, input_size: 24, aa: 'rand-m9-mstd0.5-inc1', reprob: 0.5 });
    const options = { batchSize: 16, shuffle: true, dropLast: true, seed: 5, transform, numWorkers: 2 };
    const f32 = await first(new Loader(train.samples, options));
    const u8 = await first(new Loader(train.samples, { ...options, output: 'u8' }));
    assert.ok(u8.erase.some((e) => e !== null), 'some samples are erased');
    const onDevice = batchInput(u8, 24, 'cpu');
    assert.ok(floatBytes(onDevice.toArray() as Float32Array).equals(floatBytes(f32.images)));
    onDevice.dispose();
  });

  it('evaluates 28x28 digits at input_size 28 as they are, and stops at input_size 16 naming a file', async () => {
    const samples = val.samples.slice(0, 6);
    const t = evalTransformFromFlags({ input_size: 28, imagenet_default_mean_and_std: false });
    const batch = await first(new Loader(samples, { batchSize: 6, shuffle: false, dropLast: false, seed: 0, transform: t, output: 'u8' }));
    assert.deepEqual(batch.normalization, IMAGENET_INCEPTION);
    for (let s = 0; s < 6; s++) {
      const raw = await sharp(samples[s]!.path).removeAlpha().toColourspace('srgb').raw().toBuffer();
      assert.ok(Buffer.from(batch.images.subarray(s * 28 * 28 * 3, (s + 1) * 28 * 28 * 3)).equals(raw), `sample ${s}`);
    }
    await assert.rejects(first(new Loader(samples, { batchSize: 6, shuffle: false, dropLast: false, seed: 0, transform: evalTransformFromFlags({ input_size: 16 }) })),
      /\.png: the image is 28x28, but evaluation at --input_size 16 \(<= 32\)/);
  });
});

describe('the flags that choose the branch (resize_im = input_size > 32)', () => {
  it('pads and crops in training at 32, not at 33', () => {
    assert.deepEqual(trainTransformFromFlags({ ...flags, input_size: 32 }).paddedCrop, { padding: 4 });
    assert.equal(trainTransformFromFlags({ ...flags, input_size: 33 }).paddedCrop, undefined);
  });

  it('evaluates without resizing at 32, and with Resize(size / crop_pct) and CenterCrop at 33', () => {
    assert.deepEqual(evalTransformFromFlags({ input_size: 32 }),
      { kind: 'eval', size: 32, cropPct: 0.875, interpolation: 'bicubic', normalization: IMAGENET_DEFAULT, resize: false });
    assert.deepEqual(evalTransformFromFlags({ input_size: 224, crop_pct: null, imagenet_default_mean_and_std: false }),
      { kind: 'eval', size: 224, cropPct: 0.875, interpolation: 'bicubic', normalization: IMAGENET_INCEPTION });
    assert.equal(evalTransformFromFlags({ input_size: 33, crop_pct: 0.95 }).cropPct, 0.95);
  });

  it('draws offsets as torch.randint does: the upper end excluded', () => {
    assert.equal(torchRandint(() => 0, 0, 6), 0);
    assert.equal(torchRandint(() => 0.999999, 0, 6), 5);
    assert.equal(torchRandint(() => 0.5, 2, 4), 3);
    assert.throws(() => torchRandint(() => 0.5, 0, 0), /high \(0\) must be above low \(0\)/);
  });
});
