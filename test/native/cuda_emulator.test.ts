// The CUDA tests, run against the engine built on the CUDA emulator (`npm run build:cuda-emulator`,
// native/cuda_emulator): every kernel of the CUDA backend executes on the CPU, each CUDA thread a
// fiber, so the CUDA code is checked against the CPU backend on machines without a GPU, CI's
// included. Each file runs in a child process with PIX_ENGINE_PATH pointing at that engine, and must
// run its CUDA cases rather than skip them. The NCCL tests run too, on the emulator's own NCCL
// (native/cuda_emulator/nccl_emulator.cpp: ranks are processes meeting in shared memory), and the
// convolutions on its own cuDNN (cudnn_emulator.cpp), which is first checked on its own against a
// naive loop (cudnn_emulator_check.cpp), as the emulator's stream capture and CUDA graphs are
// against CUDA's rules (graphs_check.cpp).
// The emulator is built with AddressSanitizer where the compiler has it, so a kernel touching memory
// outside its tensors (or a freed one) fails the file, like compute-sanitizer's memcheck on a GPU;
// Node then loads the sanitizer's runtime first (LD_PRELOAD).
//
// Without the emulated engine this skips, saying how to build it; under CI (CI=true), which builds
// it, its absence fails instead.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';

const distTest = join(__dirname, '..');
const root = join(distTest, '..', '..');
const emulatedEngine = join(root, 'native', 'build-emulator', 'Release', 'pix_engine.node');
const cudnnStandIn = join(root, 'native', 'build-emulator', 'cudnn', 'lib', 'libcudnn.so.9');
const cudnnStandInCheck = join(root, 'native', 'build-emulator', 'cudnn', 'pix_cudnn_emulator_check');
const graphsCheck = join(root, 'native', 'build-emulator', 'cuda_emulator', 'pix_cuda_graphs_check');

/** Runs one of the emulator's own check programs, which print "N checks, 0 failed" when all pass. */
function runCheck(program: string, args: string[] = []): void {
  const check = spawnSync(program, args, { encoding: 'utf8' });
  const output = `${check.stdout}${check.stderr}`;
  assert.equal(check.status, 0, `${relative(root, program)} failed:\n${output.slice(-4000)}`);
  assert.match(output, /\b0 failed\b/);
}

// Files whose CUDA cases sit beside CPU ones, so they are not named *.cuda.test.
const MIXED = ['native/core/tensor', 'host/train/cuda_device', 'host/train/cuda_faults', 'host/train/batch_input', 'cli/predict'];

function cudaTestFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return cudaTestFiles(path);
    return entry.name.endsWith('.cuda.test.js') ? [path] : [];
  });
}

const files = [...cudaTestFiles(distTest), ...MIXED.map((f) => join(distTest, `${f}.test.js`))].sort();

/** The environment that loads AddressSanitizer's runtime when the emulator engine was built with it. */
function sanitizerEnv(): Record<string, string> {
  if (!readFileSync(emulatedEngine).includes('libasan.so')) return {};
  const runtime = spawnSync('gcc', ['-print-file-name=libasan.so'], { encoding: 'utf8' }).stdout?.trim();
  if (!runtime || !existsSync(runtime)) throw new Error(`${emulatedEngine} needs AddressSanitizer's runtime, which gcc does not name`);
  // Leaks are not checked: Node keeps much of its memory to the end by design.
  return { LD_PRELOAD: runtime, ASAN_OPTIONS: 'detect_leaks=0' };
}

/** A test file in a child Node; its exit status and everything it printed. */
function run(file: string, env: NodeJS.ProcessEnv): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--test', '--test-reporter=tap', file], { env });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
    child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

function skipReason(): string | false {
  if (existsSync(emulatedEngine)) return false;
  const why = `the CUDA emulator engine is not built (${relative(root, emulatedEngine)}): run npm run build:cuda-emulator`;
  if (process.env.CI === 'true') throw new Error(`CI builds the CUDA emulator engine, but ${why}`);
  return why;
}

// The files run side by side, one per core: the emulator keeps one core busy per process.
describe('the CUDA tests on the CUDA emulator', { skip: skipReason(), concurrency: availableParallelism() }, () => {
  const sanitizer = existsSync(emulatedEngine) ? sanitizerEnv() : {};
  it('the cuDNN stand-in agrees with a naive convolution and refuses bad arguments as cuDNN does', () => {
    runCheck(cudnnStandInCheck, [cudnnStandIn]);
  });
  it('stream capture and CUDA graphs record, replay and refuse as CUDA does', () => runCheck(graphsCheck));
  for (const file of files) {
    const name = relative(distTest, file);
    it(name, { timeout: 15 * 60_000 }, async () => {
      // NODE_TEST_CONTEXT would make the child think it is part of this run and run nothing;
      // NCCL_ROOT would point the emulated engine at another NCCL, which it refuses; PIX_CUDNN=0
      // would leave the cuDNN path untested.
      const { NODE_TEST_CONTEXT: _, NCCL_ROOT: __, PIX_CUDNN: ___, ...env } = process.env;
      const child = await run(file, { ...env, ...sanitizer, PIX_ENGINE_PATH: emulatedEngine });
      const output = `${child.stdout}${child.stderr}`;
      const passed = Number(/^# pass (\d+)$/m.exec(output)?.[1] ?? 0);
      assert.equal(child.status, 0, `${name} failed on the CUDA emulator:\n${output.slice(-6000)}`);
      assert.ok(passed > 0, `${name}: nothing ran\n${output.slice(-2000)}`);
      // The emulated device and NCCL must be found: a CUDA suite skipped for want of one tested nothing.
      assert.doesNotMatch(output, /# SKIP (no CUDA device|this build has no CUDA backend|NCCL cannot be loaded|cuDNN is not loaded)/,
        `${name}:\n${output.slice(-2000)}`);
    });
  }
});
