// A stand-in for the training worker (no engine): speaks worker_protocol.ts and behaves as told by
// the run config it receives — model 'fake-<behaviour>', `epochs` epochs of STEPS_PER_EPOCH steps,
// `batch_size` milliseconds per step. Behaviours: normal (completes), slow (the same; tests stop
// it), crash (exits with code 3 without an outcome after 2 steps), hang (stops answering after 2
// steps), fail (reports a failure). With an output_dir it writes metrics.jsonl, log.txt and an
// (empty) checkpoint per epoch, and with auto_resume it continues after the newest checkpoint.
import { appendFileSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunConfig } from '../../../shared/config';
import { HEARTBEAT_INTERVAL_MS, sendToHost, type HostToWorker, type WorkerOutcome } from '../../../electron/host/jobs/worker_protocol';

export const STEPS_PER_EPOCH = 3;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
let stopRequested = false;

function newestCheckpoint(dir: string): number {
  const epochs = readdirSync(dir).map((n) => /^checkpoint-(\d+)\.safetensors$/.exec(n)?.[1]).filter((e) => e !== undefined).map(Number);
  return epochs.length ? Math.max(...epochs) : -1;
}

async function run(config: RunConfig): Promise<WorkerOutcome> {
  const behaviour = config.model.replace(/^fake-/, '');
  const dir = config.output_dir;
  if (dir) mkdirSync(dir, { recursive: true });
  const first = dir && config.auto_resume ? newestCheckpoint(dir) + 1 : 0;
  if (first > 0) console.log(`resumed at epoch ${first}`);
  let steps = 0;
  for (let epoch = first; epoch < config.epochs; epoch++) {
    for (let i = 0; i < STEPS_PER_EPOCH; i++) {
      const step = epoch * STEPS_PER_EPOCH + i;
      if (behaviour === 'crash' && steps === 2) process.exit(3);
      if (behaviour === 'hang' && steps === 2) {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 60_000);  // blocks the event loop: no heartbeats
      }
      await sleep(config.batch_size);
      const point = { epoch, step, time: Date.now() / 1000, loss: 1 / (step + 1), lr: 0.1, weight_decay: 0, grad_norm: 1,
        images_per_second: 100, data_seconds: 0, step_seconds: config.batch_size / 1000 };
      if (dir) appendFileSync(join(dir, 'metrics.jsonl'), JSON.stringify(point) + '\n');
      sendToHost({ type: 'iteration', point, done: i + 1, total: STEPS_PER_EPOCH });
      steps++;
      if (stopRequested) break;
    }
    const record = { epoch, train_loss: 1 / (epoch + 1), test_acc1: 10 * (epoch + 1) };
    if (dir) {
      writeFileSync(join(dir, `checkpoint-${epoch}.safetensors`), '');
      appendFileSync(join(dir, 'log.txt'), JSON.stringify(record) + '\n');
    }
    sendToHost({ type: 'epoch', record });
    if (stopRequested) return { status: 'stopped', epoch };
  }
  if (behaviour === 'fail') return { status: 'failed', reason: 'the loss became NaN' };
  return { status: 'completed' };
}

process.on('message', (message: HostToWorker) => {
  if (message.type === 'stop') stopRequested = true;
  if (message.type !== 'start') return;
  const beat = setInterval(() => sendToHost({ type: 'heartbeat' }), HEARTBEAT_INTERVAL_MS);
  void run((message.payload as { config: RunConfig }).config).then((outcome) => {
    clearInterval(beat);
    process.send!({ type: 'outcome', outcome }, () => process.exit(0));
  });
});
