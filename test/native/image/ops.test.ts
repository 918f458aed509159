// The engine's image ops (native/src/image) against PIL 9.4 run through timm's calls
// (scripts/fixtures/generate_augment.py): every case must match PIL bit for bit, the affine ones
// included (they follow PIL's own sampling loops and double arithmetic, so no tolerance is needed).
// Also: the normalisation against torchvision in float32, the erasing fills, argument errors, and
// loading the addon inside a worker thread.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import { loadEngine, type ImageOp } from '../../../electron/host/engine/addon';
import { firstPixelDifference } from '../../helpers/compare';
import { readFixture } from '../../helpers/fixtures';

const engine = loadEngine();
const fixture = readFixture('augment.safetensors');

interface OpCase { name: string; input: string; output: string; op: ImageOp }
const cases = JSON.parse(fixture.metadata.cases!) as OpCase[];

function image(key: string): { pixels: Uint8Array; width: number; height: number } {
  const t = fixture.tensors.get(key);
  if (!t) throw new Error(`fixture has no ${key}`);
  const [height, width] = t.shape as [number, number, number];
  return { pixels: Uint8Array.from(t.data as Uint8Array), width, height };
}


describe('image ops against PIL', () => {
  const byOp = new Map<string, OpCase[]>();
  for (const c of cases) byOp.set(c.op.op, [...(byOp.get(c.op.op) ?? []), c]);
  for (const [op, list] of byOp) {
    it(`${op}: ${list.length} cases bit for bit`, () => {
      for (const c of list) {
        const { pixels, width, height } = image(c.input);
        engine.augmentImage(pixels, width, height, [c.op]);
        const expected = image(c.output).pixels;
        assert.ok(Buffer.compare(pixels, expected) === 0, `${c.name}: ${firstPixelDifference(pixels, expected, width)}`);
      }
    });
  }

  it('applies a list of ops in order', () => {
    const { pixels, width, height } = image('img.smooth');
    engine.augmentImage(pixels, width, height, [{ op: 'invert' }, { op: 'posterize', bits: 2 }, { op: 'invert' }]);
    assert.deepEqual(pixels, Uint8Array.from(image('img.smooth').pixels, (v) => 255 - ((255 - v) & 0xc0)));
  });
});

describe('normalizeErase', () => {
  const mean = JSON.parse(fixture.metadata.mean!) as [number, number, number];
  const std = JSON.parse(fixture.metadata.std!) as [number, number, number];

  it('normalises as torchvision ToTensor + Normalize in float32, at an offset', () => {
    const { pixels, width, height } = image('img.random');
    const n = width * height * 3;
    const out = new Float32Array(n + 10).fill(7);
    engine.normalizeErase(pixels, width, height, out, 5, { mean, std });
    assert.deepEqual(out.subarray(5, 5 + n), fixture.tensors.get('normalized.random')!.data as Float32Array);
    assert.deepEqual([...out.subarray(0, 5), ...out.subarray(5 + n)], new Array(10).fill(7), 'nothing outside its slice');
  });

  it('fills boxes with per-pixel noise, per-box colours or zeros, the same for the same seed', () => {
    const { pixels, width, height } = image('img.random');
    const box = { top: 3, left: 5, height: 10, width: 20 };
    const run = (mode: 'pixel' | 'rand' | 'const', seed: number) => {
      const out = new Float32Array(width * height * 3);
      engine.normalizeErase(pixels, width, height, out, 0, { mean, std, boxes: [box], mode, seed });
      return out;
    };
    const inside = (out: Float32Array) => {
      const values: number[][] = [[], [], []];
      for (let y = box.top; y < box.top + box.height; y++) {
        for (let x = box.left; x < box.left + box.width; x++) for (let c = 0; c < 3; c++) values[c]!.push(out[(y * width + x) * 3 + c]!);
      }
      return values;
    };
    const plain = fixture.tensors.get('normalized.random')!.data as Float32Array;
    const pixel = run('pixel', 11);
    assert.deepEqual(pixel, run('pixel', 11));
    assert.notDeepEqual(pixel, run('pixel', 12));
    const all = inside(pixel).flat();
    const m = all.reduce((s, v) => s + v, 0) / all.length;
    const v = all.reduce((s, x) => s + (x - m) ** 2, 0) / all.length;
    // 600 N(0,1) values: mean within 4 standard errors (4/sqrt(600) = 0.16), variance within 0.25.
    assert.ok(Math.abs(m) < 0.17 && Math.abs(v - 1) < 0.25, `noise mean ${m}, variance ${v}`);
    for (const [c, values] of inside(run('rand', 3)).entries()) assert.ok(values.every((x) => x === values[0]), `channel ${c} is one colour`);
    assert.ok(inside(run('const', 3)).flat().every((x) => x === 0));
    const outside = run('const', 3);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        if (y >= box.top && y < box.top + box.height && x >= box.left && x < box.left + box.width) continue;
        for (let c = 0; c < 3; c++) assert.equal(outside[(y * width + x) * 3 + c], plain[(y * width + x) * 3 + c]);
      }
    }
  });
});

