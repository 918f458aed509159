// `pix train` as a child process, for the command-line tests that only need its exit, its output
// and the run folder's files.
import { spawn } from 'node:child_process';
import { join } from 'node:path';

const pix = join(__dirname, '..', '..', '..', 'bin', 'pix.js');

export interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function pixTrain(args: string[], env: Record<string, string> = {}): Promise<Finished> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [pix, 'train', ...args], { env: { ...process.env, PIX_NUM_THREADS: '1', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d; });
    child.stderr.on('data', (d: Buffer) => { stderr += d; });
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}
