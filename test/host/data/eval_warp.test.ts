// The official evaluation transform at input_size >= 384 (ConvNeXt's datasets.py, "warping"):
// Resize((size, size)) of the whole image, bicubic, no centre crop. On a JPEG it is PIL's
// img.resize((size, size)) bit for bit (the resize fixture's whole-image cases, made with PIL, and
// the engine's PIL resize of the decoded image at 384); other formats through sharp land close to
// it; the aspect ratio is not kept (a band a quarter of a 2:1 image wide fills a quarter of the
// output, where the resize and centre crop cuts it off); the branch changes between 383 and 384,
// at 384 whatever --crop_pct says; the loader's workers apply it too; and the note the trainer
// prints says so.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { Loader } from '../../../electron/host/data/loader';
import {
  evalTransformFromFlags, evalTransformNote, IMAGENET_DEFAULT, loadPixelsInto, WARP_MIN, type EvalTransform,
} from '../../../electron/host/data/transforms';
import { loadEngine } from '../../../electron/host/engine/addon';
import { readFixture } from '../../helpers/fixtures';

const dir = mkdtempSync(join(tmpdir(), 'pix-eval-warp-'));
const path = (name: string) => join(dir, name);
const noJpeg = loadEngine().jpegResizedCrop && loadEngine().decodeJpeg ? false : 'the engine was built without libjpeg';

/** 800x400: a red band over the left quarter (x < 200), blue elsewhere, green rising downwards. */
const W = 800;
const H = 400;
const banded = Buffer.alloc(W * H * 3);
for (let y = 0; y < H; y++) {
  for (let x = 0; x < W; x++) {
    const o = (y * W + x) * 3;
    const red = x < W / 4;
    banded[o] = red ? 230 : 20;
    banded[o + 1] = Math.round((y * 200) / H);
    banded[o + 2] = red ? 20 : 230;
  }
}

before(async () => {
  const image = () => sharp(banded, { raw: { width: W, height: H, channels: 3 } });
  writeFileSync(path('banded.jpg'), await image().jpeg({ quality: 95 }).toBuffer());
  writeFileSync(path('banded.png'), await image().png().toBuffer());
});
after(() => rmSync(dir, { recursive: true, force: true }));

async function pixels(name: string, transform: EvalTransform): Promise<Uint8Array> {
  const out = new Uint8Array(transform.size * transform.size * 3);
  await loadPixelsInto(path(name), transform, undefined, out);
  return out;
}

/** The columns of a size x size image in which most pixels are the band's red. */
function redColumns(image: Uint8Array, size: number): number[] {
  const columns: number[] = [];
  for (let x = 0; x < size; x++) {
    let red = 0;
    for (let y = 0; y < size; y++) {
      const o = (y * size + x) * 3;
      if (image[o]! > 150 && image[o + 2]! < 100) red++;
    }
    if (red > size / 2) columns.push(x);
  }
  return columns;
}

function meanAbsDifference(a: Uint8Array, b: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i]! - b[i]!);
  return sum / a.length;
}

