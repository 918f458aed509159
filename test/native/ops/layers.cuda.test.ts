// The layer ops on CUDA against the same ops on the CPU, forward and backward, on random inputs:
// convolution (any kernel, stride, padding), BatchNorm (train with running statistics, eval, fused
// ReLU), max and global pooling, the residual join, linear, dropout and the layout transposes.
// f32 within 1e-5 of the CPU (max error relative to the output's scale); bf16 activations within
// 2e-2 of the CPU run on the same bf16-rounded values. Skips, printing why, where no CUDA device
// is usable. To add an op: bind it in binding/js_layer_ops.cc, then add a case here that runs the
// same call on both devices.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadEngine, type Tensor } from '../../../electron/host/engine/addon';
import { floats, maxRelativeError } from '../../helpers/compare';
import { bf16Rounded } from '../../helpers/bf16';
import { cudaSkipReason } from '../../helpers/cuda';
import { randomValues, rng } from '../../helpers/random';

const skip = cudaSkipReason();
const engine = loadEngine();
const { Tensor: T } = engine;

type DType = 'f32' | 'bf16';
const F32_TOLERANCE = 1e-5;
const BF16_TOLERANCE = 2e-2;

function randomArray(seed: number, count: number, ties = false): Float32Array {
  return Float32Array.from(randomValues(rng(seed), count, ties));
}


/** A tensor of `values` on `device`: activations in `dtype` there, f32 on the CPU. */
function activation(values: Float32Array, shape: number[], device: string, dtype: DType): Tensor {
  return device === 'cpu' ? T.fromArray(dtype === 'bf16' ? bf16Rounded(values) : values, shape)
    : T.fromArray(values, shape, dtype, device);
}

function param(values: Float32Array, shape: number[], device: string, dtype: DType = 'f32'): Tensor {
  // bf16 convolutions round their weight to bf16 on CUDA: the CPU reference gets the rounded weight.
  return T.fromArray(dtype === 'bf16' && device === 'cpu' ? bf16Rounded(values) : values, shape, 'f32', device);
}

function assertClose(name: string, cuda: Tensor, cpu: Tensor, tolerance: number): void {
  assert.deepEqual(cuda.shape, cpu.shape, `${name}: shape`);
  const error = maxRelativeError(floats(cuda), floats(cpu));
  assert.ok(error <= tolerance, `${name}: max relative error ${error.toExponential(2)} > ${tolerance}`);
}

const DTYPES: [DType, number][] = [['f32', F32_TOLERANCE], ['bf16', BF16_TOLERANCE]];

describe('conv2d CUDA vs CPU', { skip }, () => {
  const cases = [
    { n: 2, h: 9, w: 9, c: 5, o: 7, kernel: 3, stride: 1, pad: 1 },
    { n: 2, h: 8, w: 8, c: 6, o: 4, kernel: 1, stride: 2, pad: 0 },   // projection shortcut
    { n: 1, h: 13, w: 11, c: 3, o: 8, kernel: 7, stride: 2, pad: 3 },  // ImageNet stem
    { n: 2, h: 7, w: 7, c: 70, o: 67, kernel: 1, stride: 1, pad: 0 },  // direct 1x1, tiles not full
    { n: 3, h: 6, w: 5, c: 4, o: 3, kernel: 3, stride: 2, pad: 0 },
    { n: 2, h: 4, w: 4, c: 130, o: 9, kernel: 3, stride: 1, pad: 1 },  // K over two k-slices per tile
  ];
  cases.forEach((s, i) => {
    const p = Math.floor((s.h + 2 * s.pad - s.kernel) / s.stride) + 1;
    const q = Math.floor((s.w + 2 * s.pad - s.kernel) / s.stride) + 1;
    const x = randomArray(10 + i, s.n * s.h * s.w * s.c);
    const w = randomArray(20 + i, s.o * s.kernel * s.kernel * s.c);
    const dy = randomArray(30 + i, s.n * p * q * s.o);
    for (const [dtype, tolerance] of DTYPES) {
      it(`${dtype} k${s.kernel} s${s.stride} p${s.pad} N${s.n} ${s.h}x${s.w} C${s.c} O${s.o}`, () => {
        const run = (device: string) => {
          const xt = activation(x, [s.n, s.h, s.w, s.c], device, dtype);
          const wt = param(w, [s.o, s.kernel, s.kernel, s.c], device, dtype);
          const dyt = activation(dy, [s.n, p, q, s.o], device, dtype);
          const y = engine.conv2dForward(xt, wt, s);
          return { y, ...engine.conv2dBackward(xt, wt, dyt, s) };
        };
        const cuda = run('cuda');
        const cpu = run('cpu');
        assert.equal(cuda.y.device, 'cuda:0');
        assert.equal(cuda.y.dtype, dtype);
        assertClose('y', cuda.y, cpu.y, tolerance);
        assertClose('dx', cuda.dx!, cpu.dx!, tolerance);
        assertClose('dw', cuda.dw, cpu.dw, tolerance);
      });
    }
  });
});

