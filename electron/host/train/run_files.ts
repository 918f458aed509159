// The files of a run's output folder besides checkpoints: log.txt, one JSON object per epoch in
// the official script's format; metrics.jsonl, one JSON object per iteration (richer, for the
// workbench's charts); failure.json when a run stops on an error. Lines are appended and flushed
// one at a time, so a crash loses at most the line being written.
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../checkpoints/safetensors';

export interface IterationMetrics {
  epoch: number;
  /** Global optimizer-step index (what the schedules index). */
  step: number;
  loss: number;
  lr: number;
  weight_decay: number;
  grad_norm: number | null;
  images_per_second: number;
  data_seconds: number;
  step_seconds: number;
  time: number;
}

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
