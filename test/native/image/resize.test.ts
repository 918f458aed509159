// The engine's resize (native/src/image/resize.cpp) against PIL 9.4's Image.resize
// (scripts/fixtures/generate_resize.py): torchvision's crop-then-resize boxes, fractional PIL
// boxes, flips and output windows, bilinear and bicubic, bit for bit.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadEngine } from '../../../electron/host/engine/addon';
import { firstPixelDifference } from '../../helpers/compare';
import { readFixture } from '../../helpers/fixtures';

const engine = loadEngine();
const fixture = readFixture('resize.safetensors');

interface ResizeCase {
  input: string;
  crop: [number, number, number, number] | null;
  box: [number, number, number, number] | null;
  size: [number, number];
  resample: 'bilinear' | 'bicubic';
  flip: boolean;
  window: [number, number, number, number] | null;
  output: string;
}
const cases = (JSON.parse(fixture.metadata.cases!) as { resize: ResizeCase[] }).resize;

function fixtureImage(key: string): { pixels: Uint8Array; width: number; height: number } {
  const t = fixture.tensors.get(key);
  if (!t) throw new Error(`fixture has no ${key}`);
  const [height, width] = t.shape as [number, number, number];
  return { pixels: Uint8Array.from(t.data as Uint8Array), width, height };
}

/** (x0, y0, x1, y1) of an (H,W,3) image, as PIL's crop. */
function crop(img: { pixels: Uint8Array; width: number }, [x0, y0, x1, y1]: [number, number, number, number]) {
  const out = new Uint8Array((x1 - x0) * (y1 - y0) * 3);
  for (let y = y0; y < y1; y++) out.set(img.pixels.subarray((y * img.width + x0) * 3, (y * img.width + x1) * 3), (y - y0) * (x1 - x0) * 3);
  return { pixels: out, width: x1 - x0, height: y1 - y0 };
}


describe('resizeImage against PIL', () => {
  for (const resample of ['bilinear', 'bicubic'] as const) {
    it(`${resample}: crops, boxes, flips and windows bit for bit`, () => {
      const list = cases.filter((c) => c.resample === resample);
      assert.ok(list.length >= 10);
      for (const c of list) {
        const input = fixtureImage(c.input);
        const src = c.crop ? crop(input, c.crop) : input;
        const expected = fixtureImage(c.output);
        const out = new Uint8Array(expected.pixels.length);
        const window = c.window ?? [0, 0, c.size[0], c.size[1]];
        engine.resizeImage(src.pixels, src.width, src.height, out, expected.width, expected.height, {
          ...(c.box ? { box: c.box } : {}), resizeWidth: c.size[0], resizeHeight: c.size[1], outLeft: window[0], outTop: window[1], resample, flip: c.flip,
        });
        assert.ok(Buffer.compare(out, expected.pixels) === 0, `${JSON.stringify(c)}: ${firstPixelDifference(out, expected.pixels, expected.width)}`);
      }
    });
  }

  it('refuses boxes outside the source and windows outside the resize', () => {
    const src = new Uint8Array(4 * 3 * 3);
    const out = new Uint8Array(2 * 2 * 3);
    assert.throws(() => engine.resizeImage(src, 4, 3, out, 2, 2, { box: [0, 0, 5, 3], resample: 'bicubic' }), /outside the 4x3 source/);
    assert.throws(() => engine.resizeImage(src, 4, 3, out, 2, 2, { resizeWidth: 2, resizeHeight: 2, outLeft: 1, resample: 'bicubic' }), /outside the 2x2 resize/);
    assert.throws(() => engine.resizeImage(src, 4, 3, out, 2, 2, { resample: 'nearest' as 'bicubic' }), /bilinear' or 'bicubic/);
  });
});
