// The SGEMM epilogue (ops/gemm.h): C = relu?(alpha * op(A) op(B) + beta * C + bias[j] + residual),
// as inference ends a convolution with folded BatchNorm, and the column sums of C per group of rows
// (a global average pool per image) added into a buffer. Every kernel this CPU runs, in fp32 and bf16,
// against the reference loop, which is itself checked against a float64 loop here. Shapes cover the
// places the epilogue is applied: inside the kernels on a tile's last K block (one block, several,
// edge tiles), after the sum of split-K partials, and with k = 0 (no product at all).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadEngine, type CpuPrecision, type GemmParams } from '../../../electron/host/engine/addon';
import { maxRelativeError } from '../../helpers/compare';
import { randomValues, rng } from '../../helpers/random';
import { hostLevels } from '../../helpers/simd_levels';

const engine = loadEngine();
const { Tensor } = engine;

const KERNELS = ['fast', ...hostLevels] as const;
const TOLERANCE = 1e-5;

interface Case {
  m: number;
  n: number;
  k: number;
  transB: boolean;
  beta: number;
  bias: boolean;
  residual: boolean;
  relu: boolean;
  /** Rows per group of the column sums; absent: no sums. */
  groupRows?: number;
}

function label(s: Case): string {
  const parts = [s.bias && 'bias', s.residual && 'residual', s.relu && 'relu'].filter(Boolean).join('+');
  return `m${s.m} n${s.n} k${s.k}${s.transB ? ' transB' : ''} beta${s.beta} ${parts}${s.groupRows ? ` sums/${s.groupRows}` : ''}`;
}

/** Fresh operands from the seed; with beta = 0, C starts as NaN, which must not leak. */
function operands(s: Case, seed: number) {
  const next = rng(seed);
  const values = (count: number) => Float32Array.from(randomValues(next, count));
  return {
    a: values(s.m * s.k),
    b: values(s.k * s.n),
    c: s.beta === 0 ? new Float32Array(s.m * s.n).fill(Number.NaN) : values(s.m * s.n),
    bias: values(s.n),
    residual: values(s.m * s.n),
    sums: values(Math.ceil(s.m / (s.groupRows ?? 1)) * s.n),
  };
}

/** C, followed by the group sums when the case has them. */
function gemm(s: Case, seed: number, kernel: GemmParams['kernel'], precision: CpuPrecision): Float32Array {
  const o = operands(s, seed);
  const c = Tensor.fromArray(o.c, [s.m, s.n]);
  const params: GemmParams = { transB: s.transB, beta: s.beta, kernel, precision, relu: s.relu };
  if (s.bias) params.bias = Tensor.fromArray(o.bias, [s.n]);
  if (s.residual) params.residual = Tensor.fromArray(o.residual, [s.m, s.n]);
  const sums = Tensor.fromArray(o.sums, [o.sums.length / s.n, s.n]);
  if (s.groupRows) Object.assign(params, { sums, groupRows: s.groupRows });
  engine.gemm(Tensor.fromArray(o.a, [s.m, s.k]), Tensor.fromArray(o.b, s.transB ? [s.n, s.k] : [s.k, s.n]), c, params);
  const out = c.toArray() as Float32Array;
  return s.groupRows ? Float32Array.of(...out, ...(sums.toArray() as Float32Array)) : out;
}

/** The definition in float64, independent of the engine (fp32 operands). */
function gemmFloat64(s: Case, seed: number): Float64Array {
  const o = operands(s, seed);
  const out = new Float64Array(s.m * s.n);
  for (let i = 0; i < s.m; i++)
    for (let j = 0; j < s.n; j++) {
      let v = 0;
      for (let q = 0; q < s.k; q++) v += o.a[i * s.k + q]! * o.b[s.transB ? j * s.k + q : q * s.n + j]!;
      if (s.beta !== 0) v += s.beta * o.c[i * s.n + j]!;
      if (s.bias) v += o.bias[j]!;
      if (s.residual) v += o.residual[i * s.n + j]!;
      out[i * s.n + j] = s.relu && !(v > 0) ? 0 : v;
    }
  if (!s.groupRows) return out;
  const sums = Float64Array.from(o.sums);
  for (let i = 0; i < s.m; i++)
    for (let j = 0; j < s.n; j++) sums[Math.floor(i / s.groupRows) * s.n + j]! += out[i * s.n + j]!;
  return Float64Array.of(...out, ...sums);
}

