// `<home>/serve.json`: where a running `pix serve` listens and its access token, so that `pix runs`
// on the same machine finds it without the user copying the URL. Written with mode 0600 (the token
// lets anyone start runs and read files as this user) and atomically (a reader never sees half a
// file); removed by the server that wrote it when it closes. A crash leaves it behind, so readers
// check that its pid is still alive. Only the file: serve.ts writes it, serve_client.ts reads it.
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../host/checkpoints/safetensors';

export interface ServeRecord {
  /** Where this machine reaches the server, e.g. http://127.0.0.1:8765/ */
  url: string;
  token: string;
  pid: number;
  /** Unix milliseconds. */
  startedAt: number;
}

export function serveRecordPath(home: string): string {
  return join(home, 'serve.json');
}

export function writeServeRecord(home: string, record: ServeRecord): void {
  writeFileAtomic(serveRecordPath(home), Buffer.from(`${JSON.stringify(record, null, 2)}\n`), 0o600);
}

/** The record, or undefined when there is none; a file that is not one throws, naming it. */
export function readServeRecord(home: string): ServeRecord | undefined {
  const path = serveRecordPath(home);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  let record: Partial<ServeRecord>;
  try {
    record = JSON.parse(text) as Partial<ServeRecord>;
  } catch {
    record = {};
  }
  if (typeof record.url !== 'string' || typeof record.token !== 'string' || !Number.isInteger(record.pid)) {
    throw new Error(`${path} is not a pix serve record (url, token, pid); delete it and start pix serve again`);
  }
  return record as ServeRecord;
}

/** Removes the record if process `pid` wrote it: a server started later may have replaced it. */
export function removeServeRecord(home: string, pid: number): void {
  let record: ServeRecord | undefined;
  try {
    record = readServeRecord(home);
  } catch {
    return;  // not ours to judge
  }
  if (record?.pid === pid) rmSync(serveRecordPath(home), { force: true });
}

/** Whether a process with this id exists (EPERM: it does, as another user). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
