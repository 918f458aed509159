// The engine's JPEG decoding (native/src/image/jpeg_decode.cpp, resized_crop.cpp) against PIL 9.4
// on the same libjpeg-turbo (scripts/fixtures/generate_resize.py): full decodes and PIL's draft
// scales bit for bit, any region equal to the same pixels of a full decode, the loader's whole
// crop-and-resize as torchvision and timm run it, and bad files as errors. Skipped, saying why,
// in an engine built without libjpeg.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadEngine } from '../../../electron/host/engine/addon';
import { firstPixelDifference } from '../../helpers/compare';
import { readFixture } from '../../helpers/fixtures';
import { mulberry32 } from '../../../electron/host/data/sample_random';

const engine = loadEngine();
const fixture = readFixture('resize.safetensors');
const skip = engine.decodeJpeg ? false : 'the engine was built without libjpeg';

interface DecodeCase { jpeg: string; scale: 1 | 2 | 4 | 8; output: string }
interface GeometryCase {
  jpeg: string;
  region: [number, number, number, number];
  resize: [number, number];
  window: [number, number];
  resample: 'bilinear' | 'bicubic';
  flip: boolean;
  dct_scaling: boolean;
  output: string;
}
const cases = JSON.parse(fixture.metadata.cases!) as { decode: DecodeCase[]; geometry: GeometryCase[] };

function tensor(key: string): { data: Uint8Array; width: number; height: number } {
  const t = fixture.tensors.get(key);
  if (!t) throw new Error(`fixture has no ${key}`);
  return { data: Uint8Array.from(t.data as Uint8Array), height: t.shape[0]!, width: t.shape[1] ?? 0 };
}


describe('JPEG decoding against PIL', { skip }, () => {
  it('reads the header', () => {
    const info = engine.jpegInfo!(tensor('jpeg.q90_420').data);
    assert.deepEqual(info, { width: tensor('decoded.q90_420.1').width, height: tensor('decoded.q90_420.1').height, rgb: true });
    assert.equal(engine.jpegInfo!(tensor('jpeg.grey').data).rgb, true);
  });

  it('decodes whole images and PIL draft scales bit for bit', () => {
    assert.ok(cases.decode.length >= 16);
    for (const c of cases.decode) {
      const expected = tensor(c.output);
      const out = engine.decodeJpeg!(tensor(c.jpeg).data, { scaleDenom: c.scale });
      assert.ok(Buffer.compare(out, expected.data) === 0, `${c.jpeg} at 1/${c.scale}: ${firstPixelDifference(out, expected.data, expected.width)}`);
    }
  });

  it('decodes any region as the same pixels of the whole image', () => {
    const random = mulberry32(7);
    const int = (n: number) => Math.floor(random() * n);
    for (const c of cases.decode) {
      const full = tensor(c.output);
      for (let k = 0; k < 40; k++) {
        const left = int(full.width);
        const top = int(full.height);
        const width = 1 + int(full.width - left);
        const height = 1 + int(full.height - top);
        const out = engine.decodeJpeg!(tensor(c.jpeg).data, { left, top, width, height, scaleDenom: c.scale });
        const expected = new Uint8Array(width * height * 3);
        for (let y = 0; y < height; y++) {
          expected.set(full.data.subarray(((top + y) * full.width + left) * 3, ((top + y) * full.width + left + width) * 3), y * width * 3);
        }
        assert.ok(Buffer.compare(out, expected) === 0,
          `${c.jpeg} 1/${c.scale} region ${width}x${height} at (${left}, ${top}): ${firstPixelDifference(out, expected, width)}`);
      }
    }
  });

  it("crops and resizes as torchvision's RandomResizedCrop and timm's eval transform on PIL", () => {
    assert.ok(cases.geometry.length >= 12);
    for (const c of cases.geometry) {
      const expected = tensor(c.output);
      const out = new Uint8Array(expected.data.length);
      const [left, top, width, height] = c.region;
      engine.jpegResizedCrop!(tensor(c.jpeg).data, out, expected.width, expected.height, {
        left, top, width, height, resizeWidth: c.resize[0], resizeHeight: c.resize[1], outLeft: c.window[0], outTop: c.window[1],
        resample: c.resample, flip: c.flip, dctScaling: c.dct_scaling,
      });
      assert.ok(Buffer.compare(out, expected.data) === 0, `${JSON.stringify(c)}: ${firstPixelDifference(out, expected.data, expected.width)}`);
    }
  });

  it('refuses truncated, corrupt and empty files with an error, never a grey-padded image', () => {
    const file = tensor('jpeg.q90_420').data;
    const out = new Uint8Array(8 * 8 * 3);
    const crop = { left: 0, top: 0, width: 16, height: 16, resample: 'bicubic' as const };
    for (const cut of [file.length - 2, Math.floor(file.length * 0.9), Math.floor(file.length / 2)]) {
      assert.throws(() => engine.decodeJpeg!(file.subarray(0, cut)), /Premature end of JPEG file/, `cut at ${cut}`);
      // The crop lies above the cut: the rest of the file is still read to find the truncation.
      assert.throws(() => engine.jpegResizedCrop!(file.subarray(0, cut), out, 8, 8, crop), /Premature end/, `crop, cut at ${cut}`);
    }
    assert.throws(() => engine.jpegInfo!(file.subarray(0, 100)), /libjpeg: /);
    assert.throws(() => engine.jpegInfo!(new Uint8Array(0)), /empty/);
    assert.throws(() => engine.jpegInfo!(new TextEncoder().encode('not a jpeg at all')), /libjpeg: Not a JPEG file/);
    const corrupt = Uint8Array.from(file);
    corrupt.fill(0xff, 200, 260);
    assert.throws(() => engine.decodeJpeg!(corrupt), /libjpeg: /);
    assert.throws(() => engine.jpegResizedCrop!(file, out, 8, 8, { ...crop, left: 130 }), /outside the 137x103 image/);
  });
});