describe('batchnorm CUDA vs CPU', { skip }, () => {
  const cases = [
    { shape: [4, 5, 5, 37], relu: false },
    { shape: [2, 3, 3, 64], relu: true },
    { shape: [3, 40], relu: true },  // pooled features: (N, C)
  ];
  cases.forEach((s, i) => {
    const c = s.shape[s.shape.length - 1];
    const count = s.shape.reduce((a, b) => a * b, 1);
    // An offset mean, so the statistics must not cancel.
    const x = randomArray(40 + i, count).map((v) => 3 + v);
    const dy = randomArray(50 + i, count);
    const gamma = randomArray(60 + i, c).map((v) => 1 + 0.5 * v);
    const beta = randomArray(70 + i, c);
    const runningVar = randomArray(80 + i, c).map((v) => 1.5 + v);
    for (const [dtype, tolerance] of DTYPES) {
      it(`${dtype} ${JSON.stringify(s.shape)} relu ${s.relu}: train, running statistics, backward, eval`, () => {
        const run = (device: string) => {
          const xt = activation(x, s.shape, device, dtype);
          const g = param(gamma, [c], device);
          const b = param(beta, [c], device);
          const rm = T.zeros([c], 'f32', device);
          const rv = param(runningVar, [c], device);
          const train = engine.batchnormForward(xt, g, b, rm, rv, { relu: s.relu });
          const grads = engine.batchnormBackward(xt, train.y, activation(dy, s.shape, device, dtype), g, train.mean!,
            train.invstd!, { relu: s.relu });
          const evalY = engine.batchnormForward(xt, g, b, rm, rv, { train: false, relu: s.relu }).y;
          return { ...train, ...grads, rm, rv, evalY };
        };
        const cuda = run('cuda');
        const cpu = run('cpu');
        assertClose('y', cuda.y, cpu.y, tolerance);
        // Per-channel values are f32 on both devices: the statistics of identical inputs agree closely.
        assertClose('mean', cuda.mean!, cpu.mean!, F32_TOLERANCE);
        assertClose('invstd', cuda.invstd!, cpu.invstd!, F32_TOLERANCE);
        assertClose('running mean', cuda.rm, cpu.rm, F32_TOLERANCE);
        assertClose('running var', cuda.rv, cpu.rv, F32_TOLERANCE);
        assertClose('dx', cuda.dx, cpu.dx, tolerance);
        assertClose('dgamma', cuda.dgamma, cpu.dgamma, tolerance);
        assertClose('dbeta', cuda.dbeta, cpu.dbeta, tolerance);
        assertClose('eval y', cuda.evalY, cpu.evalY, tolerance);
      });
    }
  });
});

