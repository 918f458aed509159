#!/usr/bin/env node
// Builds the native engine (native/ -> native/build/Release/pix_engine.node) with cmake-js.
// Runs during `npm install`. The CUDA backend is built whenever nvcc is found; if that build fails,
// the CPU-only engine is built instead with a loud warning, unless PIX_REQUIRE_CUDA=1 (CI sets it,
// so CUDA compile errors fail there). PIX_CUDA=0 skips CUDA; PIX_CUDA_ARCHITECTURES picks GPUs.
//
// --cuda-emulator builds the test engine whose CUDA backend runs on the CPU (native/cuda_emulator)
// into native/build-emulator instead; it needs the CUDA toolkit's headers, not a GPU. Its kernels
// are checked by AddressSanitizer unless PIX_CUDA_EMULATOR_ASAN=0.
import { spawnSync } from 'node:child_process';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cmakeJs = join(root, 'node_modules', 'cmake-js', 'bin', 'cmake-js');
const parallel = String(Math.max(1, cpus().length));

function build(withCuda) {
  const args = [cmakeJs, 'compile', '--directory', 'native', '--out', 'native/build', '--parallel', parallel,
    `--CDPIX_CUDA=${withCuda ? 'ON' : 'OFF'}`];
  if (process.env.PIX_CUDA_ARCHITECTURES) args.push(`--CDPIX_CUDA_ARCHITECTURES=${process.env.PIX_CUDA_ARCHITECTURES}`);
  const result = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
  return result.status === 0;
}

if (process.argv.includes('--cuda-emulator')) {
  const args = [cmakeJs, 'compile', '--directory', 'native', '--out', 'native/build-emulator', '--parallel', parallel,
    '--CDPIX_CUDA_EMULATOR=ON', `--CDPIX_CUDA_EMULATOR_ASAN=${process.env.PIX_CUDA_EMULATOR_ASAN === '0' ? 'OFF' : 'ON'}`];
  const result = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) console.error('pix: the CUDA emulator engine failed to build (see the compiler output above).');
  process.exit(result.status ?? 1);
}

const wantCuda = process.env.PIX_CUDA !== '0';
if (build(wantCuda)) process.exit(0);
if (!wantCuda || process.env.PIX_REQUIRE_CUDA === '1') {
  console.error('pix: the native engine failed to build (see the compiler output above).');
  process.exit(1);
}
console.warn('\npix: WARNING: the build with the CUDA backend failed; building the CPU-only engine instead.');
console.warn('pix: set PIX_REQUIRE_CUDA=1 to make this an error, or PIX_CUDA=0 to skip CUDA.\n');
if (!build(false)) {
  console.error('pix: the CPU-only native engine failed to build as well.');
  process.exit(1);
}
