// The CUDA convolutions on cuDNN (ops/cuda/conv2d_cudnn.h) against the engine's own im2col +
// cuda::gemm path on the same device, for the shapes ResNet-50 and PiX-ResNet50 run, in f32 and
// bf16: heuristic and timed algorithm choice, deterministic repeats, a workspace too small for
// some algorithms, and the settings' round trip. The own path is held to the CPU by
// layers.cuda.test.ts; here cuDNN is held to it. Runs on a GPU with cuDNN 9, and on the CUDA
// emulator with its cuDNN stand-in; skips, saying why, where no CUDA device is usable or cuDNN does
// not load.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { loadEngine, type Tensor } from '../../../electron/host/engine/addon';
import { floats, maxRelativeError } from '../../helpers/compare';
import { cudaSkipReason } from '../../helpers/cuda';
import { outSize, planOf, withConvSettings as withSettings, type ConvCase as Shape, type ConvDType as DType } from '../../helpers/cuda_conv';
import { randomValues, rng } from '../../helpers/random';

const engine = loadEngine();
const { Tensor: T } = engine;

function skipReason(): string | false {
  const cuda = cudaSkipReason();
  if (cuda) return cuda;
  const info = engine.engineInfo().backends.cuda;
  return info.cudnn ? false : `cuDNN is not loaded: ${info.conv}`;
}
const skip = skipReason();

// f32 runs without TF32 on both paths (cuDNN's FMA math), so only the order of the sums differs.
// bf16: cuDNN's weight gradient is rounded to bf16 before it is added to the f32 one, as in
// PyTorch's autocast; the own path keeps it f32.
const TOLERANCE: Record<DType, number> = { f32: 1e-5, bf16: 2e-2 };

// ResNet-50's kinds of convolution, small: the stem, 1x1 squeeze and expand, 3x3 with and without
// stride, the projection shortcut, and channel counts that are not multiples of 8.
const SHAPES: Shape[] = [
  { n: 2, h: 15, w: 13, c: 3, o: 8, kernel: 7, stride: 2, pad: 3 },
  { n: 2, h: 8, w: 8, c: 32, o: 16, kernel: 1, stride: 1, pad: 0 },
  { n: 2, h: 8, w: 8, c: 16, o: 16, kernel: 3, stride: 1, pad: 1 },
  { n: 3, h: 9, w: 9, c: 16, o: 24, kernel: 3, stride: 2, pad: 1 },
  { n: 2, h: 8, w: 8, c: 32, o: 64, kernel: 1, stride: 2, pad: 0 },
  { n: 2, h: 6, w: 5, c: 13, o: 11, kernel: 3, stride: 1, pad: 1 },
];

function inputs(s: Shape, seed: number) {
  const [p, q] = outSize(s);
  const values = (k: number, count: number) => Float32Array.from(randomValues(rng(seed * 10 + k), count, false));
  return { x: values(1, s.n * s.h * s.w * s.c), w: values(2, s.o * s.kernel * s.kernel * s.c), dy: values(3, s.n * p * q * s.o), p, q };
}

interface Result { y: Tensor; dx: Tensor; dw: Tensor }

function run(s: Shape, seed: number, dtype: DType): Result {
  const v = inputs(s, seed);
  const x = T.fromArray(v.x, [s.n, s.h, s.w, s.c], dtype, 'cuda');
  const w = T.fromArray(v.w, [s.o, s.kernel, s.kernel, s.c], 'f32', 'cuda');
  const dy = T.fromArray(v.dy, [s.n, v.p, v.q, s.o], dtype, 'cuda');
  const y = engine.conv2dForward(x, w, s);
  const { dx, dw } = engine.conv2dBackward(x, w, dy, s);
  return { y, dx: dx!, dw };
}

function assertClose(what: string, a: Result, b: Result, tolerance: number): void {
  for (const key of ['y', 'dx', 'dw'] as const) {
    const error = maxRelativeError(floats(a[key]), floats(b[key]));
    assert.ok(error <= tolerance, `${what}: ${key} max relative error ${error.toExponential(2)} > ${tolerance}`);
  }
}

function assertIdentical(what: string, a: Result, b: Result): void {
  for (const key of ['y', 'dx', 'dw'] as const) {
    assert.deepEqual(floats(a[key]), floats(b[key]), `${what}: ${key} differs between two runs`);
  }
}

