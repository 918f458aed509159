// conv2d's evaluation epilogue on CUDA (ops/conv2d.h): y = relu?(conv(x) + bias[o] (+ residual)) and
// the mean of y per image, against the CPU's on the same values, in f32 and bf16, on each path CUDA
// has for it: cuDNN's fused call (cudnnConvolutionBiasActivationForward), cuDNN's convolution then
// the engine's epilogue pass (fused off, or a bias in f32 beside bf16 activations), and the own
// im2col + gemm convolution then that pass. Then which algorithm the fused call took, or why cuDNN
// refused it, as the plans report. Runs on a GPU and on the CUDA emulator (whose cuDNN stand-in
// checks the fused call's arguments as cuDNN documents them); skips, saying why, without a CUDA device.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadEngine, type ConvEpilogueParams, type CudaConvSettings, type Tensor } from '../../../electron/host/engine/addon';
import { bf16Rounded } from '../../helpers/bf16';
import { floats, maxRelativeError } from '../../helpers/compare';
import { cudaSkipReason } from '../../helpers/cuda';
import { outSize, planOf, withConvSettings as withSettings, type ConvCase as Shape, type ConvDType as DType } from '../../helpers/cuda_conv';
import { randomValues, rng } from '../../helpers/random';

const skip = cudaSkipReason();
const engine = loadEngine();
const { Tensor: T } = engine;

// f32: cuDNN and the own path sum in their own orders (FMA math, no TF32). bf16: y, the residual
// and a bf16 bias are each rounded once more than the CPU's f32 (4e-3 each, relative to y's scale).
const TOLERANCE: Record<DType, number> = { f32: 1e-5, bf16: 2e-2 };

// A bottleneck's kinds: 1x1 expand (the residual join's), 3x3, a strided projection, and channel
// counts that are not multiples of 8.
const SHAPES: Shape[] = [
  { n: 2, h: 6, w: 6, c: 16, o: 32, kernel: 1, stride: 1, pad: 0 },
  { n: 2, h: 7, w: 5, c: 13, o: 11, kernel: 3, stride: 1, pad: 1 },
  { n: 3, h: 8, w: 8, c: 16, o: 24, kernel: 1, stride: 2, pad: 0 },
];

// As nn::ConvBn::infer asks: bias and ReLU, the residual join, and a projection's bias alone.
const EPILOGUES = ['bias+relu', 'bias+residual+relu', 'bias'] as const;

interface Values { x: Float32Array; w: Float32Array; bias: Float32Array; residual: Float32Array }

function values(s: Shape, seed: number, dtype: DType): Values {
  const next = rng(seed);
  const [p, q] = outSize(s);
  // Activations in the dtype's values, so the CPU convolves exactly what CUDA does; w too (a bf16
  // convolution rounds it).
  const make = (count: number) => {
    const v = Float32Array.from(randomValues(next, count));
    return dtype === 'bf16' ? bf16Rounded(v) : v;
  };
  return { x: make(s.n * s.h * s.w * s.c), w: make(s.o * s.kernel * s.kernel * s.c), bias: make(s.o), residual: make(s.n * p * q * s.o) };
}

interface Output { y: number[]; mean: number[] }

/** The convolution with its epilogue on `device`; the bias in `biasType` (CUDA may take x's dtype). */
function run(s: Shape, v: Values, name: string, device: 'cpu' | 'cuda', dtype: DType, biasType: DType): Output {
  const [p, q] = outSize(s);
  const activations = device === 'cpu' ? 'f32' : dtype;
  const e: ConvEpilogueParams = {
    relu: name.includes('relu'),
    bias: T.fromArray(v.bias, [s.o], device === 'cpu' ? 'f32' : biasType, device),
    mean: T.zeros([s.n, s.o], 'f32', device),
  };
  if (name.includes('residual')) e.residual = T.fromArray(v.residual, [s.n, p, q, s.o], activations, device);
  const x = T.fromArray(v.x, [s.n, s.h, s.w, s.c], activations, device);
  const w = T.fromArray(v.w, [s.o, s.kernel, s.kernel, s.c], 'f32', device);
  const y = engine.conv2dForward(x, w, { kernel: s.kernel, stride: s.stride, pad: s.pad, ...e });
  return { y: [...floats(y)], mean: [...floats(e.mean as Tensor)] };
}

