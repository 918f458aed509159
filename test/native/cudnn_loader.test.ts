// cuDNN behind the CUDA convolutions, opened at run time (ops/cuda/cudnn.h): `pix info --json` says
// what the convolutions run on (backends.cuda.conv: "cudnn 9.x.y (...)" or "own im2col + gemm
// (why)"); PIX_CUDNN=0, PIX_CUDNN=<file> and CUDNN_ROOT are honoured, the search names what it
// tried, and a library lacking a needed symbol, or older than cuDNN 9, is refused saying so. Each
// case runs `pix info` in a child process, since the library is opened once per process; the stubs
// are tiny C libraries built here with cc (skipped without one), whose cudnnCreate fails, so nothing
// ever runs on them. The CUDA emulator's build opens only its own stand-in, so these run on a real
// CUDA build (one compiled with nvcc, GPU or not).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadEngine } from '../../electron/host/engine/addon';
import { childCudaInfo } from '../helpers/pix_info';

const cuda = loadEngine().engineInfo().backends.cuda;
const skip = !cuda.compiled ? (cuda.unavailableReason ?? 'this build has no CUDA backend')
  : cuda.emulated ? "the CUDA emulator's build opens only its own cuDNN stand-in (ops/conv2d_cudnn.cuda.test runs on it)" : false;


// Every entry point the engine resolves; cudnnCreate fails (CUDNN_STATUS_NOT_INITIALIZED).
const ENTRY_POINTS = ['cudnnSetStream', 'cudnnDestroy', 'cudnnCreateTensorDescriptor', 'cudnnSetTensor4dDescriptor',
  'cudnnDestroyTensorDescriptor', 'cudnnCreateFilterDescriptor', 'cudnnSetFilter4dDescriptor', 'cudnnDestroyFilterDescriptor',
  'cudnnCreateConvolutionDescriptor', 'cudnnSetConvolution2dDescriptor', 'cudnnSetConvolutionMathType',
  'cudnnDestroyConvolutionDescriptor', 'cudnnGetConvolutionForwardAlgorithm_v7', 'cudnnFindConvolutionForwardAlgorithmEx',
  'cudnnGetConvolutionForwardWorkspaceSize', 'cudnnConvolutionForward', 'cudnnGetConvolutionBackwardDataAlgorithm_v7',
  'cudnnFindConvolutionBackwardDataAlgorithmEx', 'cudnnGetConvolutionBackwardDataWorkspaceSize',
  'cudnnConvolutionBackwardData', 'cudnnGetConvolutionBackwardFilterAlgorithm_v7',
  'cudnnFindConvolutionBackwardFilterAlgorithmEx', 'cudnnGetConvolutionBackwardFilterWorkspaceSize',
  'cudnnConvolutionBackwardFilter'];

function stubSource(version: number, omit?: string): string {
  return [
    `unsigned long cudnnGetVersion(void) { return ${version}; }`,
    'const char* cudnnGetErrorString(int s) { return "CUDNN_STATUS_STUB"; }',
    'int cudnnCreate(void** h) { *h = 0; return 1001; }',
    ...ENTRY_POINTS.filter((name) => name !== omit).map((name) => `int ${name}(void) { return 3000; }`),
  ].join('\n');
}

describe('cuDNN loader: what pix info reports', { skip }, () => {
  let dir = '';
  let noCompiler: string | false = false;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'pix-cudnn-stub-'));
    const builds: [string, string][] = [
      ['good', stubSource(91900)],
      ['old', stubSource(8906)],
      ['noforward', stubSource(91900, 'cudnnConvolutionForward')],
    ];
    for (const [name, source] of builds) {
      mkdirSync(join(dir, name, 'lib'), { recursive: true });
      writeFileSync(join(dir, `${name}.c`), source);
      const result = spawnSync('cc', ['-shared', '-fPIC', '-w', '-o', join(name, 'lib', 'libcudnn.so.9'),
        '-Wl,-soname,libcudnn.so.9', `${name}.c`], { cwd: dir, encoding: 'utf8' });
      if (result.error || result.status !== 0) {
        noCompiler = `cannot build the stub libraries with cc: ${result.error?.message ?? result.stderr}`;
        return;
      }
    }
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('names what the convolutions run on', () => {
    const info = childCudaInfo({});
    assert.match(info.conv!, /^cudnn \d+\.\d+\.\d+ \(|^own im2col \+ gemm \(.+\)$/);
    assert.equal(info.cudnnPath !== null, info.cudnn);
    console.log(`# cuda.conv here: ${info.conv}`);
  });

  it('PIX_CUDNN=0 runs the own convolutions without opening cuDNN', () => {
    const info = childCudaInfo({ PIX_CUDNN: '0' });
    assert.deepEqual([info.conv, info.cudnn, info.cudnnPath], ['own im2col + gemm (PIX_CUDNN=0)', false, null]);
  });

  it('without cuDNN, says what it tried and how to fix it', (t) => {
    const info = childCudaInfo({ LD_LIBRARY_PATH: null, CUDNN_ROOT: '/nonexistent-cudnn', CUDA_HOME: '/nonexistent-cuda', PIX_CUDNN: null });
    if (info.cudnn) return t.skip(`libcudnn.so.9 is on this machine's loader path (${info.cudnnPath})`);
    assert.match(info.conv!, /^own im2col \+ gemm \(cuDNN not found: tried libcudnn\.so\.9, \/nonexistent-cudnn\/lib\/libcudnn\.so\.9/);
    assert.match(info.conv!, /CUDNN_ROOT/);
  });

  it('loads the file PIX_CUDNN names, and the one in CUDNN_ROOT', (t) => {
    if (noCompiler) return t.skip(noCompiler);
    const named = childCudaInfo({ PIX_CUDNN: join(dir, 'good', 'lib', 'libcudnn.so.9') });
    assert.equal(named.cudnn, true);
    assert.equal(named.cudnnPath, join(dir, 'good', 'lib', 'libcudnn.so.9'));
    assert.match(named.conv!, /^cudnn 9\.19\.0 \(heuristic algorithms, deterministic only, workspace up to 1024 MiB\)$/);
    const rooted = childCudaInfo({ PIX_CUDNN: null, CUDNN_ROOT: join(dir, 'good'), LD_LIBRARY_PATH: null });
    if (rooted.cudnnPath !== join(dir, 'good', 'lib', 'libcudnn.so.9')) {
      return t.skip(`a real libcudnn.so.9 is on the loader's path (${rooted.cudnnPath}), which comes before CUDNN_ROOT`);
    }
    assert.equal(rooted.cudnn, true);
  });

  it('refuses a cuDNN older than 9, and one without an entry point the engine calls', (t) => {
    if (noCompiler) return t.skip(noCompiler);
    const old = childCudaInfo({ PIX_CUDNN: join(dir, 'old', 'lib', 'libcudnn.so.9') });
    assert.equal(old.cudnn, false);
    assert.match(old.conv!, /^own im2col \+ gemm \(cuDNN 8906 at .*old\/lib\/libcudnn\.so\.9 is older than 9/);
    const partial = childCudaInfo({ PIX_CUDNN: join(dir, 'noforward', 'lib', 'libcudnn.so.9') });
    assert.equal(partial.cudnn, false);
    assert.match(partial.conv!, /^own im2col \+ gemm \(cuDNN unusable: .*cudnnConvolutionForward/);
  });
});
