// The files of a run's output folder besides checkpoints: log.txt, one JSON object per epoch in
// the official script's format; metrics.jsonl, one JSON object per iteration (richer, for the
// workbench's charts); failure.json when a run stops on an error. Lines are appended and flushed
// one at a time, so a crash loses at most the line being written.
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { IterationPoint } from '../../../shared/api';
import { writeFileAtomic } from '../checkpoints/safetensors';

/** One line of metrics.jsonl: the contract's IterationPoint, so the UI reads what the trainer writes. */
export type IterationMetrics = IterationPoint;

export class RunFiles {
  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }

  appendEpoch(record: Record<string, unknown>): void {
    appendFileSync(join(this.dir, 'log.txt'), JSON.stringify(record) + '\n');
  }

  appendIteration(metrics: IterationMetrics): void {
    appendFileSync(join(this.dir, 'metrics.jsonl'), JSON.stringify(metrics) + '\n');
  }

  recordFailure(reason: string, details: Record<string, unknown>): void {
    writeFileAtomic(join(this.dir, 'failure.json'), Buffer.from(JSON.stringify({ reason, ...details, time: new Date().toISOString() }, null, 2) + '\n'));
  }
}
