// The run registry on disk: <home>/runs/<id>/run.json per run (id, name, the full run config,
// status, timestamps, error, the device it got, progress counters), rewritten atomically on every
// change so a crash leaves the previous version whole. The run's own files (log.txt, metrics.jsonl,
// checkpoints) live in its output_dir, which is this folder unless the config names another.
// Not the scheduler and not the live view: RunManager owns status changes and events.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { RunStatus } from '../../../shared/api';
import type { RunConfig } from '../../../shared/config';
import { writeFileAtomic } from '../checkpoints/safetensors';
import { RequestError } from '../request_error';

export interface RunRecord {
  id: string;
  name: string;
  /** The complete config the worker trains with (defaults filled, demo preset applied, output_dir set). */
  config: RunConfig;
  /** data_path as the user gave it ('' = the embedded demo digits). */
  dataset: string;
  status: RunStatus;
  /** 'cpu', 'cuda:0', 'cuda:0,1' once assigned; what it asked for while queued. */
  device: string;
  gpus: number;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  error: string | null;
  /** Known once the worker has trained a step. */
  itersPerEpoch: number | null;
  /** Optimizer steps done (the last reported step + 1). */
  step: number;
  /** Worker processes started for this run (1 + resumes and retries). */
  attempts: number;
  /** The median images/s of the last steps when its latest worker exited, so an ended run still shows its speed (absent in older records). */
  imagesPerSecond?: number | null;
}

const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$/;

function stamp(time: Date): string {
  const two = (n: number) => String(n).padStart(2, '0');
  return `${time.getFullYear()}${two(time.getMonth() + 1)}${two(time.getDate())}-${two(time.getHours())}${two(time.getMinutes())}${two(time.getSeconds())}`;
}

export class RunStore {
  readonly dir: string;

  constructor(home: string) {
    this.dir = join(home, 'runs');
    mkdirSync(this.dir, { recursive: true });
  }

  /** A new id: sortable by creation time, unique by a random suffix. */
  newId(now = new Date()): string {
    for (;;) {
      const id = `${stamp(now)}-${randomBytes(3).toString('hex')}`;
      if (!existsSync(join(this.dir, id))) return id;
    }
  }

  /** The run's record folder; refuses ids that could point outside the registry (a client's error, 400). */
  folderOf(id: string): string {
    if (!ID_PATTERN.test(id)) throw new RequestError(400, `'${id}' is not a run id`);
    return join(this.dir, id);
  }

  write(record: RunRecord): void {
    const folder = this.folderOf(record.id);
    mkdirSync(folder, { recursive: true });
    writeFileAtomic(join(folder, 'run.json'), Buffer.from(JSON.stringify(record, null, 2) + '\n'));
  }

  read(id: string): RunRecord {
    const path = join(this.folderOf(id), 'run.json');
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch {
      throw new Error(`no run with id '${id}'`);
    }
    const record = JSON.parse(text) as RunRecord;
    if (record.id !== id) throw new Error(`${path} names run '${record.id}', not '${id}'`);
    return record;
  }

  /** Every readable record, oldest first; a folder without a valid run.json is skipped. */
  list(): RunRecord[] {
    const out: RunRecord[] = [];
    for (const entry of readdirSync(this.dir, { withFileTypes: true })) {
      if (!entry.isDirectory() || !ID_PATTERN.test(entry.name)) continue;
      try {
        out.push(this.read(entry.name));
      } catch {
        // a half-created folder or a foreign one: not a run
      }
    }
    return out.sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1));
  }

  /** Removes the record folder (and the run's files when they live there). */
  remove(id: string): void {
    rmSync(this.folderOf(id), { recursive: true, force: true });
  }
}
