// PiX on CUDA against PiX on the CPU: f32 within 1e-6 and bf16 within 1e-2 (max error relative
// to the output's scale), both layouts, aligned and unaligned subsets, shapes large enough to
// exercise the grid-stride loops. Skips, printing why, where no CUDA device is usable.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadEngine, type Layout, type Tensor } from '../../../electron/host/engine/addon';
import { floats, maxRelativeError } from '../../helpers/compare';
import { bf16Rounded } from '../../helpers/bf16';
import { cudaSkipReason } from '../../helpers/cuda';
import { randomValues, rng } from '../../helpers/random';

const skip = cudaSkipReason();
const engine = loadEngine();
const { Tensor } = engine;

interface GpuCase { n: number; h: number; w: number; c: number; zeta: number; layout: Layout }

const gpuCases: GpuCase[] = [
  { n: 1, h: 1, w: 1, c: 1, zeta: 1, layout: 'nhwc' },
  { n: 2, h: 7, w: 5, c: 13, zeta: 4, layout: 'nhwc' },    // C % zeta != 0: scalar path, short last subset
  { n: 2, h: 7, w: 5, c: 13, zeta: 3, layout: 'nchw' },
  { n: 3, h: 9, w: 9, c: 10, zeta: 5, layout: 'nhwc' },    // runtime zeta
  { n: 4, h: 14, w: 14, c: 256, zeta: 4, layout: 'nhwc' },  // ResNet-like: vector loads
  { n: 4, h: 14, w: 14, c: 512, zeta: 2, layout: 'nhwc' },
  { n: 4, h: 14, w: 14, c: 256, zeta: 4, layout: 'nchw' },
  { n: 2, h: 56, w: 56, c: 64, zeta: 1, layout: 'nhwc' },
  { n: 1, h: 7, w: 7, c: 2048, zeta: 2, layout: 'nhwc' },   // K = 1024 > one block of threads
];

function shapeOf(s: GpuCase, channels: number): number[] {
  return s.layout === 'nhwc' ? [s.n, s.h, s.w, channels] : [s.n, channels, s.h, s.w];
}

/** Runs forward + backward on `device` in `dtype`, returns f64 copies of y, dx, dp. */
function run(x: Float32Array, p: Float32Array, dy: Float32Array, s: GpuCase, dtype: 'f32' | 'bf16', device: string) {
  const k = Math.ceil(s.c / s.zeta);
  const xt: Tensor = Tensor.fromArray(x, shapeOf(s, s.c), dtype, device);
  const pt: Tensor = Tensor.fromArray(p, [s.n, k], 'f32', device);
  const dyt: Tensor = Tensor.fromArray(dy, shapeOf(s, k), dtype, device);
  const params = { zeta: s.zeta, layout: s.layout };
  const y = engine.pixForward(xt, pt, params);
  const { dx, dp } = engine.pixBackward(xt, pt, dyt, params);
  return { y: floats(y), dx: floats(dx!), dp: floats(dp!) };
}


describe('pix CUDA vs CPU', { skip }, () => {
  gpuCases.forEach((s, i) => {
    const name = `N${s.n} ${s.h}x${s.w} C${s.c} zeta${s.zeta} ${s.layout}`;
    const k = Math.ceil(s.c / s.zeta);
    const next = rng(90 + i);
    const x = Float32Array.from(randomValues(next, s.n * s.c * s.h * s.w, i % 3 === 0));
    const p = Float32Array.from({ length: s.n * k }, (_, j) => (j % 7 === 0 ? 0.5 : next()));
    const dy = Float32Array.from(randomValues(next, s.n * k * s.h * s.w));

    it(`f32 within 1e-6: ${name}`, () => {
      const cpu = run(x, p, dy, s, 'f32', 'cpu');
      const gpu = run(x, p, dy, s, 'f32', 'cuda:0');
      assert.ok(maxRelativeError(gpu.y, cpu.y) <= 1e-6, `y ${maxRelativeError(gpu.y, cpu.y)}`);
      assert.ok(maxRelativeError(gpu.dx, cpu.dx) <= 1e-6, `dx ${maxRelativeError(gpu.dx, cpu.dx)}`);
      assert.ok(maxRelativeError(gpu.dp, cpu.dp) <= 1e-6, `dp ${maxRelativeError(gpu.dp, cpu.dp)}`);
    });

    it(`bf16 within 1e-2: ${name}`, () => {
      const [xb, dyb] = [bf16Rounded(x), bf16Rounded(dy)];
      const cpu = run(xb, p, dyb, s, 'f32', 'cpu');
      const gpu = run(xb, p, dyb, s, 'bf16', 'cuda:0');
      assert.ok(maxRelativeError(gpu.y, cpu.y) <= 1e-2, `y ${maxRelativeError(gpu.y, cpu.y)}`);
      assert.ok(maxRelativeError(gpu.dx, cpu.dx) <= 1e-2, `dx ${maxRelativeError(gpu.dx, cpu.dx)}`);
      assert.ok(maxRelativeError(gpu.dp, cpu.dp) <= 1e-2, `dp ${maxRelativeError(gpu.dp, cpu.dp)}`);
    });
  });

  it('rejects f64 on CUDA and bf16 gates', () => {
    const x = Tensor.zeros([1, 2, 2, 4], 'f32', 'cuda:0');
    assert.throws(() => engine.pixForward(x, Tensor.zeros([1, 1], 'bf16', 'cuda:0'), { zeta: 4 }), /gate p must be f32/);
    assert.throws(() => engine.pixForward(x, Tensor.zeros([1, 1], 'f32', 'cuda:0'), { zeta: 4, kernel: 'reference' }),
      /reference kernel runs on the CPU only/);
  });

  it('gives the same gate gradients bit for bit on every run (no atomics in their sums)', () => {
    // Many pixel blocks add into each gate (98 per image at 56x56), in the wide and the plain kernels.
    for (const s of [gpuCases[7]!, gpuCases[4]!, gpuCases[5]!]) {
      const k = Math.ceil(s.c / s.zeta);
      const next = rng(7);
      const x = Float32Array.from(randomValues(next, s.n * s.c * s.h * s.w));
      const p = Float32Array.from({ length: s.n * k }, () => next());
      const dy = Float32Array.from(randomValues(next, s.n * k * s.h * s.w));
      for (const dtype of ['f32', 'bf16'] as const) {
        const first = run(x, p, dy, s, dtype, 'cuda:0').dp;
        for (let i = 0; i < 3; i++) assert.deepEqual(run(x, p, dy, s, dtype, 'cuda:0').dp, first, `${dtype} C${s.c} zeta${s.zeta}`);
      }
    }
  });

  it('reuses cached device memory across steps (no cudaMalloc in the steady state)', () => {
    const s = gpuCases[4]!;
    const k = Math.ceil(s.c / s.zeta);
    const step = () => {
      const x = Tensor.zeros(shapeOf(s, s.c), 'bf16', 'cuda:0');
      const p = Tensor.zeros([s.n, k], 'f32', 'cuda:0');
      const y = engine.pixForward(x, p, { zeta: s.zeta });
      const { dx, dp } = engine.pixBackward(x, p, y, { zeta: s.zeta });
      for (const t of [x, p, y, dx!, dp!]) t.dispose();
    };
    step();
    const before = engine.cudaMemoryStats(0).driverAllocations;
    for (let i = 0; i < 5; i++) step();
    assert.equal(engine.cudaMemoryStats(0).driverAllocations, before);
  });
});
