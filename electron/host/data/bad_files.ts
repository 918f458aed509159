// The list of undecodable images a run met, as `<output_dir>/bad_files.txt`: one `path<TAB>reason`
// line per file, appended as each is found so a run that stops (or fails on too many) still leaves
// the list. A file already listed, by this run or an earlier one in the same folder (a resume), is
// not listed twice. Deciding what is bad is the loader's job, not this file's.
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import type { BadFile } from './loader';

export function formatBadFile(file: BadFile): string {
  // A reason is one line, whatever the decoder said.
  return `${file.path}\t${file.reason.replace(/\s+/g, ' ').trim()}`;
}

export class BadFileList {
  private readonly listed = new Set<string>();

  constructor(readonly path: string) {
    if (existsSync(path)) {
      for (const line of readFileSync(path, 'utf8').split('\n')) if (line) this.listed.add(line.split('\t')[0]!);
    }
  }

  add(file: BadFile): void {
    if (this.listed.has(file.path)) return;
    this.listed.add(file.path);
    appendFileSync(this.path, formatBadFile(file) + '\n');
  }
}