const PARTS = [
  { bias: true, residual: false, relu: false },
  { bias: false, residual: true, relu: false },
  { bias: false, residual: false, relu: true },
  { bias: true, residual: false, relu: true },
  { bias: true, residual: true, relu: true },
];

function cases(m: number, n: number, k: number, betas: number[] = [0]): Case[] {
  return PARTS.flatMap((p) => [false, true].flatMap((transB) => betas.map((beta) => ({ m, n, k, transB, beta, ...p }))));
}

// AVX-512 tiles are 14 x 32, AVX2 6 x 16, portable 6 x 8; KC = 256; K is split across threads when C
// has too few tiles and K >= 2048.
const all: Case[] = [
  ...cases(1, 1, 1, [0, 1]),
  ...cases(37, 53, 29, [0, 0.5]),
  ...cases(15, 33, 257),        // two K blocks: the epilogue on the last only
  ...cases(29, 65, 513),
  ...cases(300, 70, 64),        // conv-like: many row tiles, split across threads
  ...cases(20, 40, 2100, [0, 0.5]),  // deep K: split across threads, epilogue after the partial sums
  ...cases(5, 6, 0, [0, 0.5]),  // k = 0: C = beta * C, then the epilogue
  // Group sums: groups smaller than a tile, straddling tiles, across threads, after split K, k = 0.
  ...[[37, 53, 29, 3], [300, 70, 64, 49], [300, 70, 64, 300], [20, 40, 2100, 7], [5, 6, 0, 2]].flatMap(
    ([m, n, k, groupRows]) => cases(m!, n!, k!).filter((s) => s.bias && s.relu).map((s) => ({ ...s, groupRows }))),
];

describe('gemm epilogue: the reference loop', () => {
  it('matches a float64 loop', () => {
    all.filter((s) => s.k <= 600).forEach((s, i) => {
      const error = maxRelativeError(gemm(s, 100 + i, 'reference', 'fp32'), gemmFloat64(s, 100 + i));
      assert.ok(error <= 1e-6, `${label(s)}: ${error}`);
    });
  });
});

for (const precision of ['fp32', 'bf16'] as const) {
  for (const kernel of KERNELS) {
    describe(`gemm epilogue: ${kernel} kernel, ${precision}`, () => {
      it('matches the reference loop', () => {
        all.forEach((s, i) => {
          const expected = gemm(s, 1000 + i, 'reference', precision);
          const actual = gemm(s, 1000 + i, kernel, precision);
          assert.ok(!actual.some(Number.isNaN), `${label(s)}: NaN in C`);
          const error = maxRelativeError(actual, expected);
          assert.ok(error <= TOLERANCE, `${label(s)}: relative error ${error.toExponential(2)}`);
        });
      });
    });
  }
}

describe('gemm epilogue: argument errors', () => {
  it('names a bias or residual of the wrong size', () => {
    const a = Tensor.zeros([3, 4]), b = Tensor.zeros([4, 5]), c = Tensor.zeros([3, 5]);
    assert.throws(() => engine.gemm(a, b, c, { bias: Tensor.zeros([4]) }), /gemm: bias must be f32 on the cpu with n = 5/);
    assert.throws(() => engine.gemm(a, b, c, { residual: Tensor.zeros([3, 4]) }),
      /gemm: residual has shape \(3,4\) but must be the residual \(M,N\) = \(3,5\)/);
    assert.throws(() => engine.gemm(a, b, c, { residual: c }), /c must not share memory with the residual/);
  });
});