describe('conv2d on cuDNN against the own CUDA path', { skip }, () => {
  let gemm: ReturnType<typeof engine.setCudaGemm>;
  // No TF32 anywhere, so f32 compares at f32 precision.
  before(() => { gemm = engine.setCudaGemm({ tf32: false }); });
  after(() => { engine.setCudaGemm(gemm); });

  it('pix info says the convolutions run on cuDNN', () => {
    assert.match(engine.engineInfo().backends.cuda.conv!, /^cudnn \d+\.\d+\.\d+ \(heuristic algorithms, deterministic only/);
    withSettings({ backend: 'own' }, () => {
      assert.match(engine.engineInfo().backends.cuda.conv!, /^own im2col \+ gemm \(set to 'own'/);
    });
  });

  SHAPES.forEach((s, i) => {
    for (const dtype of ['f32', 'bf16'] as const) {
      it(`${dtype} k${s.kernel} s${s.stride} p${s.pad} ${s.n}x${s.h}x${s.w}x${s.c} -> ${s.o}`, () => {
        const own = withSettings({ backend: 'own' }, () => run(s, i, dtype));
        const heuristic = run(s, i, dtype);
        assertClose('heuristic algorithms', heuristic, own, TOLERANCE[dtype]);
        // Every direction ran on cuDNN: the comparison above did not compare the own path with itself.
        const plan = planOf(s, dtype);
        for (const direction of ['forward', 'backwardData', 'backwardFilter'] as const) {
          assert.equal(typeof plan[direction], 'object', `${direction} did not run on cuDNN: ${JSON.stringify(plan[direction])}`);
        }
        assertIdentical('deterministic algorithms', run(s, i, dtype), heuristic);
        const timed = withSettings({ benchmark: true }, () => run(s, i, dtype));
        assertClose('timed algorithms', timed, own, TOLERANCE[dtype]);
      });
    }
  });

  it('with no workspace allowed, takes the algorithms that need none and leaves the rest to the own path', () => {
    const s = SHAPES[2];
    const own = withSettings({ backend: 'own' }, () => run(s, 2, 'f32'));
    const small = withSettings({ workspaceMib: 0 }, () => {
      const result = run(s, 2, 'f32');
      const plan = planOf(s, 'f32');
      for (const choice of [plan.forward, plan.backwardData, plan.backwardFilter]) {
        assert.notEqual(choice, null);
        if (choice !== 'own') assert.equal(choice!.workspaceBytes, 0);
      }
      return result;
    });
    assertClose('no workspace', small, own, TOLERANCE.f32);
  });

  it('any algorithm, deterministic or not, still computes the convolution', () => {
    const s = SHAPES[3];
    const own = withSettings({ backend: 'own' }, () => run(s, 3, 'bf16'));
    const any = withSettings({ deterministic: false }, () => run(s, 3, 'bf16'));
    assertClose('non-deterministic allowed', any, own, TOLERANCE.bf16);
  });

  it('setCudaConv returns the settings before the call and refuses bad ones by name', () => {
    const first = engine.setCudaConv({});
    assert.deepEqual(Object.keys(first).sort(), ['backend', 'benchmark', 'deterministic', 'fused', 'workspaceMib']);
    run(SHAPES[1], 1, 'f32');
    assert.ok(engine.cudaConvPlans().length > 0);
    const before = engine.setCudaConv({ benchmark: true, workspaceMib: 64 });
    try {
      assert.deepEqual(engine.cudaConvPlans(), [], 'new settings forget the chosen algorithms');
      assert.deepEqual(before, first);
      assert.deepEqual(engine.setCudaConv({}), { ...first, benchmark: true, workspaceMib: 64 });
    } finally {
      engine.setCudaConv(first);
    }
    assert.throws(() => engine.setCudaConv({ backend: 'fast' as 'auto' }), /setCudaConv: backend must be 'auto' or 'own', got 'fast'/);
    assert.throws(() => engine.setCudaConv({ workspaceMib: -1 }), /setCudaConv: workspaceMib must be a whole number/);
    assert.deepEqual(engine.setCudaConv({}), first);
  });
});
