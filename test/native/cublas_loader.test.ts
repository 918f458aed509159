// cuBLAS behind cuda::gemm, opened at run time (ops/cuda/cublas.h): `pix info --json` says which
// implementation runs (backends.cuda.gemm: "cublas 13.x.y" or "own kernel (why)"), PIX_CUBLAS=0
// and PIX_CUBLAS=<file> are honoured, the search names what it tried, a library without a needed
// symbol is refused naming it, and a libcublas outside the loader's path loads with the
// libcublasLt beside it. Each of these runs `pix info` in a child process, since the library is
// opened once per process; the stubs are tiny C libraries built here with cc (skipped without one).
// On a CUDA device (skipped otherwise, printing why): cuBLAS against the own kernel and a double
// reference for f32/bf16 operands, f32/bf16 C, every transposition, beta 0 (C full of NaN: never
// read) and 1, alpha, odd sizes and padded leading dimensions; TF32 only when switched on; and
// convolution and linear, forward and backward, the same on both implementations.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadEngine } from '../../electron/host/engine/addon';
import type { CudaBackendInfo } from '../../shared/engine';
import { floats, maxRelativeError } from '../helpers/compare';
import { cudaSkipReason } from '../helpers/cuda';
import { childCudaInfo } from '../helpers/pix_info';
import { randomValues, rng } from '../helpers/random';

const engine = loadEngine();
const { Tensor: T } = engine;
const cudaHere = engine.engineInfo().backends.cuda;


const notCompiled = cudaHere.compiled ? false : (cudaHere.unavailableReason ?? 'this build has no CUDA backend');