describe('evaluation at input_size >= 384: the whole image warped to size x size', () => {
  it("is PIL's img.resize((size, size)) of the whole JPEG, bit for bit (the fixture's non-square images)", { skip: noJpeg }, async () => {
    const fixture = readFixture('resize.safetensors');
    const bytesOf = (key: string) => Uint8Array.from(fixture.tensors.get(key)!.data as Uint8Array);
    type GeometryCase = { jpeg: string; region: number[]; resize: number[]; window: number[]; resample: 'bilinear' | 'bicubic'; flip: boolean; dct_scaling: boolean; output: string };
    const whole = (JSON.parse(fixture.metadata.cases!) as { geometry: GeometryCase[] }).geometry.filter((c) => {
      const info = loadEngine().jpegInfo!(bytesOf(c.jpeg));
      return c.region[0] === 0 && c.region[1] === 0 && c.region[2] === info.width && c.region[3] === info.height && info.width !== info.height &&
        c.resize[0] === c.resize[1] && c.window[0] === 0 && c.window[1] === 0 && !c.flip && !c.dct_scaling;
    });
    assert.ok(whole.some((c) => c.resample === 'bicubic') && whole.length >= 3, `${whole.length} whole-image cases`);
    for (const c of whole) {
      writeFileSync(path('fixture.jpg'), bytesOf(c.jpeg));
      const transform: EvalTransform = { kind: 'eval', size: c.resize[0]!, cropPct: 0.875, interpolation: c.resample, warp: true };
      assert.deepEqual(await pixels('fixture.jpg', transform), bytesOf(c.output), `${c.jpeg} ${c.resample} to ${c.resize[0]}x${c.resize[1]}`);
    }
  });

  it("at --input_size 384 is the engine's PIL resize of the whole decoded JPEG to 384x384", { skip: noJpeg }, async () => {
    const engine = loadEngine();
    const decoded = engine.decodeJpeg!(readFileSync(path('banded.jpg')));
    const expected = new Uint8Array(384 * 384 * 3);
    engine.resizeImage(decoded, W, H, expected, 384, 384, { resample: 'bicubic' });
    const warped = await pixels('banded.jpg', evalTransformFromFlags({ input_size: 384 }));
    assert.deepEqual(warped, expected);
  });

  for (const name of ['banded.jpg', 'banded.png']) {
    it(`does not keep the aspect ratio (${name}): the left quarter of a 2:1 image fills the left quarter`, async () => {
      const warped = await pixels(name, evalTransformFromFlags({ input_size: 384 }));
      const red = redColumns(warped, 384);
      // 200 of 800 columns to 96 of 384; the bicubic edge blurs a column or two either side.
      assert.ok(red.length >= 94 && red.length <= 98 && red[0] === 0 && red.at(-1)! >= 93 && red.at(-1)! <= 97, `red columns ${red[0]}..${red.at(-1)}`);
      // Rows keep their order top to bottom: green rises down the image, over all of it.
      const green = (y: number) => warped[(y * 384 + 200) * 3 + 1]!;
      assert.ok(green(2) < 10 && green(381) > 190, `green ${green(2)} at the top, ${green(381)} at the bottom`);
      // An aspect-keeping resize and centre crop of the same image loses the band altogether.
      assert.deepEqual(redColumns(await pixels(name, { ...evalTransformFromFlags({ input_size: 384 }), warp: false }), 384), []);
    });
  }

  it("through sharp (a PNG) lands close to PIL's resize of the same pixels", async () => {
    const expected = new Uint8Array(384 * 384 * 3);
    loadEngine().resizeImage(banded, W, H, expected, 384, 384, { resample: 'bicubic' });
    const warped = await pixels('banded.png', evalTransformFromFlags({ input_size: 384 }));
    assert.ok(meanAbsDifference(warped, expected) < 1, `mean |difference| ${meanAbsDifference(warped, expected)}`);
  });

  it('reaches the loader and its worker threads', async () => {
    const transform = evalTransformFromFlags({ input_size: 384 });
    const samples = [{ path: path('banded.jpg'), label: 0 }, { path: path('banded.png'), label: 1 }];
    for (const numWorkers of [0, 1]) {
      const loader = new Loader(samples, { batchSize: 2, shuffle: false, dropLast: false, seed: 0, transform, output: 'u8', numWorkers });
      for await (const batch of loader.epoch(0)) {
        assert.deepEqual(batch.images.subarray(0, 384 * 384 * 3), await pixels('banded.jpg', transform), `${numWorkers} workers`);
        assert.deepEqual(batch.images.subarray(384 * 384 * 3), await pixels('banded.png', transform), `${numWorkers} workers`);
      }
    }
  });
});

describe('the flags that choose the warp (input_size >= 384)', () => {
  it('resizes and centre-crops at 383, warps at 384 whatever --crop_pct says', () => {
    assert.equal(WARP_MIN, 384);
    assert.deepEqual(evalTransformFromFlags({ input_size: 383 }),
      { kind: 'eval', size: 383, cropPct: 0.875, interpolation: 'bicubic', normalization: IMAGENET_DEFAULT });
    assert.deepEqual(evalTransformFromFlags({ input_size: 384, crop_pct: 0.95 }),
      { kind: 'eval', size: 384, cropPct: 0.95, interpolation: 'bicubic', normalization: IMAGENET_DEFAULT, warp: true });
    assert.equal(evalTransformFromFlags({ input_size: 512 }).warp, true);
    assert.equal(evalTransformFromFlags({ input_size: 224 }).warp, undefined);
    assert.equal(evalTransformFromFlags({ input_size: 32 }).warp, undefined);
  });

  it('gives pixels of the two branches either side of the boundary', async () => {
    // 383: Resize(int(383 / 0.875) = 437) makes the image 874x437 and CenterCrop starts at column 246,
    // past the band's end (218): no red. 384: the band is the left quarter.
    assert.deepEqual(redColumns(await pixels('banded.png', evalTransformFromFlags({ input_size: 383 })), 383), []);
    assert.ok(redColumns(await pixels('banded.png', evalTransformFromFlags({ input_size: 384 })), 384).length > 90);
    // At 384 --crop_pct changes nothing.
    assert.deepEqual(await pixels('banded.png', evalTransformFromFlags({ input_size: 384, crop_pct: 1 })),
      await pixels('banded.png', evalTransformFromFlags({ input_size: 384 })));
  });

  it('is said as the official script prints it, and nothing is said for the other branches', () => {
    const note = evalTransformNote(evalTransformFromFlags({ input_size: 384 }));
    assert.match(note ?? '', /^Warping 384 size input images\.\.\./);
    assert.match(note ?? '', /384x384 \(bicubic\), its aspect ratio not kept, without a centre crop \(--crop_pct unused\)/);
    assert.equal(evalTransformNote(evalTransformFromFlags({ input_size: 383 })), undefined);
    assert.equal(evalTransformNote(evalTransformFromFlags({ input_size: 32 })), undefined);
  });
});
