// SGEMM on the CPU: every kernel this CPU runs ('fast' and each SIMD level up to the host's) against
// the engine's reference loop (double sums), which is itself checked against a float64 loop here.
// Covers all four transpose combinations, alpha/beta (beta = 0 over NaN), shapes on both sides of
// every block edge (MR/NR tiles, KC, tile splits across threads, K split across threads), leading
// dimensions longer than the rows, and the argument errors. bf16 precision: every kernel against the
// reference over the same rounded operands (the reference's rounding checked here against a float64
// loop), odd K included (the bf16 panels pack k in pairs).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadEngine, type CpuPrecision, type GemmParams, type Tensor } from '../../../electron/host/engine/addon';
import { floats, maxRelativeError } from '../../helpers/compare';
import { randomValues, rng } from '../../helpers/random';
import { hostLevels, hostSimd } from '../../helpers/simd_levels';

const engine = loadEngine();
const { Tensor } = engine;

const KERNELS = ['fast', ...hostLevels] as const;
const TOLERANCE = 1e-5;

interface Case {
  m: number;
  n: number;
  k: number;
  transA: boolean;
  transB: boolean;
  alpha: number;
  beta: number;
  /** Extra rows and columns of each tensor around its matrix (leading dimension > row length). */
  pad?: number;
  /** Default 'fp32'. */
  precision?: CpuPrecision;
}

function label(s: Case): string {
  const t = `${s.transA ? 'T' : 'N'}${s.transB ? 'T' : 'N'}`;
  return `${t} m${s.m} n${s.n} k${s.k} alpha${s.alpha} beta${s.beta}${s.pad ? ` pad${s.pad}` : ''}` +
    `${s.precision === 'bf16' ? ' bf16' : ''}`;
}

/** Tensors for a case, filled from the seed; with beta = 0, C starts as NaN, which must not leak. */
function operands(s: Case, seed: number): { a: Float32Array; b: Float32Array; c: Float32Array; shapes: number[][] } {
  const pad = s.pad ?? 0;
  const next = rng(seed);
  const shapes = [
    s.transA ? [s.k + pad, s.m + pad] : [s.m + pad, s.k + pad],
    s.transB ? [s.n + pad, s.k + pad] : [s.k + pad, s.n + pad],
    [s.m + pad, s.n + pad],
  ];
  const size = (shape: number[]) => shape[0]! * shape[1]!;
  const cSize = size(shapes[2]!);
  const c = s.beta === 0 ? new Float32Array(cSize).fill(Number.NaN) : Float32Array.from(randomValues(next, cSize));
  return {
    a: Float32Array.from(randomValues(next, size(shapes[0]!))),
    b: Float32Array.from(randomValues(next, size(shapes[1]!))),
    c,
    shapes,
  };
}

/** Runs one kernel on fresh tensors and returns all of C, padding included. */
function gemm(s: Case, seed: number, kernel: GemmParams['kernel']): Float32Array {
  const { a, b, c, shapes } = operands(s, seed);
  const out = Tensor.fromArray(c, shapes[2]!);
  const params: GemmParams = { transA: s.transA, transB: s.transB, alpha: s.alpha, beta: s.beta, kernel };
  if (s.precision) params.precision = s.precision;
  if (s.pad) Object.assign(params, { m: s.m, n: s.n, k: s.k });
  engine.gemm(Tensor.fromArray(a, shapes[0]!), Tensor.fromArray(b, shapes[1]!), out, params);
  return out.toArray() as Float32Array;
}

/** The (m, n) matrix out of a padded C. */
function inner(s: Case, c: ArrayLike<number>): Float64Array {
  const ldc = s.n + (s.pad ?? 0);
  return Float64Array.from({ length: s.m * s.n }, (_, e) => c[Math.floor(e / s.n) * ldc + (e % s.n)]!);
}

/** x rounded to bf16 as vcvtne2ps2bf16 does: to nearest even, denormals to zero, NaN quiet. */
function roundToBf16(x: number): number {
  const bits = new Uint32Array(Float32Array.of(x).buffer)[0]!;
  const exponent = bits & 0x7f800000;
  let rounded: number;
  if (exponent === 0) rounded = bits & 0x80000000;
  else if (exponent === 0x7f800000 && (bits & 0x007fffff) !== 0) rounded = (bits | 0x00400000) & 0xffff0000;
  else rounded = (bits + 0x7fff + ((bits >>> 16) & 1)) & 0xffff0000;
  return new Float32Array(Uint32Array.of(rounded >>> 0).buffer)[0]!;
}

