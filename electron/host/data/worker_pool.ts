// A pool of worker_threads that decode batches (loader_worker.ts) for the loader. Each task goes to
// the worker with the fewest tasks in flight; the decoded pixels come back as a transferred buffer,
// never copied. Workers hold the process open only while they have work, so a consumer that stops
// reading cannot hang the exit; close() terminates them. It knows nothing of epochs, order or bad
// files: the loader decides what to decode and what a failure means.
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { DecodeResult, DecodeTask } from './batch_decode';

export type WorkerRequest = { id: number; task: DecodeTask };
export type WorkerReply = { id: number; result: DecodeResult } | { id: number; error: { message: string; stack?: string } };

interface Pending {
  resolve(result: DecodeResult): void;
  reject(error: Error): void;
}

interface Slot {
  worker: Worker;
  pending: Map<number, Pending>;
}

const WORKER_SCRIPT = join(__dirname, 'loader_worker.js');

// sharp decodes on libuv's thread pool, which every worker thread shares and which is sized once,
// at its first use, from UV_THREADPOOL_SIZE (default 4): with more workers than that, decodes would
// queue behind each other on a many-core machine. Importing the loader early (the CLI does, before
// any file I/O) is enough; a size the user set is kept.
process.env.UV_THREADPOOL_SIZE ??= String(Math.max(4, 2 * availableParallelism()));

let live = 0;

/** Loader worker threads started and not yet exited, in this thread's pools (for diagnostics and leak tests). */
export function liveLoaderWorkers(): number {
  return live;
}

export class DecodePool {
  private readonly slots: Slot[];
  private nextId = 0;
  private failure: Error | undefined;
  private closed = false;

  constructor(readonly size: number) {
    if (!Number.isInteger(size) || size < 1) throw new Error(`a decode pool needs at least one worker, got ${size}`);
    this.slots = Array.from({ length: size }, () => this.spawn());
  }

  private spawn(): Slot {
    const slot: Slot = { worker: new Worker(WORKER_SCRIPT), pending: new Map() };
    live++;
    slot.worker.unref();
    slot.worker.on('message', (reply: WorkerReply) => {
      const waiting = slot.pending.get(reply.id);
      if (!waiting) return;
      slot.pending.delete(reply.id);
      if (slot.pending.size === 0) slot.worker.unref();
      if ('result' in reply) {
        waiting.resolve(reply.result);
      } else {
        const error = new Error(reply.error.message);
        if (reply.error.stack) error.stack = reply.error.stack;
        waiting.reject(error);
      }
    });
    slot.worker.on('error', (error) => this.fail(new Error(`a loader worker failed: ${error.message}`)));
    slot.worker.on('exit', (code) => {
      live--;
      if (!this.closed) this.fail(new Error(`a loader worker exited unexpectedly (code ${code})`));
    });
    return slot;
  }

  /** Rejects every task in flight and every later one. */
  private fail(error: Error): void {
    this.failure ??= error;
    for (const slot of this.slots) {
      for (const waiting of slot.pending.values()) waiting.reject(this.failure);
      slot.pending.clear();
    }
  }

  run(task: DecodeTask): Promise<DecodeResult> {
    if (this.closed) return Promise.reject(new Error('the decode pool is closed'));
    if (this.failure) return Promise.reject(this.failure);
    const slot = this.slots.reduce((best, s) => (s.pending.size < best.pending.size ? s : best));
    const id = this.nextId++;
    return new Promise<DecodeResult>((resolve, reject) => {
      slot.pending.set(id, { resolve, reject });
      slot.worker.ref();
      slot.worker.postMessage({ id, task } satisfies WorkerRequest);
    });
  }

  /** Stops every worker; tasks still in flight are rejected. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const slot of this.slots) {
      for (const waiting of slot.pending.values()) waiting.reject(new Error('the decode pool was closed'));
      slot.pending.clear();
    }
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}
