// The affine op's bilinear and bicubic filters (native/src/image/affine.cpp, and affine_avx2.cpp
// on hosts with AVX2) against a port of the portable C++ code to JavaScript, bit for bit, on many
// seeded random cases: rotations, shears, translations (whole and fractional pixels), scales and
// flips, arbitrary matrices, points on and next to the image edges, images of odd sizes including
// 1x1, 1xN and Nx1, and random fill colours. The port does the same double operations in the same
// order (JavaScript numbers are IEEE doubles and are never fused), so it gives the portable C++
// code's bytes, which ops.test.ts checks against PIL. The binding has no switch to force the
// portable path, so on an AVX2 host this is what compares the two.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadEngine } from '../../../electron/host/engine/addon';
import { firstPixelDifference } from '../../helpers/compare';
import { randInt, rng } from '../../helpers/random';

const engine = loadEngine();
const simd = engine.engineInfo().backends.cpu.simd;

type Matrix = [number, number, number, number, number, number];
type Resample = 'bilinear' | 'bicubic';
interface Image { pixels: Uint8Array; width: number; height: number }

// ---- the port of affine.cpp's portable filters ---------------------------------------------------

const floorInt = (v: number) => (v < 0 ? Math.floor(v) : Math.trunc(v));
const clipIndex = (v: number, size: number) => (v < 0 ? 0 : v < size ? v : size - 1);
const clip8 = (v: number) => (v <= 0 ? 0 : v >= 255 ? 255 : Math.trunc(v));

function cubic(v1: number, v2: number, v3: number, v4: number, d: number): number {
  const p1 = v2;
  const p2 = -v1 + v3;
  const p3 = 2 * (v1 - v2) + v3 - v4;
  const p4 = -v1 + v2 - v3 + v4;
  return p1 + d * (p2 + d * (p3 + d * p4));
}

function bilinear(im: Image, xin: number, yin: number, out: Uint8Array, o: number): void {
  xin -= 0.5;
  yin -= 0.5;
  const x = floorInt(xin), y = floorInt(yin);
  const dx = xin - x, dy = yin - y;
  const stride = im.width * 3;
  const x0 = clipIndex(x, im.width) * 3, x1 = clipIndex(x + 1, im.width) * 3;
  const r0 = clipIndex(y, im.height) * stride;
  const r1 = y + 1 >= 0 && y + 1 < im.height ? (y + 1) * stride : r0;
  const px = im.pixels;
  for (let c = 0; c < 3; c++) {
    const a0 = px[r0 + x0 + c]!, b0 = px[r0 + x1 + c]!;
    let v1 = a0 + (b0 - a0) * dx;
    const a1 = px[r1 + x0 + c]!, b1 = px[r1 + x1 + c]!;
    const v2 = a1 + (b1 - a1) * dx;
    v1 = v1 + (v2 - v1) * dy;
    out[o + c] = Math.trunc(v1);
  }
}

function bicubic(im: Image, xin: number, yin: number, out: Uint8Array, o: number): void {
  xin -= 0.5;
  yin -= 0.5;
  let x = floorInt(xin), y = floorInt(yin);
  const dx = xin - x, dy = yin - y;
  x--;
  y--;
  const stride = im.width * 3;
  const xs = [0, 1, 2, 3].map((k) => clipIndex(x + k, im.width) * 3);
  const rows = [clipIndex(y, im.height) * stride];
  for (let k = 1; k < 4; k++) rows.push(y + k >= 0 && y + k < im.height ? (y + k) * stride : rows[k - 1]!);
  const px = im.pixels;
  for (let c = 0; c < 3; c++) {
    const at = (k: number, j: number) => px[rows[k]! + xs[j]! + c]!;
    if (dy === 0) {
      out[o + c] = dx === 0 ? at(1, 1) : clip8(cubic(at(1, 0), at(1, 1), at(1, 2), at(1, 3), dx));
      continue;
    }
    const v = [0, 1, 2, 3].map((k) => (dx === 0 ? at(k, 1) : cubic(at(k, 0), at(k, 1), at(k, 2), at(k, 3), dx)));
    out[o + c] = clip8(cubic(v[0]!, v[1]!, v[2]!, v[3]!, dy));
  }
}

function reference(src: Image, a: Matrix, resample: Resample, fill: [number, number, number]): Uint8Array {
  const out = new Uint8Array(src.pixels.length);
  const filter = resample === 'bicubic' ? bicubic : bilinear;
  for (let y = 0; y < src.height; y++) {
    const yin = y + 0.5;
    const by = a[1] * yin, ey = a[4] * yin;
    for (let x = 0; x < src.width; x++) {
      const xin = x + 0.5;
      const sx = a[0] * xin + by + a[2];
      const sy = a[3] * xin + ey + a[5];
      const o = (y * src.width + x) * 3;
      if (sx < 0 || sx >= src.width || sy < 0 || sy >= src.height) out.set(fill, o);
      else filter(src, sx, sy, out, o);
    }
  }
  return out;
}

// ---- cases ---------------------------------------------------------------------------------------

function randomImage(next: () => number, width: number, height: number): Image {
  const pixels = new Uint8Array(width * height * 3);
  const kind = randInt(next, 0, 3);
  for (let i = 0; i < pixels.length; i++) {
    // Black/white edges (the bicubic overshoots that clip8 clips), near-white, and noise.
    pixels[i] = kind === 0 ? (next() < 0.5 ? 0 : 255) : kind === 1 ? randInt(next, 250, 255) : randInt(next, 0, 255);
  }
  return { pixels, width, height };
}

