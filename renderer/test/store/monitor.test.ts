// The monitor's series: asked of the host at the chart's width over the zoom window, grown by live
// iterations, and asked again (not thinned) once the live tail outgrows the chart.
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { IterationPoint, RunDetail, Series } from '../../../shared/api';
import { defaultRunConfig } from '../../../shared/config';
import { createMonitorStore, liveRedrawDelayMs, monitoredMetrics, seriesKey } from '../../src/store/monitor';
import { fakeClient } from '../fakeClient';
import { run } from '../sampleData';

const detail: RunDetail = { ...run(), config: defaultRunConfig(), epochRecords: [], logTail: ['epoch 0 started'], checkpoints: [], badFiles: [] };

function iteration(step: number): IterationPoint {
  return { epoch: 0, step, time: 1000 + step, loss: 1 / step, lr: 0.1, weight_decay: 0, grad_norm: 1, images_per_second: 500, data_seconds: 0.01, step_seconds: 0.1 };
}

afterEach(() => vi.useRealTimers());

/** Lets the live iterations' redraw timer fire (the stores wait liveRedrawDelayMs to batch them). */
async function afterLiveDelay() {
  await vi.advanceTimersByTimeAsync(liveRedrawDelayMs);
}

function setup() {
  const requests: { metric: string; axis: string; from?: number; to?: number; maxPoints: number }[] = [];
  const client = fakeClient({
    getRun: async () => detail,
    runSeries: async (request): Promise<Series> => {
      requests.push(request);
      return { metric: request.metric, axis: request.axis, x: [1, 2], y: [1, 0.5], windowPoints: 2, totalPoints: 2, xMin: 1, xMax: 2 };
    },
  });
  const store = createMonitorStore(client);
  const off = store.getState().connect();
  return { client, store, requests, off };
}

