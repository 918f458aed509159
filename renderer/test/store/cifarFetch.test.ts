// The CIFAR-100 fetch store: seeded, when it connects, with the fetches already running on the host
// (a page reloaded mid-download), then followed by events; a list that an event overtook, or that
// fails, changes nothing.
import { describe, expect, it } from 'vitest';
import type { CifarFetchState } from '../../../shared/api';
import { createCifarFetchStore, fetchInto, isRunning } from '../../src/store/cifarFetch';
import { fakeClient } from '../fakeClient';

const state = (change: Partial<CifarFetchState>): CifarFetchState => ({
  dataPath: '/data/c100', phase: 'downloading', receivedBytes: 0, totalBytes: null, fetched: null, error: null, startedAt: 1000, finishedAt: null, ...change,
});

/** A promise and the function that settles it, for an answer that arrives when the test says. */
function deferred<T>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

describe('CIFAR-100 fetch store', () => {
  it('starts with the running fetches the host lists, then follows their events', async () => {
    const running = [state({ receivedBytes: 45, totalBytes: 180 }), state({ dataPath: '/data/other', startedAt: 1500 })];
    const client = fakeClient({ listCifarFetches: async () => running });
    const store = createCifarFetchStore(client);
    store.getState().connect();
    await expect.poll(() => Object.keys(store.getState().fetches)).toEqual(['/data/c100', '/data/other']);
    expect(client.calls).toEqual([{ method: 'listCifarFetches', request: undefined }]);
    const listed = fetchInto(store.getState(), '/data/c100');
    expect(listed).toEqual(running[0]);
    expect(isRunning(listed)).toBe(true);

    client.emit('cifarFetchProgress', state({ phase: 'verifying', receivedBytes: 180, totalBytes: 180 }));
    expect(fetchInto(store.getState(), '/data/c100')?.phase).toBe('verifying');
    client.emit('cifarFetchDone', state({ phase: 'done', fetched: true, receivedBytes: 180, totalBytes: 180, finishedAt: 2000 }));
    expect(isRunning(fetchInto(store.getState(), '/data/c100'))).toBe(false);
  });

  it('keeps what an event said when the list answers after it', async () => {
    const list = deferred<CifarFetchState[]>();
    const client = fakeClient({ listCifarFetches: () => list.promise });
    const store = createCifarFetchStore(client);
    store.getState().connect();
    const ended = state({ phase: 'cancelled', error: 'cancelled', receivedBytes: 50, finishedAt: 2000 });
    client.emit('cifarFetchDone', ended);
    list.resolve([state({ receivedBytes: 40 })]);
    await list.promise;
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(store.getState().fetches).toEqual({ '/data/c100': ended });
  });

  it('lists nothing when the host cannot be asked, and still follows events', async () => {
    const client = fakeClient({
      listCifarFetches: async () => {
        throw new Error('Cannot reach the workbench server at http://127.0.0.1:8765 (Failed to fetch); is `pix serve` still running?');
      },
    });
    const store = createCifarFetchStore(client);
    store.getState().connect();
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(store.getState().fetches).toEqual({});
    client.emit('cifarFetchProgress', state({ receivedBytes: 10 }));
    expect(fetchInto(store.getState(), '/data/c100')?.receivedBytes).toBe(10);
  });

  it('ignores a list that answers after it was disconnected', async () => {
    const list = deferred<CifarFetchState[]>();
    const store = createCifarFetchStore(fakeClient({ listCifarFetches: () => list.promise }));
    store.getState().connect()();
    list.resolve([state({})]);
    await list.promise;
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(store.getState().fetches).toEqual({});
  });
});
