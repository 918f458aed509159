// The body of one loader worker thread (started by worker_pool.ts): decodes the batches it is sent,
// several at once, and posts each back with its pixel buffer transferred. Only BadImageError is
// absorbed (by decodeBatch); any other error goes back to the loader, which stops the run.
import { parentPort } from 'node:worker_threads';
import { decodeBatch } from './batch_decode';
import type { WorkerReply, WorkerRequest } from './worker_pool';

if (!parentPort) throw new Error('loader_worker.js runs inside a worker thread (see worker_pool.ts)');
const port = parentPort;

port.on('message', ({ id, task }: WorkerRequest) => {
  decodeBatch(task).then(
    (result) => port.postMessage({ id, result } satisfies WorkerReply, [result.images.buffer as ArrayBuffer]),
    (error: Error) => port.postMessage({ id, error: { message: error.message, stack: error.stack } } satisfies WorkerReply),
  );
});
