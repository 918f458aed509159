// `pix info --json` in a child process: for the vendor-library loaders (cuBLAS, cuDNN), which open
// their library once per process, so each environment needs a process of its own.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import type { CudaBackendInfo } from '../../shared/engine';

const pix = join(__dirname, '..', '..', '..', 'bin', 'pix.js');

/** backends.cuda of `pix info --json` run with `env` on top of (or, for null values, without) ours. */
export function childCudaInfo(env: Record<string, string | null>): CudaBackendInfo {
  const childEnv: NodeJS.ProcessEnv = { ...process.env };
  for (const [key, value] of Object.entries(env)) {
    if (value === null) delete childEnv[key];
    else childEnv[key] = value;
  }
  const out = execFileSync(process.execPath, [pix, 'info', '--json'], { encoding: 'utf8', env: childEnv });
  return JSON.parse(out).backends.cuda as CudaBackendInfo;
}
