// The workbench's "Fetch CIFAR-100": `pix data fetch-cifar` (cifar_fetch.ts) run by the host for a
// data folder a client names, each step pushed as an event: cifarFetchProgress while it downloads
// (a few a second at most, however small the chunks) and at every phase, cifarFetchDone once it is
// done, failed or cancelled. One fetch per folder at a time: a second into the same folder is
// refused (409) while the first runs; fetches into other folders run beside it. It runs on the
// host's event loop, which it never holds for long (the download streams; hashing, gunzip and the
// writes are asynchronous). The running fetches can be listed as they stand (a client that
// connects mid-download, a reloaded page, learns of them so). Nothing is kept after a fetch ends:
// its state lives in its events.
import { resolve } from 'node:path';
import type { CifarFetchState } from '../../../shared/api';
import type { Emit } from '../host_events';
import { RequestError } from '../request_error';
import { fetchCifar100, type FetchOptions } from './cifar_fetch';

/** Where the archive comes from: default the published one (tests serve their own). */
export type CifarSource = Pick<FetchOptions, 'url' | 'md5'>;

/** At most this often a progress event for bytes alone; phase changes are sent at once. */
const PROGRESS_INTERVAL_MS = 250;

interface Running {
  state: CifarFetchState;
  abort: AbortController;
  settled: Promise<void>;
}

export class CifarFetches {
  private readonly running = new Map<string, Running>();

  constructor(private readonly emit: Emit, private readonly source: CifarSource = {}) {}

  /** Starts fetching into the folder (absolute; made when missing) and returns its first state. */
  start(dataPath: string): CifarFetchState {
    const folder = resolve(dataPath);
    const current = this.running.get(folder);
    if (current) {
      throw new RequestError(409, `CIFAR-100 is already being fetched into ${folder} (${current.state.phase}): wait for it to end or cancel it`);
    }
    const state: CifarFetchState = {
      dataPath: folder, phase: 'downloading', receivedBytes: 0, totalBytes: null, fetched: null, error: null, startedAt: Date.now(), finishedAt: null,
    };
    const abort = new AbortController();
    let sentAt = 0;
    const update = (change: Partial<CifarFetchState>, now: boolean) => {
      Object.assign(state, change);
      if (!now && Date.now() - sentAt < PROGRESS_INTERVAL_MS) return;
      sentAt = Date.now();
      this.emit('cifarFetchProgress', { ...state });
    };
    const finish = (change: Partial<CifarFetchState>) => {
      Object.assign(state, change, { finishedAt: Date.now() });
      this.running.delete(folder);
      this.emit('cifarFetchDone', { ...state });
    };
    const settled = fetchCifar100(folder, {
      ...this.source,
      signal: abort.signal,
      progress: (receivedBytes, totalBytes) => update({ receivedBytes, totalBytes }, false),
      phase: (phase) => update({ phase }, true),
    }).then(
      ({ fetched }) => finish({ phase: 'done', fetched }),
      (error: unknown) => finish({ phase: abort.signal.aborted ? 'cancelled' : 'failed', error: (error as Error).message ?? String(error) }),
    );
    this.running.set(folder, { state, abort, settled });
    return { ...state };
  }

  /** Stops the download into the folder; its end arrives as cifarFetchDone. Once unpacking, it runs on to done. */
  cancel(dataPath: string): CifarFetchState {
    const folder = resolve(dataPath);
    const current = this.running.get(folder);
    if (!current) throw new RequestError(404, `no CIFAR-100 fetch is running into ${folder}`);
    current.abort.abort();
    return { ...current.state };
  }

  /** The fetches running now, in the order they started, each as it stands (newer than its last event, which is throttled). */
  list(): CifarFetchState[] {
    return [...this.running.values()].map(({ state }) => ({ ...state }));
  }

  /** Cancels every fetch and waits until each has removed what it was writing. */
  async close(): Promise<void> {
    const all = [...this.running.values()];
    for (const { abort } of all) abort.abort();
    await Promise.all(all.map((r) => r.settled));
  }
}