function randomSize(next: () => number): [number, number] {
  switch (randInt(next, 0, 5)) {
    case 0: return [1, randInt(next, 1, 40)];
    case 1: return [randInt(next, 1, 40), 1];
    case 2: return [randInt(next, 1, 6), randInt(next, 1, 6)];
    case 3: return [randInt(next, 40, 90), randInt(next, 40, 90)];
    default: return [randInt(next, 1, 40), randInt(next, 1, 40)];
  }
}

/** A matrix of one of the kinds RandAugment makes, or others (scales, flips, anything). */
function randomMatrix(next: () => number, w: number, h: number): { kind: string; m: Matrix } {
  const u = (lo: number, hi: number) => lo + (hi - lo) * next();
  const cx = w / 2, cy = h / 2;
  switch (randInt(next, 0, 8)) {
    case 0: {
      // PIL's rotate about the centre, as timm's Rotate, plus a little translation.
      const th = u(-Math.PI, Math.PI), c = Math.cos(th), s = Math.sin(th);
      return { kind: 'rotate', m: [c, s, cx - c * cx - s * cy + u(-2, 2), -s, c, cy + s * cx - c * cy + u(-2, 2)] };
    }
    case 1: return { kind: 'shearX', m: [1, u(-0.6, 0.6), u(-w / 2, w / 2), 0, 1, 0] };
    case 2: return { kind: 'shearY', m: [1, 0, 0, u(-0.6, 0.6), 1, u(-h / 2, h / 2)] };
    case 3: return { kind: 'translate whole pixels', m: [1, 0, randInt(next, -w, w), 0, 1, randInt(next, -h, h)] };
    case 4: return { kind: 'translate', m: [1, 0, u(-w, w), 0, 1, u(-h, h)] };
    case 5: return { kind: 'scale/flip', m: [u(-1.5, 1.5), 0, u(-w, w), 0, u(-1.5, 1.5), u(-h, h)] };
    case 6: return { kind: 'any', m: [u(-2, 2), u(-2, 2), u(-2, 2) * w, u(-2, 2), u(-2, 2), u(-2, 2) * h] };
    case 7: {
      // Source points on, or a hair either side of, pixel centres and the image's edges.
      const e = [0, 0.5, -0.5, 1e-12, -1e-12, 0.25, 1 - 1e-15, w - 0.5, -w + 0.5];
      return { kind: 'near-edge', m: [1, 0, e[randInt(next, 0, 8)]!, 0, 1, e[randInt(next, 0, 6)]!] };
    }
    default: {
      // Degenerate and huge entries (1e101 and up go through the portable code).
      const k = [0, 1, -1, 0.5, 2, 1e-300, 1e20, 1e101, -1e150];
      const pick = () => k[randInt(next, 0, k.length - 1)]!;
      const m: Matrix = [pick(), pick(), pick(), pick(), pick(), pick()];
      // No infinity minus infinity: a NaN source point has no defined result.
      if (Math.abs(m[0]) > 1e100 && Math.abs(m[1]) > 1e100) m[1] = 0;
      if (Math.abs(m[3]) > 1e100 && Math.abs(m[4]) > 1e100) m[4] = 0;
      return { kind: 'degenerate', m };
    }
  }
}


function check(src: Image, m: Matrix, resample: Resample, fill: [number, number, number], label: string): void {
  const expected = reference(src, m, resample, fill);
  const pixels = Uint8Array.from(src.pixels);
  engine.augmentImage(pixels, src.width, src.height, [{ op: 'affine', matrix: m, resample, fill }]);
  assert.ok(Buffer.compare(pixels, expected) === 0,
    `${label} ${resample} ${src.width}x${src.height} matrix ${JSON.stringify(m)} fill ${fill}: ${firstPixelDifference(pixels, expected, src.width)}`);
}

describe(`affine filters (${simd} host) against the portable code`, () => {
  for (const resample of ['bilinear', 'bicubic'] as const) {
    it(`${resample}: 600 random cases bit for bit`, () => {
      const next = rng(resample === 'bilinear' ? 0x5eed : 0xc0b1c);
      for (let i = 0; i < 600; i++) {
        const [w, h] = randomSize(next);
        const src = randomImage(next, w, h);
        const { kind, m } = randomMatrix(next, w, h);
        const fill: [number, number, number] = [randInt(next, 0, 255), randInt(next, 0, 255), randInt(next, 0, 255)];
        check(src, m, resample, fill, `case ${i} (${kind})`);
      }
    });

    it(`${resample}: RandAugment's ops on a 224x224 image, the last pixel included`, () => {
      const next = rng(224);
      const src = randomImage(next, 224, 224);
      for (const deg of [0, 1, 17, -30, 45, 90, 180]) {
        const th = (deg * Math.PI) / 180, c = Math.cos(th), s = Math.sin(th);
        check(src, [c, s, 112 - c * 112 - s * 112, -s, c, 112 + s * 112 - c * 112], resample, [128, 128, 128], `rotate ${deg}`);
      }
      check(src, [1, 0.3, -33.6, 0, 1, 0], resample, [0, 0, 0], 'shearX');
      check(src, [1, 0, 0, -0.3, 1, 33.6], resample, [0, 0, 0], 'shearY');
      check(src, [1, 0, 40.32, 0, 1, 0], resample, [1, 2, 3], 'translateX');
      check(src, [1, 0, 0, 0, 1, -99], resample, [1, 2, 3], 'translateY');
      // Up and down by a little, so the bottom-right neighbourhoods reach the image's last byte.
      check(src, [0.999, 0, 0.3, 0, 0.999, 0.3], resample, [9, 9, 9], 'scale');
      check(src, [1.001, 0, -0.1, 0, 1.001, -0.1], resample, [9, 9, 9], 'scale');
    });
  }
});
