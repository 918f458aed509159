// The messages between the host and a run's worker process over the fork IPC channel. The host
// sends the payload to start and may ask for a stop; the worker beats every second and reports
// iterations, epoch records, messages, and exactly one outcome before it exits. A worker that exits
// without an outcome crashed; one that stops beating hung. Shared by the real training worker and
// the tests' stand-in workers, so both speak exactly this.
import type { IterationPoint } from '../../../shared/api';

export type HostToWorker =
  | { type: 'start'; payload: unknown }
  | { type: 'stop' };

export type WorkerOutcome =
  | { status: 'completed' }
  | { status: 'stopped'; epoch: number }
  | { status: 'failed'; reason: string };

export type WorkerToHost =
  | { type: 'heartbeat' }
  | { type: 'iteration'; point: IterationPoint; done: number; total: number }
  | { type: 'epoch'; record: Record<string, unknown> }
  | { type: 'message'; text: string }
  | { type: 'outcome'; outcome: WorkerOutcome };

export const HEARTBEAT_INTERVAL_MS = 1000;

/** Sends to the host when the channel is still open (a host that exited cannot be told anything). */
export function sendToHost(message: WorkerToHost): void {
  if (process.connected) process.send!(message);
}
