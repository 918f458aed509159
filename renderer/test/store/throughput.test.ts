// The throughput store: requests checked by the contract before they leave, progress and results
// followed from events.
import { describe, expect, it } from 'vitest';
import type { ThroughputReport } from '../../../shared/api';
import { createThroughputStore, reportCsv } from '../../src/store/throughput';
import { fakeClient } from '../fakeClient';

const report: ThroughputReport = {
  id: 't1', startedAt: 5, finishedAt: null, device: 'cpu', precision: 'fp32', mode: 'infer', inputSize: 32,
  measurements: [], ratios: [], error: null,
};

describe('throughput store', () => {
  it('names a bad request without calling the host', async () => {
    const client = fakeClient({});
    const store = createThroughputStore(client);
    await store.getState().compare({ models: ['a'], device: 'gpu', precision: 'fp32', mode: 'infer', batchSizes: [8], inputSize: 16, repeats: 1 });
    const start = store.getState().start;
    expect(start.status).toBe('failed');
    expect(start.status === 'failed' && start.message).toMatch(/device.*inputSize/);
    expect(client.calls).toEqual([]);
  });

  it('follows progress and takes the finished report', async () => {
    const client = fakeClient({ startThroughput: async () => report });
    const store = createThroughputStore(client);
    store.getState().connect();
    await store.getState().compare({ models: ['a', 'b'], device: 'cpu', precision: 'fp32', mode: 'infer', batchSizes: [8], inputSize: 32, repeats: 1 });
    expect(store.getState().runningId).toBe('t1');
    const measurement = { model: 'a', batchSize: 8, samples: [90, 100, 110], min: 90, median: 100, max: 110, latencyMs: 80, parameters: 10, macs: 20 };
    const measuring = [{ model: 'b', batchSize: 8 }];
    client.emit('throughputProgress', { report: { ...report, measurements: [measurement] }, done: 1, total: 2, current: 'b · batch 8', measuring });
    expect(store.getState().progress).toEqual({ done: 1, total: 2, current: 'b · batch 8', measuring });
    expect(store.getState().report?.measurements).toEqual([measurement]);
    client.emit('throughputDone', { ...report, finishedAt: 9, measurements: [measurement] });
    expect(store.getState().runningId).toBeNull();
    expect(store.getState().progress).toBeNull();
    expect(store.getState().report?.measurements).toHaveLength(1);
    expect(store.getState().reports).toHaveLength(1);
    expect(reportCsv(store.getState().report!).split('\n')[1]).toBe('a,8,cpu,fp32,infer,32,100,90,110,80,10,20');
  });

  it('leaves a past report on screen while the running one goes on and ends', async () => {
    const past: ThroughputReport = { ...report, id: 't0', startedAt: 1, finishedAt: 2 };
    const client = fakeClient({ startThroughput: async () => report, throughputHistory: async () => [past] });
    const store = createThroughputStore(client);
    store.getState().connect();
    await store.getState().loadHistory();
    await store.getState().compare({ models: ['a', 'b'], device: 'cpu', precision: 'fp32', mode: 'infer', batchSizes: [8], inputSize: 32, repeats: 1 });
    store.getState().show('t0');
    client.emit('throughputProgress', { report, done: 1, total: 2, current: 'b · batch 8', measuring: [] });
    expect(store.getState().report?.id).toBe('t0');
    expect(store.getState().progress?.done).toBe(1);
    client.emit('throughputDone', { ...report, finishedAt: 9 });
    expect(store.getState().report?.id).toBe('t0');
    expect(store.getState().runningId).toBeNull();
    expect(store.getState().reports.map((r) => r.id)).toEqual(['t1', 't0']);
  });
});
