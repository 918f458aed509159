// The image transforms (electron/host/data/transforms.ts): bad files raise BadImageError and only
// that (truncated, empty, not an image, over the pixel limit by the header alone), every colour
// form becomes 8-bit RGB the way PIL's convert('RGB') does (alpha dropped, not composited), the
// full training transform (RandAugment, random interpolation, erasing) is a pure function of
// (seed, epoch, index) on any thread, and loadImageInto writes only its slice.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import { crc32 } from 'node:zlib';
import sharp from 'sharp';
import { BadImageError } from '../../../electron/host/data/bad_image';
import { loadEngine } from '../../../electron/host/engine/addon';
import { readFixture } from '../../helpers/fixtures';
import { sampleRandom } from '../../../electron/host/data/sample_random';
import { drawColorJitter } from '../../../electron/host/data/augment/color_jitter';
import {
  IMAGENET_DEFAULT, IMAGENET_INCEPTION, IMAGENET_MEAN, IMAGENET_STD, loadImage, loadImageInto, loadPixelsInto, trainTransformFromFlags,
  type EvalTransform, type TrainTransform,
} from '../../../electron/host/data/transforms';

const dir = mkdtempSync(join(tmpdir(), 'pix-transforms-'));
const path = (name: string) => join(dir, name);
const evalTransform: EvalTransform = { kind: 'eval', size: 32, cropPct: 0.875, interpolation: 'bicubic' };
const fullTrain: TrainTransform = trainTransformFromFlags({
  input_size: 48, scale: [0.08, 1], hflip: 0.5, train_interpolation: 'random', aa: 'rand-m9-mstd0.5-inc1', reprob: 0.5, remode: 'pixel', recount: 2,
});

/** A PNG whose header claims width x height over 2x2 pixels of data: only the header is sound. */
async function headerOnlyPng(width: number, height: number): Promise<Buffer> {
  const png = await sharp({ create: { width: 2, height: 2, channels: 3, background: '#808080' } }).png().toBuffer();
  const ihdr = Buffer.from(png.subarray(8, 8 + 25));  // length, 'IHDR', 13 data bytes, CRC
  ihdr.writeUInt32BE(width, 8);
  ihdr.writeUInt32BE(height, 12);
  ihdr.writeUInt32BE(crc32(ihdr.subarray(4, 21)), 21);
  // The 2x2 image's own data follows: a valid file up to the point where decoding would start.
  return Buffer.concat([png.subarray(0, 8), ihdr, png.subarray(8 + 25)]);
}

before(async () => {
  const raw = Buffer.alloc(120 * 90 * 3);
  for (let i = 0; i < raw.length; i++) raw[i] = (Math.imul(i, 2654435761) >>> 24) ^ (i % 90);
  const rgb = () => sharp(raw, { raw: { width: 120, height: 90, channels: 3 } });
  const jpeg = await rgb().jpeg({ quality: 90 }).toBuffer();
  writeFileSync(path('ok.jpg'), jpeg);
  writeFileSync(path('truncated.jpg'), jpeg.subarray(0, jpeg.length >> 1));
  writeFileSync(path('empty.jpg'), Buffer.alloc(0));
  writeFileSync(path('text.jpg'), 'not an image at all\n');
  writeFileSync(path('huge.png'), await headerOnlyPng(40000, 40000));
  writeFileSync(path('rgb.png'), await rgb().png().toBuffer());
  writeFileSync(path('alpha.png'), await rgb().ensureAlpha(0.25).png().toBuffer());
  writeFileSync(path('rgb16.png'), await rgb().toColourspace('rgb16').png().toBuffer());
  writeFileSync(path('grey.png'), await rgb().greyscale().png().toBuffer());
  writeFileSync(path('grey16.png'), await rgb().greyscale().toColourspace('grey16').png().toBuffer());
  writeFileSync(path('palette.png'), await rgb().png({ palette: true }).toBuffer());
  writeFileSync(path('cmyk.jpg'), await rgb().toColourspace('cmyk').jpeg().toBuffer());
});

after(() => rmSync(dir, { recursive: true, force: true }));