/** The definition in float64, independent of the engine; for bf16, of the rounded operands. */
function gemmFloat64(s: Case, seed: number): Float64Array {
  const { a, b, c, shapes } = operands(s, seed);
  if (s.precision === 'bf16') for (const x of [a, b]) x.set(x.map(roundToBf16));
  const lda = shapes[0]![1]!, ldb = shapes[1]![1]!, ldc = shapes[2]![1]!;
  const out = Float64Array.from(c);
  for (let i = 0; i < s.m; i++)
    for (let j = 0; j < s.n; j++) {
      let sum = 0;
      for (let q = 0; q < s.k; q++)
        sum += a[s.transA ? q * lda + i : i * lda + q]! * b[s.transB ? j * ldb + q : q * ldb + j]!;
      out[i * ldc + j] = s.alpha * sum + (s.beta === 0 ? 0 : s.beta * c[i * ldc + j]!);
    }
  return out;
}

const TRANSPOSES = [[false, false], [false, true], [true, false], [true, true]] as const;
const SCALES = [[1, 0], [2.5, 0], [1, 1], [-0.5, 0.75], [0, 2]] as const;

function combos(m: number, n: number, k: number, scales: readonly (readonly [number, number])[] = [[1, 0]]): Case[] {
  return TRANSPOSES.flatMap(([transA, transB]) =>
    scales.map(([alpha, beta]) => ({ m, n, k, transA, transB, alpha, beta })));
}

function bf16(cases: Case[]): Case[] {
  return cases.map((s) => ({ ...s, precision: 'bf16' }));
}

// The AVX-512 tile is 14 x 32, AVX2 6 x 16, portable 6 x 8; KC = 256 (K splits evenly past it, and
// shrinks for a wide B when one thread runs alone); tiles of C are up to 126 x 512, even-sized, and
// shrink until each thread has four; K is split across threads when C has too few tiles and K >= 2048.
// Products under 2^20 multiply-adds run on one thread.
const cases: Case[] = [
  ...combos(1, 1, 1, SCALES),
  ...combos(37, 53, 29, SCALES),
  ...combos(14, 32, 256),
  ...combos(15, 33, 257),
  ...combos(13, 31, 255),
  ...combos(29, 65, 513),
  ...combos(127, 40, 30),     // more rows than one tile
  ...combos(300, 33, 120),    // tall and skinny: rows split across threads
  ...combos(5, 700, 320),     // short and wide: columns split across threads
  ...combos(3, 1030, 340),    // past the 512-column tile
  ...combos(20, 40, 2100, [[1, 0], [-0.5, 0.75]]),  // deep K: split across threads, partial sums
  ...combos(9, 700, 2100),    // deep K and wide B: shorter KC blocks in each thread's slice
  ...combos(2, 3, 0, [[1, 0], [1, 1], [-0.5, 0.75]]),  // k = 0: C = beta * C
  ...combos(17, 23, 19, [[1, 0], [0.5, 1.5]]).map((s) => ({ ...s, pad: 3 })),
  ...combos(40, 70, 300, [[1, 1]]).map((s) => ({ ...s, pad: 5 })),
];

// bf16 panels hold k in pairs, blocks of k are whole pairs and only the last pair of K (or of a
// thread's slice of K) is padded with a zero: odd K throughout, on both sides of the block edges.
const bf16Cases: Case[] = bf16([
  ...combos(1, 1, 1, SCALES),
  ...combos(37, 53, 29, SCALES),
  ...combos(14, 32, 256),
  ...combos(15, 33, 257),
  ...combos(13, 31, 255),
  ...combos(29, 65, 513),
  ...combos(127, 40, 31),
  ...combos(300, 33, 121),
  ...combos(5, 700, 321),
  ...combos(3, 1030, 341),
  ...combos(20, 40, 2101, [[1, 0], [-0.5, 0.75]]),  // K split across threads into odd slices
  ...combos(9, 700, 2099),
  ...combos(2, 3, 0, [[1, 0], [-0.5, 0.75]]),
  ...combos(17, 23, 19, [[1, 0], [0.5, 1.5]]).map((s) => ({ ...s, pad: 3 })),
  ...combos(40, 70, 301, [[1, 1]]).map((s) => ({ ...s, pad: 5 })),
]);