describe('image op errors', () => {
  const { pixels, width, height } = image('img.tiny');
  it('names the problem', () => {
    assert.throws(() => engine.augmentImage(pixels, width + 1, height, [{ op: 'invert' }]), /pixels has 30 bytes but a 6x2 RGB image needs 36/);
    assert.throws(() => engine.augmentImage(pixels, width, height, [{ op: 'blur' } as unknown as ImageOp]), /unknown image op 'blur'/);
    assert.throws(() => engine.augmentImage(pixels, width, height, [{ op: 'posterize', bits: 9 }]), /bits must be 0..8, got 9/);
    assert.throws(() => engine.augmentImage(pixels, width, height, [{ op: 'affine', matrix: [1, 0, 0, 0, 1, 0], resample: 'lanczos', fill: [0, 0, 0] } as unknown as ImageOp]),
      /resample must be 'nearest', 'bilinear' or 'bicubic', got 'lanczos'/);
    assert.throws(() => engine.normalizeErase(pixels, width, height, new Float32Array(29), 0, {}), /out has 29 elements, too few for 30/);
    assert.throws(() => engine.normalizeErase(pixels, width, height, new Float32Array(30), 0, { boxes: [{ top: 1, left: 0, height: 2, width: 1 }] }),
      /box \(top 1, left 0, 2x1\) is not inside the 5x2 image/);
  });
});

describe('the addon in worker threads', () => {
  it('loads and runs in workers, and the main thread keeps working after they exit', async () => {
    const script = `
      const { parentPort, workerData } = require('node:worker_threads');
      const engine = require(workerData.path);
      const pixels = Uint8Array.from(workerData.pixels);
      engine.augmentImage(pixels, workerData.width, workerData.height, [{ op: 'invert' }]);
      const t = engine.Tensor.fromArray(new Float32Array([1, 2]), [2]);
      parentPort.postMessage({ pixels, sum: t.toArray()[0] + t.toArray()[1] });`;
    const { pixels, width, height } = image('img.random');
    const path = require.resolve(process.env.PIX_ENGINE_PATH ?? '../../../../native/build/Release/pix_engine.node');
    const results = await Promise.all([0, 1].map(() => new Promise<{ pixels: Uint8Array; sum: number }>((resolve, reject) => {
      const worker = new Worker(script, { eval: true, workerData: { path, pixels, width, height } });
      worker.once('message', resolve);
      worker.once('error', reject);
    })));
    const expected = image('out.img.random.invert').pixels;
    for (const r of results) {
      assert.deepEqual(r.pixels, expected);
      assert.equal(r.sum, 3);
    }
    // Engine objects made on the main thread after the workers loaded (and unloaded) the addon.
    await new Promise((resolve) => setTimeout(resolve, 50));
    const t = engine.Tensor.fromArray(new Float32Array([4, 5]), [2]);
    assert.deepEqual(Array.from(t.toArray() as Float32Array), [4, 5]);
    const copy = Uint8Array.from(pixels);
    engine.augmentImage(copy, width, height, [{ op: 'invert' }]);
    assert.deepEqual(copy, expected);
  });
});