const PATHS: { name: string; settings: Partial<CudaConvSettings>; biasType: (d: DType) => DType }[] = [
  { name: "cuDNN's fused call", settings: { backend: 'auto', fused: true }, biasType: (d) => d },
  { name: "cuDNN's convolution, then the epilogue pass", settings: { backend: 'auto', fused: false }, biasType: (d) => d },
  { name: 'a f32 bias beside bf16 activations (the epilogue pass)', settings: { backend: 'auto', fused: true }, biasType: () => 'f32' },
  { name: 'the own convolution, then the epilogue pass', settings: { backend: 'own' }, biasType: (d) => d },
];

describe('conv2d epilogue on CUDA against the CPU', { skip }, () => {
  for (const path of PATHS) {
    for (const dtype of ['f32', 'bf16'] as const) {
      it(`${path.name}, ${dtype}`, () => {
        withSettings(path.settings, () => {
          SHAPES.forEach((s, i) => {
            for (const name of EPILOGUES) {
              const biasType = path.biasType(dtype);
              const v = values(s, 10 * i + EPILOGUES.indexOf(name), dtype);
              const cpu = run(s, v, name, 'cpu', dtype, biasType);
              const cuda = run(s, v, name, 'cuda', dtype, biasType);
              const what = `${JSON.stringify(s)} ${name}`;
              const yError = maxRelativeError(cuda.y, cpu.y);
              assert.ok(yError <= TOLERANCE[dtype], `${what}: y max relative error ${yError.toExponential(2)}`);
              // The mean is of CUDA's own y, rounded as stored.
              const meanError = maxRelativeError(cuda.mean, cpu.mean);
              assert.ok(meanError <= TOLERANCE[dtype], `${what}: mean max relative error ${meanError.toExponential(2)}`);
              if (name.includes('relu')) assert.ok(cuda.y.every((value) => value >= 0), `${what}: a negative after ReLU`);
            }
          });
        });
      });
    }
  }
});

describe("conv2d epilogue on CUDA: the fused call's plan", { skip }, () => {
  const emulated = !skip && engine.engineInfo().backends.cuda.emulated;
  const cudnn = !skip && engine.engineInfo().backends.cuda.cudnn;

  it('records the algorithm the fused call ran with, or why cuDNN refused it, per activation', { skip: !cudnn && 'cuDNN is not loaded' }, () => {
    withSettings({ backend: 'auto', fused: true }, () => {
      const s = SHAPES[0]!;
      const v = values(s, 1, 'bf16');
      run(s, v, 'bias+residual+relu', 'cuda', 'bf16', 'bf16');
      run(s, v, 'bias', 'cuda', 'bf16', 'bf16');
      const plan = planOf(s, 'bf16');
      for (const [which, choice] of [['ReLU', plan.fusedRelu], ['identity', plan.fusedIdentity]] as const) {
        assert.ok(choice !== null, `${which}: the fused call was never tried`);
        if ('refused' in choice) {
          assert.ok(!emulated, `${which}: the emulator's cuDNN refused the fused call: ${choice.refused}`);
          assert.ok(choice.refused.length > 0, `${which}: refused without a reason`);
          console.log(`# cuDNN refused the fused call with ${which} for bf16 ${JSON.stringify(s)}: ${choice.refused}`);
        } else if (which === 'identity') {
          assert.equal(choice.algo, 1, 'identity runs only with IMPLICIT_PRECOMP_GEMM (1)');
        }
      }
      if (emulated) {
        // The stand-in's heuristics put algorithm 1 first, and it takes the fused call.
        assert.deepEqual(plan.fusedRelu, plan.forward, 'ReLU takes the forward\'s own algorithm');
      }
    });
  });

  it('is not tried with fused off, nor on the own path', () => {
    for (const settings of [{ backend: 'auto' as const, fused: false }, { backend: 'own' as const }]) {
      withSettings(settings, () => {
        const s = SHAPES[1]!;
        run(s, values(s, 2, 'f32'), 'bias+relu', 'cuda', 'f32', 'f32');
        const plan = engine.cudaConvPlans().find((p) => p.dtype === 'f32' && p.shape.c === s.c && p.shape.o === s.o);
        if (plan) assert.equal(plan.fusedRelu, null, `${JSON.stringify(settings)}: the fused call was tried`);
      });
    }
  });

  it("setCudaConv reports and restores the fused switch", () => {
    const first = engine.setCudaConv({ fused: false });
    try {
      assert.equal(engine.setCudaConv({}).fused, false);
    } finally {
      engine.setCudaConv(first);
    }
    assert.equal(engine.setCudaConv({}).fused, first.fused);
  });
});