describe('batchnorm with the residual join fused in, CUDA vs CPU', { skip }, () => {
  // 24 channels: 16-byte vectors of f32 and bf16; 13: one per thread. 110 pixels: two chunks of rows.
  for (const shape of [[2, 10, 11, 24], [3, 4, 5, 13]]) {
    const c = shape[3]!;
    const count = shape.reduce((a, b) => a * b, 1);
    const x = randomArray(140, count).map((v) => 2 + v);
    const residual = randomArray(141, count);
    const dy = randomArray(142, count);
    const gamma = randomArray(143, c).map((v) => 1 + 0.5 * v);
    const beta = randomArray(144, c);
    for (const [dtype, tolerance] of DTYPES) {
      it(`${dtype} ${JSON.stringify(shape)}: y = relu(bn(x) + residual) with its pool, backward with the shortcut's gradient, eval`, () => {
        const run = (device: string) => {
          const xt = activation(x, shape, device, dtype);
          const res = activation(residual, shape, device, dtype);
          const g = param(gamma, [c], device);
          const b = param(beta, [c], device);
          const [rm, rv] = [T.zeros([c], 'f32', device), T.fromArray(new Float32Array(c).fill(1), [c], 'f32', device)];
          const train = engine.batchnormForward(xt, g, b, rm, rv, { residual: res, pooled: true });
          const grads = engine.batchnormBackward(xt, train.y, activation(dy, shape, device, dtype), g, train.mean!,
            train.invstd!, { join: true });
          const evalOut = engine.batchnormForward(xt, g, b, rm, rv, { train: false, residual: res, pooled: true });
          return { ...train, ...grads, evalY: evalOut.y, evalPooled: evalOut.pooled! };
        };
        const cuda = run('cuda');
        const cpu = run('cpu');
        for (const key of ['y', 'pooled', 'dx', 'dgamma', 'dbeta', 'dresidual', 'evalY', 'evalPooled'] as const) {
          assertClose(key, cuda[key]!, cpu[key]!, tolerance);
        }
        // The join's gradient is dy where the output is positive (f32: dy as given).
        if (dtype === 'f32') {
          const [yv, dres] = [floats(cpu.y), floats(cpu.dresidual!)];
          for (let i = 0; i < count; i++) assert.equal(dres[i], yv[i]! > 0 ? dy[i] : 0);
        }
      });
    }
  }
});

