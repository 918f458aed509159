// The messages between the host and its worker processes over the fork IPC channel. A run's
// worker: the host sends the payload to start and may ask for a stop; the worker beats every second
// and reports iterations, epoch records, messages, and exactly one outcome before it exits. A worker
// that exits without an outcome crashed; one that stops beating hung. Shared by the real training
// worker and the tests' stand-in workers, so both speak exactly this. A task process (task_worker.ts,
// run_task.ts) gets one request and sends one reply: its result, or its error with a RequestError's
// status kept, so that what the caller got wrong stays the caller's error across the process boundary.
import type { IterationPoint } from '../../../shared/api';
import { REQUEST_STATUSES, RequestError, type RequestStatus } from '../request_error';
import type { TaskName } from './checkpoint_tasks';

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

/** An error as it crosses a process boundary: a plain Error's message, or a RequestError's message and status. */
export interface CarriedError {
  message: string;
  status?: RequestStatus;
}

export function carryError(error: unknown): CarriedError {
  if (error instanceof RequestError) return { message: error.message, status: error.status };
  return { message: error instanceof Error ? error.message : String(error) };
}

/** The error as the other side threw it: a RequestError again when it carried a status, else a plain Error. */
export function restoreError(carried: CarriedError): Error {
  const { message, status } = carried;
  return status !== undefined && REQUEST_STATUSES.includes(status) ? new RequestError(status, message) : new Error(message);
}

export type TaskRequest = { task: TaskName; payload: unknown };

export type TaskReply = { ok: true; result: unknown } | { ok: false; error: CarriedError };