/** Back from normalised floats to 8-bit values. */
function bytes(x: Float32Array): number[] {
  return Array.from(x, (v, i) => Math.round((v * IMAGENET_STD[i % 3]! + IMAGENET_MEAN[i % 3]!) * 255));
}

describe('bad files', () => {
  const cases: Array<[string, RegExp]> = [
    ['truncated.jpg', /truncated\.jpg: cannot be decoded \(.*premature end/i],
    ['empty.jpg', /empty\.jpg: not a readable image/],
    ['text.jpg', /text\.jpg: not a readable image \(.*unsupported image format/],
    ['missing.jpg', /missing\.jpg: not a readable image \(.*missing/],
    ['huge.png', /huge\.png: 40000x40000 = 1600000000 pixels is above the pixel limit of 268435456/],
  ];
  for (const [name, message] of cases) {
    it(`${name}: BadImageError in evaluation and training`, async () => {
      for (const [transform, random] of [[evalTransform, undefined], [fullTrain, sampleRandom(0, 0, 0)]] as const) {
        const error = await loadImage(path(name), transform, random).then(() => undefined, (e: unknown) => e);
        assert.ok(error instanceof BadImageError, `${name}: ${String(error)}`);
        assert.match(error.message, message);
        assert.equal(error.path, path(name));
      }
    });
  }

  it('refuses by the header before decoding, at a chosen pixel limit', async () => {
    await assert.rejects(loadImage(path('ok.jpg'), evalTransform, undefined, { pixelLimit: 120 * 90 - 1 }),
      (e: unknown) => e instanceof BadImageError && /120x90 = 10800 pixels is above the pixel limit of 10799/.test(e.message));
    await loadImage(path('ok.jpg'), evalTransform, undefined, { pixelLimit: 120 * 90 });
  });
});

describe('colour forms become 8-bit RGB', () => {
  it('drops alpha without compositing, as convert("RGB") does', async () => {
    assert.deepEqual(await loadImage(path('alpha.png'), evalTransform, undefined), await loadImage(path('rgb.png'), evalTransform, undefined));
  });

  it('reads 16-bit RGB as its 8-bit values', async () => {
    const a = bytes(await loadImage(path('rgb16.png'), evalTransform, undefined));
    const b = bytes(await loadImage(path('rgb.png'), evalTransform, undefined));
    assert.ok(a.every((v, i) => Math.abs(v - b[i]!) <= 1));
  });

  it('spreads grey (8 and 16 bits) to three equal channels', async () => {
    for (const name of ['grey.png', 'grey16.png']) {
      const v = bytes(await loadImage(path(name), evalTransform, undefined));
      for (let i = 0; i < v.length; i += 3) assert.ok(v[i] === v[i + 1] && v[i] === v[i + 2], `${name} pixel ${i / 3}: ${v.slice(i, i + 3)}`);
    }
    const grey = bytes(await loadImage(path('grey.png'), evalTransform, undefined));
    const grey16 = bytes(await loadImage(path('grey16.png'), evalTransform, undefined));
    assert.ok(grey.every((v, i) => Math.abs(v - grey16[i]!) <= 1));
  });

  it('converts palette and CMYK images', async () => {
    for (const name of ['palette.png', 'cmyk.jpg']) {
      const out = await loadImage(path(name), evalTransform, undefined);
      assert.equal(out.length, 32 * 32 * 3);
      assert.ok(out.every(Number.isFinite));
    }
    // A palette of the same picture stays close to it (the quantiser's error only).
    const palette = bytes(await loadImage(path('palette.png'), evalTransform, undefined));
    const rgb = bytes(await loadImage(path('rgb.png'), evalTransform, undefined));
    assert.ok(palette.reduce((s, v, i) => s + Math.abs(v - rgb[i]!), 0) / rgb.length < 24);
  });
});

describe('the training transform', () => {
  it('is a pure function of (seed, epoch, index)', async () => {
    const a = await loadImage(path('ok.jpg'), fullTrain, sampleRandom(3, 1, 7));
    assert.deepEqual(await loadImage(path('ok.jpg'), fullTrain, sampleRandom(3, 1, 7)), a);
    const others = await Promise.all([8, 9, 10].map((i) => loadImage(path('ok.jpg'), fullTrain, sampleRandom(3, 1, i))));
    assert.ok(others.every((o) => Buffer.compare(Buffer.from(o.buffer), Buffer.from(a.buffer)) !== 0));
  });

  it('gives the same floats in a worker thread', async () => {
    const script = `
      const { parentPort, workerData } = require('node:worker_threads');
      const { loadImage } = require(workerData.transforms);
      const { sampleRandom } = require(workerData.sampleRandom);
      loadImage(workerData.file, workerData.transform, sampleRandom(3, 1, 7)).then((out) => parentPort.postMessage(out));`;
    const workerData = {
      transforms: require.resolve('../../../electron/host/data/transforms'), sampleRandom: require.resolve('../../../electron/host/data/sample_random'),
      file: path('ok.jpg'), transform: fullTrain,
    };
    const fromWorker = await new Promise<Float32Array>((resolve, reject) => {
      const worker = new Worker(script, { eval: true, workerData });
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    assert.deepEqual(fromWorker, await loadImage(path('ok.jpg'), fullTrain, sampleRandom(3, 1, 7)));
  });

  it('writes into a batch buffer at an offset, touching nothing else', async () => {
    const n = 48 * 48 * 3;
    const batch = new Float32Array(3 * n).fill(-9);
    await loadImageInto(path('ok.jpg'), fullTrain, sampleRandom(3, 1, 7), batch, n);
    assert.deepEqual(batch.subarray(n, 2 * n), await loadImage(path('ok.jpg'), fullTrain, sampleRandom(3, 1, 7)));
    assert.ok(batch.subarray(0, n).every((v) => v === -9) && batch.subarray(2 * n).every((v) => v === -9));
    await assert.rejects(loadImageInto(path('ok.jpg'), fullTrain, sampleRandom(0, 0, 0), batch, 2 * n + 1), /do not fit/);
  });

  it('erases boxes with zeros in const mode', async () => {
    const transform = trainTransformFromFlags({ input_size: 40, scale: [0.08, 1], hflip: 0.5, train_interpolation: 'bicubic', aa: 'none', reprob: 1, remode: 'const', recount: 1 });
    let erased = 0;
    for (let i = 0; i < 5; i++) {
      const out = await loadImage(path('ok.jpg'), transform, sampleRandom(0, 0, i));
      const zeros = out.reduce((s, v) => s + (v === 0 ? 1 : 0), 0);
      if (zeros >= 0.02 * 40 * 40 * 3 * 0.5) erased++;
    }
    assert.ok(erased >= 4, `${erased} of 5 images erased at reprob 1`);
  });
});

describe('JPEGs through the engine', { skip: loadEngine().decodeJpeg ? false : 'the engine was built without libjpeg' }, () => {
  // A smooth picture with structure in both directions, so a misplaced crop or a wrong flip shows,
  // while PIL's resize (the engine's) and libvips' (sharp's, on a PNG of the same pixels) agree.
  before(async () => {
    const width = 200;
    const height = 150;
    const raw = Buffer.alloc(width * height * 3);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const i = (y * width + x) * 3;
        raw[i] = Math.round(x * 1.2 + 10);
        raw[i + 1] = Math.round(128 + 100 * Math.sin(y / 9) * Math.cos(x / 23));
        raw[i + 2] = Math.round(128 + 90 * Math.sin((x + 2 * y) / 15));
      }
    }
    const jpeg = await sharp(raw, { raw: { width, height, channels: 3 } }).jpeg({ quality: 95 }).toBuffer();
    writeFileSync(path('smooth.jpg'), jpeg);
    writeFileSync(path('smooth_cut.jpg'), jpeg.subarray(0, Math.floor(jpeg.length * 0.95)));
    const decoded = loadEngine().decodeJpeg!(jpeg);
    writeFileSync(path('smooth_decoded.png'), await sharp(decoded, { raw: { width, height, channels: 3 } }).png().toBuffer());
  });

  function meanAbsDifference(a: Float32Array, b: Float32Array): number {
    const x = bytes(a);
    const y = bytes(b);
    return x.reduce((s, v, i) => s + Math.abs(v - y[i]!), 0) / x.length;
  }

  it("crops, resizes and flips where sharp's path does, with the same draws", async () => {
    const plain = trainTransformFromFlags({ input_size: 40, scale: [0.08, 1], hflip: 0.5, train_interpolation: 'random', aa: 'none', reprob: 0, remode: 'pixel', recount: 1 });
    for (let i = 0; i < 24; i++) {
      const engine = await loadImage(path('smooth.jpg'), plain, sampleRandom(5, 0, i));
      const viaSharp = await loadImage(path('smooth_decoded.png'), plain, sampleRandom(5, 0, i));
      // The DCT-scaled crops (>= 80 px both ways) differ from a full decode by the IDCT's own error.
      assert.ok(meanAbsDifference(engine, viaSharp) < 2, `sample ${i}: mean |difference| ${meanAbsDifference(engine, viaSharp)}`);
    }
    const evalEngine = await loadImage(path('smooth.jpg'), evalTransform, undefined);
    const evalSharp = await loadImage(path('smooth_decoded.png'), evalTransform, undefined);
    assert.ok(meanAbsDifference(evalEngine, evalSharp) < 2, `eval: mean |difference| ${meanAbsDifference(evalEngine, evalSharp)}`);
  });

  it("evaluates as timm's eval transform on PIL (torchvision's Resize and CenterCrop), bit for bit", async () => {
    const fixture = readFixture('resize.safetensors');
    const bytesOf = (key: string) => Uint8Array.from(fixture.tensors.get(key)!.data as Uint8Array);
    const evalCases = (JSON.parse(fixture.metadata.cases!) as { geometry: { jpeg: string; window: number[]; resample: 'bilinear' | 'bicubic'; output: string }[] })
      .geometry.filter((c) => c.window[0] !== 0 || c.window[1] !== 0);
    assert.ok(evalCases.length >= 4);
    for (const c of evalCases) {
      writeFileSync(path('eval.jpg'), bytesOf(c.jpeg));
      const out = bytes(await loadImage(path('eval.jpg'), { kind: 'eval', size: 24, cropPct: 0.75, interpolation: c.resample }, undefined));
      assert.deepEqual(out, Array.from(bytesOf(c.output)), `${c.jpeg} ${c.resample}`);
    }
  });

  it('refuses a JPEG cut short below the crop, as PIL does', async () => {
    for (let i = 0; i < 6; i++) {
      await assert.rejects(loadImage(path('smooth_cut.jpg'), fullTrain, sampleRandom(0, 0, i)),
        (e: unknown) => e instanceof BadImageError && /smooth_cut\.jpg: cannot be decoded \(libjpeg: Premature end of JPEG file\)/.test(e.message));
    }
  });
});

describe('trainTransformFromFlags', () => {
  const flags = { input_size: 224, scale: [0.08, 1] as [number, number], hflip: 0.5, train_interpolation: 'bicubic', aa: 'rand-m7-mstd0.5-inc1', reprob: 0.25, remode: 'pixel', recount: 1 };
  it('builds the recipe transform', () => {
    const t = trainTransformFromFlags(flags);
    assert.equal(t.randAugment?.magnitude, 7);
    assert.deepEqual(t.erasing && [t.erasing.probability, t.erasing.mode, t.erasing.maxCount], [0.25, 'pixel', 1]);
    assert.equal(t.interpolation, 'bicubic');
  });
  it("leaves out what 'none' and 0 turn off, and names bad flags", () => {
    const t = trainTransformFromFlags({ ...flags, aa: 'none', reprob: 0 });
    assert.equal(t.randAugment, undefined);
    assert.equal(t.erasing, undefined);
    assert.equal(t.colorJitter, undefined);
    assert.throws(() => trainTransformFromFlags({ ...flags, train_interpolation: 'lanczos' }), /--train_interpolation must be bicubic, bilinear or random, got 'lanczos'/);
  });
  it('jitters colour only without an auto-augment policy, as timm does', () => {
    assert.equal(trainTransformFromFlags({ ...flags, color_jitter: 0.4 }).colorJitter, undefined);
    assert.equal(trainTransformFromFlags({ ...flags, aa: 'none', color_jitter: 0.4 }).colorJitter, 0.4);
    assert.equal(trainTransformFromFlags({ ...flags, aa: 'none', color_jitter: 0 }).colorJitter, undefined);
  });
  it('normalises with the ImageNet mean and std, or the Inception 0.5/0.5 with imagenet_default_mean_and_std false', () => {
    assert.deepEqual(trainTransformFromFlags(flags).normalization, { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] });
    assert.deepEqual(trainTransformFromFlags({ ...flags, imagenet_default_mean_and_std: true }).normalization, IMAGENET_DEFAULT);
    assert.deepEqual(trainTransformFromFlags({ ...flags, imagenet_default_mean_and_std: false }).normalization, { mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] });
  });
});

describe('normalisation', () => {
  it('writes (pixel / 255 - mean) / std with the transform\'s mean and std (absent: the ImageNet default)', async () => {
    const pixels = new Uint8Array(32 * 32 * 3);
    await loadPixelsInto(path('ok.jpg'), evalTransform, undefined, pixels);
    for (const [normalization, expected] of [[IMAGENET_INCEPTION, IMAGENET_INCEPTION], [IMAGENET_DEFAULT, IMAGENET_DEFAULT], [undefined, IMAGENET_DEFAULT]] as const) {
      const x = await loadImage(path('ok.jpg'), { ...evalTransform, ...(normalization ? { normalization } : {}) }, undefined);
      let worst = 0;
      pixels.forEach((p, i) => { worst = Math.max(worst, Math.abs(x[i]! - (p / 255 - expected.mean[i % 3]!) / expected.std[i % 3]!)); });
      assert.ok(worst < 1e-6, String(worst));
    }
  });

  it('fills RandAugment\'s geometric ops with the mean colour: (128,128,128) for Inception, (124,116,104) for ImageNet, as timm does', async () => {
    const white = path('white.png');
    writeFileSync(white, await sharp({ create: { width: 48, height: 48, channels: 3, background: '#ffffff' } }).png().toBuffer());
    const colours = async (imagenetDefault: boolean) => {
      const transform = trainTransformFromFlags({ input_size: 32, scale: [1, 1], hflip: 0, train_interpolation: 'bilinear', aa: 'rand-m9-mstd0.5-inc1',
        reprob: 0, remode: 'pixel', recount: 1, imagenet_default_mean_and_std: imagenetDefault });
      const seen = new Set<string>();
      const out = new Uint8Array(32 * 32 * 3);
      for (let index = 0; index < 40; index++) {
        await loadPixelsInto(white, transform, sampleRandom(3, 0, index), out);
        for (let i = 0; i < out.length; i += 3) seen.add(`${out[i]},${out[i + 1]},${out[i + 2]}`);
      }
      return seen;
    };
    const inception = await colours(false);
    assert.ok(inception.has('128,128,128') && !inception.has('124,116,104'));
    assert.ok((await colours(true)).has('124,116,104'));
  });
});

describe('colour jitter', () => {
  it("applies the sample's drawn brightness, contrast and saturation after the crop", async () => {
    const plain: TrainTransform = { kind: 'train', size: 32, scale: [0.5, 1], ratio: [3 / 4, 4 / 3], hflip: 0.5, interpolation: 'bilinear' };
    for (const file of ['ok.jpg', 'rgb.png']) {
      const jittered = new Uint8Array(32 * 32 * 3);
      await loadPixelsInto(path(file), { ...plain, colorJitter: 0.4 }, sampleRandom(3, 0, 7), jittered);
      // The same crop from the same stream, then the jitter drawn next from it, applied by hand.
      const expected = new Uint8Array(32 * 32 * 3);
      const random = sampleRandom(3, 0, 7);
      await loadPixelsInto(path(file), plain, random, expected);
      const unjittered = Uint8Array.from(expected);
      loadEngine().augmentImage(expected, 32, 32, drawColorJitter(0.4, random));
      assert.deepEqual(jittered, expected, file);
      assert.notDeepEqual(jittered, unjittered, `${file}: the jitter changed nothing`);
    }
  });
});