describe('gemm reference loop', () => {
  [
    ...combos(37, 53, 29, SCALES),
    ...combos(6, 5, 4).map((s) => ({ ...s, pad: 2 })),
    ...bf16([...combos(37, 53, 29, SCALES), ...combos(6, 5, 7).map((s) => ({ ...s, pad: 2 }))]),
  ].forEach((s, i) => {
    it(`matches a float64 loop: ${label(s)}`, () => {
      const error = maxRelativeError(inner(s, gemm(s, 100 + i, 'reference')), inner(s, gemmFloat64(s, 100 + i)));
      assert.ok(error <= 1e-6, `relative error ${error}`);
    });
  });
});

for (const kernel of KERNELS) {
  describe(`gemm ${kernel} kernel`, () => {
    cases.forEach((s, i) => {
      it(`matches the reference: ${label(s)}`, () => {
        const actual = inner(s, gemm(s, 1000 + i, kernel));
        const error = maxRelativeError(actual, inner(s, gemm(s, 1000 + i, 'reference')));
        assert.ok(!actual.some(Number.isNaN), 'NaN in C (with beta = 0, from the NaN C held before)');
        assert.ok(error <= TOLERANCE, `relative error ${error}`);
      });
    });

    bf16Cases.forEach((s, i) => {
      it(`matches the reference: ${label(s)}`, () => {
        const actual = inner(s, gemm(s, 3000 + i, kernel));
        const error = maxRelativeError(actual, inner(s, gemm(s, 3000 + i, 'reference')));
        assert.ok(!actual.some(Number.isNaN), 'NaN in C (with beta = 0, from the NaN C held before)');
        assert.ok(error <= TOLERANCE, `relative error ${error}`);
      });
    });

    it('rounds bf16 operands to nearest even, denormals to zero', () => {
      // Halfway cases round to the even neighbour (bf16 keeps 7 fraction bits); 1e-39 is denormal;
      // the largest floats round up to infinity.
      const values = [1 + 2 ** -8, 1 + 3 * 2 ** -8, -(1 + 2 ** -8 + 2 ** -20), 1e-39, 3, 3.4e38, -Infinity, NaN];
      const expected = [1, 1 + 2 ** -6, -(1 + 2 ** -7), 0, 3, Infinity, -Infinity, NaN];
      const c = Tensor.zeros([values.length, 1]);
      const a = Tensor.fromArray(Float32Array.from(values), [values.length, 1]);
      engine.gemm(a, Tensor.fromArray(Float32Array.of(1), [1, 1]), c, { kernel, precision: 'bf16' });
      assert.deepEqual(Array.from(floats(c)), expected);
      assert.deepEqual(expected, values.map(roundToBf16));
    });

    it('ends an odd K with zeros, not with what the previous product packed', () => {
      // The previous product leaves infinities in the packing buffers; infinity times the zero
      // that pads B's last pair would be NaN.
      const infinite = Tensor.fromArray(new Float32Array(14 * 64).fill(Infinity), [14, 64]);
      engine.gemm(infinite, Tensor.zeros([64, 32]), Tensor.zeros([14, 32]), { kernel, precision: 'bf16' });
      for (const transA of [false, true]) {
        const s: Case = { m: 14, n: 32, k: 63, transA, transB: false, alpha: 1, beta: 0, precision: 'bf16' };
        assert.ok(!gemm(s, 11, kernel).some(Number.isNaN), `NaN in C (transA ${transA})`);
      }
    });

    it('leaves C outside (m, n) untouched when the tensors are larger', () => {
      const s: Case = { m: 15, n: 33, k: 9, transA: false, transB: true, alpha: 1, beta: 0, pad: 4 };
      const c = gemm(s, 7, kernel);
      for (let i = 0; i < s.m + 4; i++)
        for (let j = 0; j < s.n + 4; j++)
          if (i >= s.m || j >= s.n) assert.ok(Number.isNaN(c[i * (s.n + 4) + j]!), `c[${i}][${j}] was written`);
    });
  });
}

