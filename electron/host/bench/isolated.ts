// Runs benchmark() in a child process (worker.ts) and returns its result with its peak memory.
import { fork } from 'node:child_process';
import { join } from 'node:path';
import type { BenchOptions, BenchResult } from './throughput';

export interface IsolatedBenchResult extends BenchResult {
  peakRssBytes: number;
}

type WorkerReply = { ok: true; result: BenchResult; peakRssBytes: number } | { ok: false; error: string };

export function benchmarkIsolated(options: BenchOptions): Promise<IsolatedBenchResult> {
  return new Promise((resolve, reject) => {
    const child = fork(join(__dirname, 'worker.js'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    let settled = false;
    child.once('message', (reply: WorkerReply) => {
      settled = true;
      child.kill();
      if (reply.ok) resolve({ ...reply.result, peakRssBytes: reply.peakRssBytes });
      else reject(new Error(reply.error));
    });
    child.once('exit', (code, signal) => {
      if (!settled) reject(new Error(`benchmark process for ${options.model} exited (${signal ?? `code ${code}`}) before reporting`));
    });
    child.send(options);
  });
}
