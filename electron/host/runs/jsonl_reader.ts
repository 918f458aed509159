// Incremental reading of an append-only JSON-lines file (metrics.jsonl, log.txt): it remembers the
// byte offset after the last complete line and, on each call, parses only the complete lines
// appended since. A line still being written (no newline yet) waits for the next call. A file that
// shrank was replaced (a deleted run re-created, a truncated copy): reading starts over and the
// caller is told so. Not a watcher: callers decide when to look.
import { closeSync, openSync, readSync, statSync } from 'node:fs';

const CHUNK_BYTES = 8 << 20;
const NEWLINE = 0x0a;

export interface JsonLinesUpdate<T> {
  /** The file was shorter than what was read before: `lines` start from its beginning. */
  restarted: boolean;
  lines: T[];
  /** Lines that were not valid JSON objects (a torn write), skipped. */
  skipped: number;
}

export class JsonLinesReader<T extends object> {
  private offset = 0;

  constructor(readonly path: string) {}

  read(): JsonLinesUpdate<T> {
    let size: number;
    try {
      size = statSync(this.path).size;
    } catch {
      return { restarted: false, lines: [], skipped: 0 };  // not written yet
    }
    const restarted = size < this.offset;
    if (restarted) this.offset = 0;
    const out: JsonLinesUpdate<T> = { restarted, lines: [], skipped: 0 };
    if (size === this.offset) return out;
    const fd = openSync(this.path, 'r');
    try {
      let carry = Buffer.alloc(0);
      let position = this.offset;
      while (position < size) {
        const chunk = Buffer.allocUnsafe(Math.min(CHUNK_BYTES, size - position));
        const got = readSync(fd, chunk, 0, chunk.length, position);
        if (got === 0) break;
        position += got;
        const bytes = carry.length ? Buffer.concat([carry, chunk.subarray(0, got)]) : chunk.subarray(0, got);
        const lastNewline = bytes.lastIndexOf(NEWLINE);
        if (lastNewline < 0) {
          carry = bytes;
          continue;
        }
        this.parse(bytes.subarray(0, lastNewline).toString('utf8'), out);
        this.offset += lastNewline + 1;
        carry = Buffer.from(bytes.subarray(lastNewline + 1));
      }
    } finally {
      closeSync(fd);
    }
    return out;
  }

  private parse(text: string, into: JsonLinesUpdate<T>): void {
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      try {
        const value = JSON.parse(line) as unknown;
        if (value !== null && typeof value === 'object' && !Array.isArray(value)) into.lines.push(value as T);
        else into.skipped++;
      } catch {
        into.skipped++;
      }
    }
  }
}