describe('gemm argument errors', () => {
  const a = Tensor.fromArray(new Float32Array(12), [3, 4]);
  const b = Tensor.fromArray(new Float32Array(20), [4, 5]);
  const c = Tensor.fromArray(new Float32Array(15), [3, 5]);

  it('names shapes that do not fit together', () => {
    assert.throws(() => engine.gemm(a, Tensor.fromArray(new Float32Array(15), [3, 5]), c),
      /gemm: b has shape \(3,5\) but must be B stored \(K,N\) = \(4,5\)/);
    assert.throws(() => engine.gemm(a, b, Tensor.fromArray(new Float32Array(12), [3, 4])),
      /gemm: b has shape \(4,5\) but must be B stored \(K,N\) = \(4,4\)/);
    assert.throws(() => engine.gemm(a, b, c, { transA: true }),
      /gemm: a has shape \(3,4\) but must be A stored \(K,M\) = \(3,3\)/);
    assert.throws(() => engine.gemm(a, b, c, { transB: true }),
      /gemm: b has shape \(4,5\) but must be B stored \(N,K\) = \(5,4\)/);
  });
  it('rejects tensors that are not 2-D f32 on the CPU', () => {
    assert.throws(() => engine.gemm(a.reshape([12]), b, c), /gemm: a must be 2-D, got shape \(12\)/);
    assert.throws(() => engine.gemm(a, b.cast('f64'), c), /gemm: b must be f32, got f64/);
    assert.throws(() => engine.gemm(a, b, {} as Tensor), { name: 'TypeError', message: /'c' must be a Tensor/ });
  });
  it('checks explicit sizes against the tensors', () => {
    assert.throws(() => engine.gemm(a, b, c, { m: 3, n: 5 }), /give all of m, n and k, or none/);
    assert.throws(() => engine.gemm(a, b, c, { m: 4, n: 5, k: 4 }), /gemm: a has 3 rows but A stored \(M,K\) needs 4/);
    assert.throws(() => engine.gemm(a, b, c, { m: 3, n: 5, k: 5 }), /gemm: b has 4 rows but B stored \(K,N\) needs 5/);
    assert.throws(() => engine.gemm(a, b, c, { m: 3, n: 6, k: 4 }),
      /sgemm: ldb=5 is shorter than a row of B, stored \(K,N\) with 6 columns/);
    assert.throws(() => engine.gemm(a, b, c, { m: -1, n: 5, k: 4 }), /m must be a non-negative integer, got -1/);
    assert.throws(() => engine.gemm(a, b, c, { m: 1.5, n: 5, k: 4 }), /m must be a non-negative integer, got 1.5/);
  });
  it('rejects an output that shares memory with an input', () => {
    const square = Tensor.fromArray(new Float32Array(16), [4, 4]);
    assert.throws(() => engine.gemm(square, square.reshape([4, 4]), square), /c must not share memory with a or b/);
  });
  it('rejects unknown kernels, precisions and wrongly typed parameters', () => {
    assert.throws(() => engine.gemm(a, b, c, { kernel: 'blas' as 'fast' }),
      /kernel must be 'fast', 'reference', 'avx512', 'avx2' or 'portable', got 'blas'/);
    assert.throws(() => engine.gemm(a, b, c, { precision: 'f16' as 'bf16' }),
      /gemm: precision must be 'fp32' or 'bf16', got 'f16'/);
    assert.throws(() => engine.gemm(a, b, c, { transA: 1 as unknown as boolean }), TypeError);
    assert.throws(() => engine.gemm(a, b, c, 3 as unknown as GemmParams), TypeError);
  });
  it('refuses a kernel this CPU lacks', { skip: hostSimd === 'avx512' && 'this CPU has every kernel' }, () => {
    assert.throws(() => engine.gemm(a, b, c, { kernel: 'avx512' }), /the avx512 kernel needs a CPU with avx512/);
  });
  it('rejects a disposed tensor', () => {
    const gone = Tensor.fromArray(new Float32Array(4), [2, 2]);
    gone.dispose();
    assert.throws(() => engine.gemm(gone, Tensor.zeros([2, 2]), Tensor.zeros([2, 2])), /disposed/);
  });
  it('accepts empty matrices', () => {
    engine.gemm(Tensor.zeros([0, 4]), b, Tensor.zeros([0, 5]));
    const out = Tensor.fromArray(new Float32Array([1, 2, 3, 4, 5, 6]), [2, 3]);
    engine.gemm(Tensor.zeros([2, 0]), Tensor.zeros([0, 3]), out, { beta: 2 });
    assert.deepEqual(Array.from(floats(out)), [2, 4, 6, 8, 10, 12]);
  });
});
