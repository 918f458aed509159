// The run list: filtering, and staying current from the host's events and actions.
import { describe, expect, it } from 'vitest';
import type { RunSummary } from '../../../shared/api';
import { createRunsStore, filterRuns, removeRun, upsertRun } from '../../src/store/runs';
import { fakeClient } from '../fakeClient';
import { models, run } from '../sampleData';

const runs = [
  run({ id: 'a', name: 'pix digits', status: 'running', createdAt: 3 }),
  run({ id: 'b', name: 'baseline', model: 'resnet_small', status: 'completed', createdAt: 2 }),
  run({ id: 'c', name: 'imagenet long', dataset: '/data/imagenet', status: 'failed', createdAt: 1 }),
];

describe('filterRuns', () => {
  it('matches every typed word against name, model and dataset, case-insensitively', () => {
    expect(filterRuns(runs, 'SMALL', 'all').map((r) => r.id)).toEqual(['b']);
    expect(filterRuns(runs, 'imagenet pix', 'all').map((r) => r.id)).toEqual(['c']);
    expect(filterRuns(runs, 'demo', 'all').map((r) => r.id)).toEqual(['a', 'b']);
    expect(filterRuns(runs, '', 'all')).toHaveLength(3);
  });

  it('filters by status', () => {
    expect(filterRuns(runs, '', 'failed').map((r) => r.id)).toEqual(['c']);
    expect(filterRuns(runs, 'pix', 'completed')).toEqual([]);
  });
});

describe('upsertRun / removeRun', () => {
  it('replaces a known run in place, adds a new one newest-first, removes by id', () => {
    const updated = upsertRun(runs, { ...runs[1], status: 'stopped' });
    expect(updated.map((r) => [r.id, r.status])).toEqual([['a', 'running'], ['b', 'stopped'], ['c', 'failed']]);
    expect(upsertRun(runs, run({ id: 'd', createdAt: 9 }))[0].id).toBe('d');
    expect(removeRun(runs, 'b').map((r) => r.id)).toEqual(['a', 'c']);
  });
});

describe('runs store', () => {
  it('lists the runs again when the event stream is restored', async () => {
    let listed = 0;
    const client = fakeClient({ listRuns: async () => { listed += 1; return runs; }, listModels: async () => models });
    const store = createRunsStore(client);
    const off = store.getState().connect();
    await store.getState().load();
    client.streamState('lost');
    expect(listed).toBe(1);
    client.streamState('restored');
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(listed).toBe(2);
    off();
    client.streamState('restored');
    expect(listed).toBe(2);
  });

  it('loads, follows runUpdated/runDeleted, and keeps an action\'s refusal', async () => {
    const client = fakeClient({
      listRuns: async () => runs,
      listModels: async () => models,
      stopRun: async () => { throw new Error('stopRun: run c is not running'); },
      resumeRun: async ({ id }) => ({ ...runs.find((r) => r.id === id)!, status: 'queued', queuePosition: 1 }),
    });
    const store = createRunsStore(client);
    const off = store.getState().connect();
    await store.getState().load();
    expect(store.getState().list.status).toBe('done');
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(store.getState().models).toEqual(models);

    client.emit('runUpdated', { ...runs[0], step: 99 });
    expect(store.getState().runs[0].step).toBe(99);
    client.emit('runDeleted', { id: 'b' });
    expect(store.getState().runs.map((r) => r.id)).toEqual(['a', 'c']);

    await store.getState().stop('c');
    expect(store.getState().actionError).toBe('stopRun: run c is not running');
    await store.getState().resume('c');
    expect(store.getState().actionError).toBeNull();
    expect(store.getState().runs.find((r) => r.id === 'c')?.queuePosition).toBe(1);

    off();
    client.emit('runDeleted', { id: 'a' });
    expect(store.getState().runs).toHaveLength(2);
  });
});

describe('runs store races', () => {
  it('keeps the newer event when an action\'s answer arrives after it', async () => {
    let answer: (summary: RunSummary) => void = () => {};
    const client = fakeClient({ stopRun: () => new Promise((resolve) => { answer = resolve; }) });
    const store = createRunsStore(client);
    store.getState().connect();
    store.setState({ runs: [run({ id: 'a', status: 'running' })] });
    const stopping = store.getState().stop('a');
    client.emit('runUpdated', run({ id: 'a', status: 'stopped' }));
    answer(run({ id: 'a', status: 'stopping' }));
    await stopping;
    expect(store.getState().runs[0].status).toBe('stopped');
  });
});