describe('monitor store', () => {
  it('fetches the run and its series again when the event stream is restored, not when it is lost', async () => {
    const { client, store, requests } = setup();
    await store.getState().open('r1');
    requests.length = 0;
    const getRuns = () => client.calls.filter((c) => c.method === 'getRun').length;
    const before = getRuns();
    client.streamState('lost');
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(requests).toHaveLength(0);
    client.streamState('restored');
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(requests.map((r) => r.metric).sort()).toEqual([...monitoredMetrics].sort());
    expect(getRuns()).toBe(before + 1);
  });

  it('asks for every charted metric at the chart width, then for the zoom window', async () => {
    const { store, requests } = setup();
    store.setState({ maxPoints: 300 });
    await store.getState().open('r1');
    expect(requests.map((r) => r.metric).sort()).toEqual([...monitoredMetrics].sort());
    expect(requests.every((r) => r.maxPoints === 300 && r.from === undefined && r.to === undefined)).toBe(true);

    requests.length = 0;
    store.getState().zoom({ from: 10, to: 20 });
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(requests).toHaveLength(monitoredMetrics.length);
    expect(requests.every((r) => r.from === 10 && r.to === 20)).toBe(true);
  });

  it('drops the zoom and asks again on another axis; overlaid runs are fetched too and dropped on delete', async () => {
    const { client, store, requests } = setup();
    await store.getState().open('r1');
    store.getState().zoom({ from: 3, to: 4 });
    await store.getState().toggleCompare('r2');
    requests.length = 0;
    store.getState().setAxis('epoch');
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(store.getState().window).toEqual({});
    expect(requests).toHaveLength(2 * monitoredMetrics.length);
    expect(requests.every((r) => r.axis === 'epoch' && r.from === undefined)).toBe(true);
    client.emit('runDeleted', { id: 'r2' });
    expect(store.getState().compareIds).toEqual([]);
  });

  it('appends live iterations and asks the host again once the tail passes twice the width', async () => {
    vi.useFakeTimers();
    const { client, store, requests } = setup();
    store.setState({ maxPoints: 4 });
    await store.getState().open('r1');
    requests.length = 0;

    client.emit('runIterations', { id: 'r1', points: [iteration(2), iteration(3), iteration(4)] });
    await afterLiveDelay();
    const loss = store.getState().series[seriesKey('r1', 'loss')];
    expect(loss.x).toEqual([1, 2, 3, 4]);
    expect(loss.y).toEqual([1, 0.5, 1 / 3, 0.25]);
    expect(requests).toHaveLength(0);

    client.emit('runIterations', { id: 'r1', points: [5, 6, 7, 8, 9].map(iteration) });
    await afterLiveDelay();
    expect(requests.map((r) => r.metric).sort()).toEqual([...monitoredMetrics].sort());
    // The host's new answer replaces the 9 points drawn meanwhile (this fake answers [1, 2]).
    expect(store.getState().series[seriesKey('r1', 'loss')].x).toEqual([1, 2]);
  });

  it('draws the batches that arrive within the redraw delay in one update, from the first arrival', async () => {
    vi.useFakeTimers();
    const { client, store } = setup();
    await store.getState().open('r1');
    const updates = vi.fn();
    store.subscribe((state, previous) => state.series !== previous.series && updates());

    client.emit('runIterations', { id: 'r1', points: [iteration(3)] });
    await vi.advanceTimersByTimeAsync(liveRedrawDelayMs - 1);
    client.emit('runIterations', { id: 'r1', points: [iteration(4)] });
    expect(updates).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    expect(updates).toHaveBeenCalledTimes(1);
    expect(store.getState().series[seriesKey('r1', 'loss')].x).toEqual([1, 2, 3, 4]);

    // Disconnecting drops what was not drawn yet: nothing fires after the monitor is gone.
    client.emit('runIterations', { id: 'r1', points: [iteration(5)] });
    store.getState().connect()();
    await afterLiveDelay();
    expect(updates).toHaveBeenCalledTimes(1);
  });

  it('ignores iterations of runs not on screen and keeps log and epoch records current', async () => {
    const { client, store } = setup();
    await store.getState().open('r1');
    client.emit('runIterations', { id: 'other', points: [iteration(5)] });
    await new Promise((resolve) => setTimeout(resolve, liveRedrawDelayMs + 10));
    expect(store.getState().series[seriesKey('r1', 'loss')].x).toEqual([1, 2]);
    client.emit('runLog', { id: 'r1', lines: ['step 5 loss 0.2'] });
    client.emit('runEpoch', { id: 'r1', record: { epoch: 0, test_acc1: 91 } });
    expect(store.getState().details.r1.logTail).toEqual(['epoch 0 started', 'step 5 loss 0.2']);
    expect(store.getState().details.r1.epochRecords).toEqual([{ epoch: 0, test_acc1: 91 }]);
  });

  it('lists the checkpoints an epoch saved as soon as its record arrives, while the run goes on', async () => {
    const saved = { path: '/runs/r1/checkpoint-0.safetensors', name: 'checkpoint-0', epoch: 0, bytes: 1024, modifiedAt: 2_000 };
    let checkpoints: RunDetail['checkpoints'] = [];
    const client = fakeClient({ getRun: async () => ({ ...detail, checkpoints }), runSeries: async (request) => ({ metric: request.metric, axis: request.axis, x: [], y: [], windowPoints: 0, totalPoints: 0, xMin: null, xMax: null }) });
    const store = createMonitorStore(client);
    store.getState().connect();
    await store.getState().open('r1');
    expect(store.getState().details.r1.checkpoints).toEqual([]);
    client.emit('runLog', { id: 'r1', lines: ['epoch 0 done'] });
    checkpoints = [saved];
    client.emit('runEpoch', { id: 'r1', record: { epoch: 0, test_acc1: 91 } });
    await vi.waitFor(() => expect(store.getState().details.r1.checkpoints).toEqual([saved]));
    // The rest stays as the events made it: the log line and the record are kept.
    expect(store.getState().details.r1.logTail).toEqual(['epoch 0 started', 'epoch 0 done']);
    expect(store.getState().details.r1.epochRecords).toEqual([{ epoch: 0, test_acc1: 91 }]);
    expect(store.getState().details.r1.status).toBe('running');
  });
});