describe('pooling, join, linear, dropout and layout CUDA vs CPU', { skip }, () => {
  for (const [dtype, tolerance] of DTYPES) {
    // 19 channels: one per thread; 16: 16-byte vectors of channels.
    for (const c of [19, 16]) {
      it(`${dtype} maxpool 3x3/2 pad 1 with tied maxima, ${c} channels, forward and backward`, () => {
        const shape = [2, 9, 8, c];
        const x = randomArray(90, 2 * 9 * 8 * c, true);
        const dy = randomArray(91, 2 * 5 * 4 * c);
        const run = (device: string) => {
          const xt = activation(x, shape, device, dtype);
          const y = engine.maxpoolForward(xt);
          return { y, dx: engine.maxpoolBackward(xt, activation(dy, [2, 5, 4, c], device, dtype)) };
        };
        const cuda = run('cuda');
        const cpu = run('cpu');
        assertClose('y', cuda.y, cpu.y, 0);  // a maximum is a copy
        assertClose('dx', cuda.dx, cpu.dx, tolerance);
      });
    }

    // 45 channels: one per thread; 64: 16-byte vectors, and 132 pixels: three chunks of rows.
    for (const shape of [[3, 7, 6, 45], [3, 12, 11, 64]]) {
      it(`${dtype} global average pooling ${JSON.stringify(shape)}, forward and backward`, () => {
        const [n, , , c] = shape as [number, number, number, number];
        const x = randomArray(92, shape.reduce((p, v) => p * v, 1));
        const dy = randomArray(93, n * c);
        const run = (device: string) => {
          const xt = activation(x, shape, device, dtype);
          const y = engine.globalAvgPoolForward(xt);
          return { y, dx: engine.globalAvgPoolBackward(xt, T.fromArray(dy, [n, c], 'f32', device)) };
        };
        const cuda = run('cuda');
        const cpu = run('cpu');
        assert.equal(cuda.y.dtype, 'f32');
        assertClose('y', cuda.y, cpu.y, tolerance);
        assertClose('dx', cuda.dx, cpu.dx, tolerance);
      });
    }

    // The residual join with the next gate's input mean taken on the way out (add_relu's mean).
    for (const shape of [[2, 5, 5, 33], [2, 9, 10, 48]]) {
      it(`${dtype} add_relu ${JSON.stringify(shape)} with the mean of its output`, () => {
        const count = shape.reduce((p, v) => p * v, 1);
        const [a, b] = [randomArray(98, count), randomArray(99, count)];
        const run = (device: string) =>
          engine.addReluForward(activation(a, shape, device, dtype), activation(b, shape, device, dtype), { mean: true });
        const cuda = run('cuda');
        const cpu = run('cpu');
        assertClose('y', cuda.y, cpu.y, tolerance);
        assertClose('mean', cuda.mean, cpu.mean, tolerance);
        // The mean is the pool of y as stored (bf16-rounded on CUDA in bf16).
        assertClose('mean against the pool of y', cuda.mean, engine.globalAvgPoolForward(cuda.y), 1e-6);
      });
    }

    it(`${dtype} add_relu, forward and backward`, () => {
      const shape = [2, 5, 5, 33];
      const count = 2 * 5 * 5 * 33;
      const a = randomArray(94, count);
      const b = randomArray(95, count);
      const dy = randomArray(96, count);
      const run = (device: string) => {
        const y = engine.addReluForward(activation(a, shape, device, dtype), activation(b, shape, device, dtype));
        return { y, ...engine.addReluBackward(y, activation(dy, shape, device, dtype)) };
      };
      const cuda = run('cuda');
      const cpu = run('cpu');
      assertClose('y', cuda.y, cpu.y, tolerance);
      assertClose('da', cuda.da, cpu.da, tolerance);
      assertClose('db', cuda.db, cpu.db, tolerance);
    });

    it(`${dtype} NCHW <-> NHWC`, () => {
      const x = randomArray(97, 2 * 3 * 5 * 7);
      const run = (device: string) => {
        const nhwc = engine.nchwToNhwc(activation(x, [2, 3, 5, 7], device, dtype));
        return { nhwc, back: engine.nhwcToNchw(nhwc) };
      };
      const cuda = run('cuda');
      const cpu = run('cpu');
      assertClose('nhwc', cuda.nhwc, cpu.nhwc, 0);
      assertClose('round trip', cuda.back, activation(x, [2, 3, 5, 7], 'cpu', dtype), 0);
    });
  }

  it('linear (classifier shape), forward and backward', () => {
    const [n, c, o] = [6, 130, 75];
    const x = randomArray(98, n * c);
    const w = randomArray(99, o * c);
    const b = randomArray(100, o);
    const dy = randomArray(101, n * o);
    const run = (device: string) => {
      const xt = T.fromArray(x, [n, c], 'f32', device);
      const wt = T.fromArray(w, [o, c], 'f32', device);
      const y = engine.linearForward(xt, wt, T.fromArray(b, [o], 'f32', device));
      return { y, ...engine.linearBackward(xt, wt, T.fromArray(dy, [n, o], 'f32', device)) };
    };
    const cuda = run('cuda');
    const cpu = run('cpu');
    assertClose('y', cuda.y, cpu.y, F32_TOLERANCE);
    assertClose('dx', cuda.dx, cpu.dx, F32_TOLERANCE);
    assertClose('dw', cuda.dw, cpu.dw, F32_TOLERANCE);
    assertClose('db', cuda.db!, cpu.db!, F32_TOLERANCE);
  });

  it('dropout draws the CPU mask for the same seed', () => {
    const x = randomArray(102, 8 * 300);
    const dy = randomArray(103, 8 * 300);
    const run = (device: string) => {
      const { y, mask } = engine.dropoutForward(T.fromArray(x, [8, 300], 'f32', device), 0.3, 12345);
      return { y, mask, dx: engine.dropoutBackward(T.fromArray(dy, [8, 300], 'f32', device), mask) };
    };
    const cuda = run('cuda');
    const cpu = run('cpu');
    assert.deepEqual(floats(cuda.mask), floats(cpu.mask));
    assertClose('y', cuda.y, cpu.y, 0);
    assertClose('dx', cuda.dx, cpu.dx, 0);
    const dropped = floats(cpu.mask).filter((m) => m === 0).length / (8 * 300);
    assert.ok(dropped > 0.2 && dropped < 0.4, `dropped fraction ${dropped} is far from p = 0.3`);
  });
});

describe('layer ops refuse mixed devices', { skip }, () => {
  it('names the argument on the other device', () => {
    const x = T.zeros([1, 4, 4, 3], 'f32', 'cuda');
    const w = T.zeros([2, 3, 3, 3]);
    assert.throws(() => engine.conv2dForward(x, w, { kernel: 3, pad: 1 }), /weight is on cpu but x is on cuda:0/);
  });
});
