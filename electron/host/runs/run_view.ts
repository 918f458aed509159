// The read side of one run's files for the UI: epoch records of log.txt and the iteration columns
// of metrics.jsonl (both read incrementally), the checkpoints in the output folder, the files the
// loader skipped (bad_files.txt), and the tail of the run's console (console.log in the record
// folder: the worker's output and the host's notes). Not the writer: the trainer and the manager
// write these files; this only reads them.
import { appendFileSync, closeSync, openSync, readFileSync, readSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { CheckpointEntry, EpochRecord } from '../../../shared/api';
import { readSafetensorsMetadata } from '../checkpoints/safetensors';
import { JsonLinesReader } from './jsonl_reader';
import { RunSeries } from './series';

const CHECKPOINT = /^(checkpoint-(\d+|best|best-ema))\.(safetensors|pth)$/;
const TAIL_BYTES = 64 << 10;

export class RunView {
  readonly series: RunSeries;
  private readonly epochReader: JsonLinesReader<EpochRecord>;
  private epochs: EpochRecord[] = [];
  private readonly savedEpochs = new Map<string, { version: string; epoch: number | null }>();

  constructor(readonly recordFolder: string, readonly outputDir: string, itersPerEpoch: () => number | null) {
    this.series = new RunSeries(outputDir, itersPerEpoch);
    this.epochReader = new JsonLinesReader(join(outputDir, 'log.txt'));
  }

  /** log.txt's records, including those appended since the last call. */
  epochRecords(): EpochRecord[] {
    const update = this.epochReader.read();
    if (update.restarted) this.epochs = [];
    this.epochs.push(...update.lines.filter((r) => typeof r.epoch === 'number'));
    return this.epochs;
  }

  /** Numbered checkpoints newest first, then checkpoint-best and checkpoint-best-ema. */
  checkpoints(): CheckpointEntry[] {
    let names: string[];
    try {
      names = readdirSync(this.outputDir);
    } catch {
      return [];
    }
    const numbered = (entry: CheckpointEntry) => /^checkpoint-\d+$/.test(entry.name);
    return names.flatMap((name) => {
      const match = CHECKPOINT.exec(name);
      if (!match) return [];
      const path = join(this.outputDir, name);
      try {
        const stat = statSync(path);
        const epoch = /^\d+$/.test(match[2]!) ? Number(match[2]) : this.savedEpoch(path, match[3]!, stat.size, stat.mtimeMs);
        return [{ path, name: match[1]!, epoch, bytes: stat.size, modifiedAt: stat.mtimeMs }];
      } catch {
        return [];  // removed by the retention rule between listing and stat
      }
    }).sort((a, b) => Number(numbered(b)) - Number(numbered(a))
      || (numbered(a) ? b.epoch! - a.epoch! : 0) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /**
   * The epoch a best checkpoint was saved at, which its name does not say: the trainer records it
   * in the safetensors metadata (`epoch`). Read from the header only, once per version of the file
   * (the list is asked for on every poll); null for a .pth or a file without it.
   */
  private savedEpoch(path: string, extension: string, bytes: number, modifiedAt: number): number | null {
    if (extension !== 'safetensors') return null;
    const version = `${bytes}:${modifiedAt}`;
    const known = this.savedEpochs.get(path);
    if (known?.version === version) return known.epoch;
    let epoch: number | null = null;
    try {
      const value = Number(readSafetensorsMetadata(path).epoch ?? NaN);
      epoch = Number.isSafeInteger(value) && value >= 0 ? value : null;
    } catch {
      // Being replaced (the writes are atomic renames) or damaged: listed without its epoch.
    }
    this.savedEpochs.set(path, { version, epoch });
    return epoch;
  }

  /** bad_files.txt: one file per line, as a JSON object {path, reason} or as 'path<TAB>reason'. */
  badFiles(): { path: string; reason: string }[] {
    let text: string;
    try {
      text = readFileSync(join(this.outputDir, 'bad_files.txt'), 'utf8');
    } catch {
      return [];
    }
    return text.split('\n').filter((l) => l.trim()).map((line) => {
      if (line.startsWith('{')) {
        try {
          const entry = JSON.parse(line) as { path?: unknown; reason?: unknown };
          return { path: String(entry.path ?? ''), reason: String(entry.reason ?? '') };
        } catch {
          // not JSON after all: read it as text below
        }
      }
      const [path, ...reason] = line.split('\t');
      return { path: path!, reason: reason.join('\t') };
    });
  }

  appendConsole(lines: string[]): void {
    if (lines.length) appendFileSync(join(this.recordFolder, 'console.log'), lines.map((l) => l + '\n').join(''));
  }

  /** The newest `count` console lines. */
  consoleTail(count: number): string[] {
    const path = join(this.recordFolder, 'console.log');
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch {
      return [];
    }
    try {
      const size = statSync(path).size;
      const length = Math.min(size, TAIL_BYTES);
      const buffer = Buffer.alloc(length);
      readSync(fd, buffer, 0, length, size - length);
      const lines = buffer.toString('utf8').split('\n');
      if (length < size) lines.shift();  // the first line is cut
      if (lines.at(-1) === '') lines.pop();
      return lines.slice(-count);
    } finally {
      closeSync(fd);
    }
  }
}
