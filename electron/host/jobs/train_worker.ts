// The worker process of one training run (forked by the supervisor): receives the run config,
// calls runTraining, and reports over IPC — a heartbeat every second, each iteration, each epoch
// record, the trainer's messages, and one outcome. A stop request or the host going away (the IPC
// channel closing) makes the trainer finish its step, save and return, so a run survives its host.
// Runs nothing at import: it waits for the 'start' message.
import type { RunConfig } from '../../../shared/config';
import { runTraining, type StopFlag } from '../train/trainer';
import { HEARTBEAT_INTERVAL_MS, sendToHost, type HostToWorker, type WorkerOutcome } from './worker_protocol';

export interface TrainPayload {
  config: RunConfig;
}

async function train({ config }: TrainPayload, stop: StopFlag): Promise<WorkerOutcome> {
  try {
    const outcome = await runTraining(config, {
      iteration: (point, { done, total }) => sendToHost({ type: 'iteration', point, done, total }),
      epoch: (record) => sendToHost({ type: 'epoch', record }),
      message: (text) => sendToHost({ type: 'message', text }),
    }, stop);
    return outcome.status === 'failed' ? { status: 'failed', reason: outcome.reason }
      : outcome.status === 'stopped' ? { status: 'stopped', epoch: outcome.epoch } : { status: 'completed' };
  } catch (error) {
    return { status: 'failed', reason: error instanceof Error ? error.message : String(error) };
  }
}

const stop: StopFlag = { requested: false };
process.on('message', (message: HostToWorker) => {
  if (message.type === 'stop') stop.requested = true;
  if (message.type !== 'start') return;
  const beat = setInterval(() => sendToHost({ type: 'heartbeat' }), HEARTBEAT_INTERVAL_MS);
  void train(message.payload as TrainPayload, stop).then((outcome) => {
    clearInterval(beat);
    // Exit explicitly once the outcome is out: decoding threads of the loader may still be alive.
    if (process.connected) process.send!({ type: 'outcome', outcome }, () => process.exit(0));
    else process.exit(0);
  });
});
process.on('disconnect', () => {
  stop.requested = true;
});