describe('cuBLAS loader: what pix info reports', { skip: notCompiled }, () => {
  it('names the implementation cuda::gemm runs on', () => {
    const info = childCudaInfo({});
    assert.equal(typeof info.cublas, 'boolean');
    assert.equal(typeof info.gemmTf32, 'boolean');
    if (info.cublas) {
      assert.match(info.gemm!, /^cublas \d+\.\d+\.\d+$|^own kernel \(.+\)$/);
      assert.match(info.cublasPath!, /libcublas/);
    } else {
      assert.match(info.gemm!, /^own kernel \(.+\)$/);
      assert.equal(info.cublasPath, null);
    }
    console.log(`# cuda.gemm here: ${info.gemm}`);
  });

  it('without libcublas, runs the own kernel and says what it tried and how to fix it', (t) => {
    const info = childCudaInfo({ LD_LIBRARY_PATH: null, CUDA_HOME: '/nonexistent-cuda', CUDA_PATH: null, PIX_CUBLAS: null });
    if (info.cublas) {
      t.skip(`libcublas is on this machine's loader path or in /usr/local/cuda (${info.cublasPath})`);
      return;
    }
    assert.match(info.gemm!, /^own kernel \(cuBLAS not found: tried libcublas\.so\.13, libcublas\.so\.12, libcublas\.so, /);
    assert.match(info.gemm!, /\/nonexistent-cuda\/lib64\//);
    assert.match(info.gemm!, /LD_LIBRARY_PATH/);
    assert.match(info.gemm!, /PIX_CUBLAS=/);
  });

  it('PIX_CUBLAS=0 runs the own kernel without opening cuBLAS', () => {
    const info = childCudaInfo({ PIX_CUBLAS: '0' });
    assert.equal(info.gemm, 'own kernel (PIX_CUBLAS=0)');
    assert.equal(info.cublas, false);
    assert.equal(info.cublasPath, null);
  });

  it('PIX_CUBLAS=<file> that does not exist says so', () => {
    const info = childCudaInfo({ PIX_CUBLAS: '/nonexistent-dir/libcublas.so.13' });
    assert.equal(info.cublas, false);
    assert.match(info.gemm!, /^own kernel \(cuBLAS \(PIX_CUBLAS\) not found: tried \/nonexistent-dir\/libcublas\.so\.13; /);
  });
});

// ---- stub libraries: the loader's success and refusal paths, without cuBLAS --------------------------

const LT_SOURCE = 'int pixStubLt(void) { return 0; }\n';
// Just enough of the ABI for loading; cublasCreate_v2 fails, so nothing ever runs on it.
const CUBLAS_SOURCE = `
extern int pixStubLt(void);
typedef void* H;
int cublasCreate_v2(H* h) { *h = 0; return 1 + pixStubLt(); }
int cublasDestroy_v2(H h) { return 0; }
int cublasSetStream_v2(H h, void* s) { return 0; }
int cublasSetWorkspace_v2(H h, void* w, unsigned long n) { return 0; }
int cublasSetMathMode(H h, int m) { return 0; }
int cublasGetVersion_v2(H h, int* v) { *v = 130099; return 0; }
const char* cublasGetStatusString(int s) { return "stub"; }
int cublasGetProperty(int type, int* v) { *v = type == 0 ? 13 : type == 1 ? 0 : 99; return 0; }
#ifndef OMIT_GEMMEX
int cublasGemmEx(void) { return 15; }
#endif
int cublasGemmStridedBatchedEx(void) { return 15; }
`;

describe('cuBLAS loader: stub libraries', { skip: notCompiled }, () => {
  let dir = '';
  let noCompiler: string | false = false;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'pix-cublas-stub-'));
    writeFileSync(join(dir, 'lt.c'), LT_SOURCE);
    writeFileSync(join(dir, 'cublas.c'), CUBLAS_SOURCE);
    const cc = (args: string[]) => spawnSync('cc', ['-shared', '-fPIC', '-w', ...args], { cwd: dir, encoding: 'utf8' });
    const builds = [
      ['-o', 'good/libcublasLt.so.13', '-Wl,-soname,libcublasLt.so.13', 'lt.c'],
      // libcublas needs libcublasLt (DT_NEEDED, no RUNPATH): loads only if the loader finds that first.
      ['-o', 'good/libcublas.so.13', '-Wl,-soname,libcublas.so.13', 'cublas.c', '-Wl,--no-as-needed',
        'good/libcublasLt.so.13'],
      ['-o', 'nogemm/libcublasLt.so.13', '-Wl,-soname,libcublasLt.so.13', 'lt.c'],
      ['-o', 'nogemm/libcublas.so.13', '-Wl,-soname,libcublas.so.13', '-DOMIT_GEMMEX', 'cublas.c',
        '-Wl,--no-as-needed', 'nogemm/libcublasLt.so.13'],
    ];
    for (const sub of ['good', 'nogemm', 'nolt', 'home']) mkdirSync(join(dir, sub));
    for (const args of builds) {
      const result = cc(args);
      if (result.error || result.status !== 0) {
        noCompiler = `cannot build the stub libraries with cc: ${result.error?.message ?? result.stderr}`;
        return;
      }
    }
    copyFileSync(join(dir, 'good', 'libcublas.so.13'), join(dir, 'nolt', 'libcublas.so.13'));  // its libcublasLt missing
    symlinkSync(join(dir, 'good'), join(dir, 'home', 'lib64'));  // CUDA_HOME=<dir>/home
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('PIX_CUBLAS=<file> loads that file, with its libcublasLt beside it', (t) => {
    if (noCompiler) return t.skip(noCompiler);
    const file = join(dir, 'good', 'libcublas.so.13');
    const info = childCudaInfo({ PIX_CUBLAS: file });
    assert.equal(info.cublas, true);
    assert.equal(info.cublasPath, file);
    assert.equal(info.gemm, 'cublas 13.0.99');  // no device touched yet: a handle is made at the first gemm
  });

  it('finds libcublas.so.13 in $CUDA_HOME/lib64, with its libcublasLt beside it', (t) => {
    if (noCompiler) return t.skip(noCompiler);
    const info = childCudaInfo({ LD_LIBRARY_PATH: null, CUDA_HOME: join(dir, 'home'), CUDA_PATH: null, PIX_CUBLAS: null });
    assert.equal(info.cublas, true);
    if (!info.cublasPath!.startsWith(dir)) {
      t.skip(`a real libcublas is on the loader's path (${info.cublasPath}), which comes before CUDA_HOME`);
      return;
    }
    assert.equal(info.gemm, 'cublas 13.0.99');
  });

  it('a libcublas without a needed symbol is refused, naming the symbol', (t) => {
    if (noCompiler) return t.skip(noCompiler);
    const info = childCudaInfo({ PIX_CUBLAS: join(dir, 'nogemm', 'libcublas.so.13') });
    assert.equal(info.cublas, false);
    assert.match(info.gemm!, /^own kernel \(cuBLAS unusable: .*nogemm\/libcublas\.so\.13 has no symbol cublasGemmEx; /);
  });

  it('a libcublas whose dependency is missing is refused with the loader\'s message', (t) => {
    if (noCompiler) return t.skip(noCompiler);
    const info = childCudaInfo({ PIX_CUBLAS: join(dir, 'nolt', 'libcublas.so.13'), LD_LIBRARY_PATH: null });
    if (info.cublas) {
      t.skip('a libcublasLt.so.13 is in ld.so.cache here, so the dependency is found anyway');
      return;
    }
    assert.match(info.gemm!, /exists but could not be loaded: .*libcublasLt\.so\.13/);
  });
});

// ---- on a CUDA device: cuBLAS against the own kernel --------------------------------------------

function gpuSkip(): string | false {
  const reason = cudaSkipReason();
  if (reason) return reason;
  if (!cudaHere.cublas) return `cuBLAS is not loaded, so there is nothing to compare: ${cudaHere.gemm}`;
  return false;
}
const skipGpu = gpuSkip();

type DType = 'f32' | 'bf16';

function bf16Rounded(values: Float32Array): Float32Array {
  return T.fromArray(values, [values.length], 'bf16').toArray() as Float32Array;
}

/** Runs `body` with cuda::gemm on `backend`, restoring the settings after. */
function withBackend<R>(backend: 'auto' | 'own', body: () => R, tf32 = false): R {
  const before = engine.setCudaGemm({ backend, tf32 });
  try {
    return body();
  } finally {
    engine.setCudaGemm(before);
  }
}

interface GemmCase {
  m: number; n: number; k: number;
  transA: boolean; transB: boolean;
  alpha: number; beta: number;
  ab: DType; c: DType;
  pad: number;  // extra columns of every stored matrix: leading dimensions past the row length
}

/** C = alpha op(A) op(B) + beta C in double over the values the device sees. */
function reference(s: GemmCase, a: Float32Array, b: Float32Array, c0: Float32Array, lda: number, ldb: number,
  ldc: number): Float64Array {
  const out = new Float64Array(s.m * s.n);
  for (let i = 0; i < s.m; i++) {
    for (let j = 0; j < s.n; j++) {
      let acc = 0;
      for (let p = 0; p < s.k; p++) {
        const av = s.transA ? a[p * lda + i]! : a[i * lda + p]!;
        const bv = s.transB ? b[j * ldb + p]! : b[p * ldb + j]!;
        acc += av * bv;
      }
      out[i * s.n + j] = s.alpha * acc + (s.beta === 0 ? 0 : s.beta * c0[i * ldc + j]!);
    }
  }
  return out;
}

/** The (M,N) top-left corner of a row-major matrix with row length ld. */
function corner(values: Float64Array, m: number, n: number, ld: number): Float64Array {
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) out[i * n + j] = values[i * ld + j]!;
  return out;
}

function runGemm(s: GemmCase, seed: number, backend: 'auto' | 'own', tf32 = false) {
  const [aRows, aCols] = s.transA ? [s.k, s.m] : [s.m, s.k];
  const [bRows, bCols] = s.transB ? [s.n, s.k] : [s.k, s.n];
  const lda = aCols + s.pad, ldb = bCols + s.pad, ldc = s.n + s.pad;
  const next = rng(seed);
  let a: Float32Array = Float32Array.from(randomValues(next, aRows * lda));
  let b: Float32Array = Float32Array.from(randomValues(next, bRows * ldb));
  let c0: Float32Array = Float32Array.from(randomValues(next, s.m * ldc));
  if (s.ab === 'bf16') a = bf16Rounded(a), b = bf16Rounded(b);
  if (s.c === 'bf16') c0 = bf16Rounded(c0);
  // beta = 0 must not read C: fill it with NaN, which would poison any product that did.
  const cInit = s.beta === 0 ? new Float32Array(s.m * ldc).fill(NaN) : c0;
  const at = T.fromArray(a, [aRows, lda], s.ab, 'cuda');
  const bt = T.fromArray(b, [bRows, ldb], s.ab, 'cuda');
  const ct = T.fromArray(cInit, [s.m, ldc], s.c, 'cuda');
  withBackend(backend, () => engine.cudaGemm(at, bt, ct, {
    transA: s.transA, transB: s.transB, alpha: s.alpha, beta: s.beta, m: s.m, n: s.n, k: s.k,
  }), tf32);
  const full = floats(ct);
  for (const t of [at, bt, ct]) t.dispose();
  return { c: corner(full, s.m, s.n, ldc), full, expected: reference(s, a, b, c0, lda, ldb, ldc), ldc };
}

/** A product's error bound relative to the output's scale: f32 sums (K terms), then C's rounding. */
function tolerance(s: GemmCase): number {
  return s.c === 'bf16' ? 8e-3 : 2e-6 * Math.max(1, Math.sqrt(s.k));
}

/** Fails (and so fails its suite) unless products really go to cuBLAS: else both sides run the own kernel. */
function assertOnCublas(): void {
  const a = T.zeros([8, 8], 'bf16', 'cuda');
  engine.cudaGemm(a, a, T.zeros([8, 8], 'f32', 'cuda'));  // creates the device's handle
  const { gemm } = engine.engineInfo().backends.cuda as unknown as CudaBackendInfo;
  assert.match(gemm!, /^cublas \d+\.\d+\.\d+$/, `cuda::gemm is not on cuBLAS: ${gemm}`);
}

describe('cuda::gemm on cuBLAS against the own kernel', { skip: skipGpu }, () => {
  before(assertOnCublas);
  const sizes: [number, number, number][] = [[1, 1, 1], [7, 13, 5], [65, 33, 129], [130, 67, 300], [1, 257, 64]];
  const layouts: [boolean, boolean][] = [[false, false], [false, true], [true, false], [true, true]];
  const dtypes: [DType, DType][] = [['f32', 'f32'], ['bf16', 'bf16'], ['bf16', 'f32'], ['f32', 'bf16']];
  let seed = 1;
  for (const [ab, c] of dtypes) {
    for (const [m, n, k] of sizes) {
      for (const [transA, transB] of layouts) {
        for (const [alpha, beta] of [[1, 0], [0.5, 1]] as const) {
          const s: GemmCase = { m, n, k, transA, transB, alpha, beta, ab, c, pad: (m + n) % 3 };
          const caseSeed = seed++;
          const name = `${ab}->${c} M${m} N${n} K${k}${transA ? ' A^T' : ''}${transB ? ' B^T' : ''} ` +
            `alpha ${alpha} beta ${beta}${s.pad ? ` ld+${s.pad}` : ''}`;
          it(name, () => {
            const cublas = runGemm(s, caseSeed, 'auto');
            const own = runGemm(s, caseSeed, 'own');
            const tol = tolerance(s);
            const eCublas = maxRelativeError(cublas.c, cublas.expected);
            const eOwn = maxRelativeError(own.c, own.expected);
            const eBetween = maxRelativeError(cublas.c, own.c);
            assert.ok(eCublas <= tol, `cuBLAS vs reference ${eCublas.toExponential(2)} > ${tol}`);
            assert.ok(eOwn <= tol, `own kernel vs reference ${eOwn.toExponential(2)} > ${tol}`);
            assert.ok(eBetween <= 2 * tol, `cuBLAS vs own kernel ${eBetween.toExponential(2)} > ${2 * tol}`);
            // Padding columns of C are never written, on either path.
            if (s.pad && s.beta === 0) {
              for (let i = 0; i < s.m; i++)
                for (let j = s.n; j < cublas.ldc; j++) assert.ok(Number.isNaN(cublas.full[i * cublas.ldc + j]!), 'pad written');
            }
          });
        }
      }
    }
  }

  it('f32 stays f32 unless TF32 is switched on', () => {
    const s: GemmCase = { m: 96, n: 80, k: 512, transA: false, transB: true, alpha: 1, beta: 0, ab: 'f32', c: 'f32', pad: 0 };
    const exact = runGemm(s, 99, 'auto');
    const tf32 = runGemm(s, 99, 'auto', true);
    const eExact = maxRelativeError(exact.c, exact.expected);
    const eTf32 = maxRelativeError(tf32.c, tf32.expected);
    console.log(`# f32 K=512: ${eExact.toExponential(2)} exact, ${eTf32.toExponential(2)} with TF32`);
    assert.ok(eExact <= tolerance(s), `f32 without TF32: ${eExact.toExponential(2)}`);
    assert.ok(eTf32 <= 5e-3, `TF32: ${eTf32.toExponential(2)}`);
    assert.equal(engine.setCudaGemm({}).tf32, false, 'the switch is restored');
  });

  it('alpha = 0 and k = 0 scale C by beta without reading A or B, on both paths', () => {
    for (const backend of ['auto', 'own'] as const) {
      const c = T.fromArray(Float32Array.from([1, 2, 3, 4]), [2, 2], 'f32', 'cuda');
      const a = T.zeros([2, 3], 'f32', 'cuda');
      const b = T.zeros([3, 2], 'f32', 'cuda');
      withBackend(backend, () => engine.cudaGemm(a, b, c, { alpha: 0, beta: 2 }));
      assert.deepEqual(Array.from(floats(c)), [2, 4, 6, 8]);
      withBackend(backend, () => engine.cudaGemm(a, b, c, { m: 2, n: 2, k: 0, beta: 0 }));
      assert.deepEqual(Array.from(floats(c)), [0, 0, 0, 0]);
    }
  });

  it('reports cuBLAS in the info once a handle exists, and its workspace is allocated once', () => {
    runGemm({ m: 64, n: 64, k: 64, transA: false, transB: false, alpha: 1, beta: 0, ab: 'bf16', c: 'bf16', pad: 0 }, 5, 'auto');
    const info = engine.engineInfo().backends.cuda as unknown as CudaBackendInfo;
    assert.match(info.gemm!, /^cublas \d+\.\d+\.\d+$/, `gemm: ${info.gemm}`);
    const a = T.zeros([256, 256], 'bf16', 'cuda');
    const b = T.zeros([256, 256], 'bf16', 'cuda');
    const c = T.zeros([256, 256], 'f32', 'cuda');
    engine.cudaGemm(a, b, c);
    const driverAllocations = engine.cudaMemoryStats(0).driverAllocations;
    for (let i = 0; i < 20; i++) engine.cudaGemm(a, b, c, { beta: 1 });
    engine.cudaSynchronize(0);
    assert.equal(engine.cudaMemoryStats(0).driverAllocations, driverAllocations);
    const before = engine.setCudaGemm({ backend: 'own' });
    try {
      assert.match((engine.engineInfo().backends.cuda as unknown as CudaBackendInfo).gemm!, /^own kernel \(set to 'own'/);
    } finally {
      engine.setCudaGemm(before);
    }
  });

  it('refuses operands of two dtypes and CPU tensors, naming them', () => {
    const a = T.zeros([2, 2], 'f32', 'cuda');
    const b = T.zeros([2, 2], 'bf16', 'cuda');
    const c = T.zeros([2, 2], 'f32', 'cuda');
    assert.throws(() => engine.cudaGemm(a, b, c), /cudaGemm: a and b must have one dtype, got f32 and bf16/);
    assert.throws(() => engine.cudaGemm(a, T.zeros([2, 2]), c), /cudaGemm: b must be on a CUDA device, got cpu/);
  });
});

// ---- the layers on both implementations --------------------------------------------------------

describe('convolution and linear: cuBLAS and the own kernel agree', { skip: skipGpu }, () => {
  before(assertOnCublas);
  const convCases = [
    { n: 2, h: 9, w: 9, c: 5, o: 7, kernel: 3, stride: 1, pad: 1 },
    { n: 2, h: 7, w: 7, c: 70, o: 67, kernel: 1, stride: 1, pad: 0 },  // direct 1x1: beta 1 into dx
    { n: 1, h: 13, w: 11, c: 3, o: 8, kernel: 7, stride: 2, pad: 3 },  // stem
    { n: 2, h: 8, w: 8, c: 64, o: 128, kernel: 1, stride: 2, pad: 0 },
  ];
  convCases.forEach((s, i) => {
    for (const dtype of ['f32', 'bf16'] as const) {
      it(`conv2d ${dtype} k${s.kernel} s${s.stride} C${s.c} O${s.o}`, () => {
        const p = Math.floor((s.h + 2 * s.pad - s.kernel) / s.stride) + 1;
        const q = Math.floor((s.w + 2 * s.pad - s.kernel) / s.stride) + 1;
        const x = Float32Array.from(randomValues(rng(40 + i), s.n * s.h * s.w * s.c));
        const w = Float32Array.from(randomValues(rng(50 + i), s.o * s.kernel * s.kernel * s.c));
        const dy = Float32Array.from(randomValues(rng(60 + i), s.n * p * q * s.o));
        const run = (backend: 'auto' | 'own') => withBackend(backend, () => {
          const xt = T.fromArray(x, [s.n, s.h, s.w, s.c], dtype, 'cuda');
          const wt = T.fromArray(w, [s.o, s.kernel, s.kernel, s.c], 'f32', 'cuda');
          const dyt = T.fromArray(dy, [s.n, p, q, s.o], dtype, 'cuda');
          const y = engine.conv2dForward(xt, wt, s);
          const grads = engine.conv2dBackward(xt, wt, dyt, s);
          return { y: floats(y), dx: floats(grads.dx!), dw: floats(grads.dw) };
        });
        const cublas = run('auto');
        const own = run('own');
        const tol = dtype === 'bf16' ? 1e-2 : 1e-5;
        for (const key of ['y', 'dx', 'dw'] as const) {
          const error = maxRelativeError(cublas[key], own[key]);
          assert.ok(error <= tol, `${key}: cuBLAS vs own kernel ${error.toExponential(2)} > ${tol}`);
        }
      });
    }
  });

  it('linear f32 forward and backward', () => {
    const [n, c, o] = [33, 70, 19];
    const x = Float32Array.from(randomValues(rng(71), n * c));
    const w = Float32Array.from(randomValues(rng(72), o * c));
    const bias = Float32Array.from(randomValues(rng(73), o));
    const dy = Float32Array.from(randomValues(rng(74), n * o));
    const run = (backend: 'auto' | 'own') => withBackend(backend, () => {
      const xt = T.fromArray(x, [n, c], 'f32', 'cuda');
      const wt = T.fromArray(w, [o, c], 'f32', 'cuda');
      const bt = T.fromArray(bias, [o], 'f32', 'cuda');
      const y = engine.linearForward(xt, wt, bt);
      const grads = engine.linearBackward(xt, wt, T.fromArray(dy, [n, o], 'f32', 'cuda'));
      return { y: floats(y), dx: floats(grads.dx), dw: floats(grads.dw) };
    });
    const cublas = run('auto');
    const own = run('own');
    for (const key of ['y', 'dx', 'dw'] as const) {
      const error = maxRelativeError(cublas[key], own[key]);
      assert.ok(error <= 1e-5, `${key}: cuBLAS vs own kernel ${error.toExponential(2)}`);
    }
  });
});
