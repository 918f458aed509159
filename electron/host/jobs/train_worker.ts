// The worker process of one training run (forked by the supervisor): receives the run config,
// calls runTraining (as rank 0, with the other ranks as its children, when the run asks for
// several processes: on the CPU, or one per GPU, each rank on cuda:LOCAL_RANK of the GPUs the host
// made visible to this worker), and reports over IPC — a heartbeat every second, each iteration, each epoch
// record, the trainer's messages, and one outcome. A stop request or the host going away (the IPC
// channel closing) makes the trainer finish its step, save and return, so a run survives its host.
// Runs nothing at import: it waits for the 'start' message.
import type { RunConfig } from '../../../shared/config';
import { startPeerRanks, threadsPerRank } from '../distributed/peer_ranks';
import { joinProcessGroup, type ProcessGroup } from '../distributed/process_group';
import { runTraining, type StopFlag } from '../train/trainer';
import { HEARTBEAT_INTERVAL_MS, sendToHost, type HostToWorker, type WorkerOutcome } from './worker_protocol';

export interface TrainPayload {
  config: RunConfig;
}

async function train({ config }: TrainPayload, stop: StopFlag): Promise<WorkerOutcome> {
  // Several processes: this worker is rank 0, and the other ranks are its children.
  const peers = config.nproc_per_node > 1 ? startPeerRanks(config) : undefined;
  let group: ProcessGroup | undefined;
  try {
    if (peers) {
      process.env.PIX_NUM_THREADS = threadsPerRank(config.nproc_per_node);
      group = await joinProcessGroup({ rank: 0, worldSize: config.nproc_per_node, masterAddr: config.master_addr, masterPort: config.master_port });
    }
    const outcome = await runTraining(config, {
      iteration: (point, { done, total }) => sendToHost({ type: 'iteration', point, done, total }),
      epoch: (record) => sendToHost({ type: 'epoch', record }),
      message: (text) => sendToHost({ type: 'message', text }),
    }, stop, group);
    return outcome.status === 'failed' ? { status: 'failed', reason: outcome.reason }
      : outcome.status === 'stopped' ? { status: 'stopped', epoch: outcome.epoch } : { status: 'completed' };
  } catch (error) {
    // A rank that died first explains the broken connection better than the connection does.
    peers?.kill();
    const peerFailure = peers ? await peers.exited : null;
    return { status: 'failed', reason: peerFailure ?? (error instanceof Error ? error.message : String(error)) };
  } finally {
    group?.close();
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
