// The life of a run as a table of allowed moves, so every status change goes through one check:
// queued → running → (stopping →) stopped | completed | failed, a queued run can be stopped before
// it starts, and a stopped or failed run can be resumed (queued again). Not the scheduler: when a
// run moves is decided by the job queue and the worker's outcome.
import type { RunStatus } from '../../../shared/api';

const MOVES: Record<RunStatus, readonly RunStatus[]> = {
  queued: ['running', 'stopped', 'failed'],
  running: ['stopping', 'stopped', 'completed', 'failed'],
  stopping: ['stopped', 'completed', 'failed'],
  stopped: ['queued'],
  completed: [],
  failed: ['queued'],
};

export function canMove(from: RunStatus, to: RunStatus): boolean {
  return MOVES[from].includes(to);
}

export function checkMove(id: string, from: RunStatus, to: RunStatus): void {
  if (!canMove(from, to)) throw new Error(`run ${id} is ${from}; it cannot become ${to}`);
}

/** A worker process may be attached: the run must not be deleted or resumed. */
export function isActive(status: RunStatus): boolean {
  return status === 'running' || status === 'stopping';
}
