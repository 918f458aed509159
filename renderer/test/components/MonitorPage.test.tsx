// The monitor while a run trains: the header and log follow every event, while each chart redraws
// only when its own series changes, once per batch of live iterations.
import { act, cleanup, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { IterationMetricName, IterationPoint, RunDetail, Series, SeriesAxis } from '../../../shared/api';
import { defaultRunConfig } from '../../../shared/config';
import { MonitorPage } from '../../src/pages/MonitorPage';
import { colorOf } from '../../src/components/monitor/palette';
import { liveRedrawDelayMs } from '../../src/store/monitor';
import { fakeClient } from '../fakeClient';
import { renderWithStores } from '../render';
import { run } from '../sampleData';

// Counts the redraws of each chart instead of drawing it (recharts needs a layout jsdom lacks),
// and shows its lines' labels and colours.
const redraws = vi.hoisted(() => new Map<string, number>());
vi.mock('../../src/components/monitor/SeriesChart', () => ({
  SeriesChart: ({ title, lines, smoothing }: {
    title: string; lines: { label: string; color: string; dash?: string; series?: { x: number[] } }[]; smoothing: { kind: string };
  }) => {
    redraws.set(title, (redraws.get(title) ?? 0) + 1);
    return (
      <figure aria-label={title} data-points={lines.reduce((n, line) => n + (line.series?.x.length ?? 0), 0)}
        data-lines={lines.map((line) => `${line.label} ${line.color}${line.dash ? ' dashed' : ''}`).join('; ')} data-smoothing={smoothing.kind} />
    );
  },
}));

afterEach(cleanup);

const detail: RunDetail = { ...run(), config: defaultRunConfig(), epochRecords: [], logTail: [], checkpoints: [], badFiles: [] };

function iteration(step: number): IterationPoint {
  return { epoch: 0, step, time: 1000 + step, loss: 1 / step, lr: 0.1, weight_decay: 0, grad_norm: 1, images_per_second: 500, data_seconds: 0.01, step_seconds: 0.1 };
}

const points = (title: string) => Number(screen.getByRole('figure', { name: title }).getAttribute('data-points'));
const lineLabels = (title: string) => screen.getByRole('figure', { name: title }).getAttribute('data-lines');

const seriesOf = async (request: { metric: IterationMetricName; axis: SeriesAxis }): Promise<Series> =>
  ({ metric: request.metric, axis: request.axis, x: [1, 2], y: [1, 0.5], windowPoints: 2, totalPoints: 2, xMin: 1, xMax: 2 });

describe('MonitorPage', () => {
  it('leaves the charts alone on log lines and progress, and redraws each once per live batch', async () => {
    const client = fakeClient({
      listRuns: async () => [run()],
      getRun: async () => detail,
      runSeries: seriesOf,
    });
    const { stores } = renderWithStores(<MonitorPage />, client);
    const disconnect = stores.monitor.getState().connect();
    await act(() => stores.monitor.getState().open('r1'));
    await waitFor(() => expect(points('Training loss')).toBe(2));
    redraws.clear();

    act(() => {
      client.emit('runLog', { id: 'r1', lines: ['step 11 loss 0.4'] });
      client.emit('runUpdated', run({ step: 11 }));
      client.emit('runEpoch', { id: 'r1', record: { epoch: 0, test_acc1: 50 } });
    });
    expect(screen.getByText('step 11 loss 0.4')).toBeTruthy();
    expect(screen.getByText(/step 11 \/ 300/)).toBeTruthy();
    expect(redraws.size).toBe(0);

    vi.useFakeTimers();
    try {
      act(() => {
        client.emit('runIterations', { id: 'r1', points: [iteration(3)] });
        client.emit('runIterations', { id: 'r1', points: [iteration(4), iteration(5)] });
      });
      expect(redraws.size).toBe(0);
      await act(() => vi.advanceTimersByTimeAsync(liveRedrawDelayMs));
    } finally {
      vi.useRealTimers();
    }
    expect(points('Training loss')).toBe(5);
    expect(Object.fromEntries(redraws)).toEqual({ 'Training loss': 1, 'Learning rate': 1, 'Images/s': 1, 'Data vs step time (s)': 1 });
    disconnect();
  });

  it('smooths the measured curves but draws the learning-rate schedule as it is', async () => {
    const client = fakeClient({ listRuns: async () => [run()], getRun: async () => detail, runSeries: seriesOf });
    const { stores } = renderWithStores(<MonitorPage />, client);
    await act(() => stores.monitor.getState().open('r1'));
    await waitFor(() => expect(points('Training loss')).toBe(2));
    const smoothing = (title: string) => screen.getByRole('figure', { name: title }).getAttribute('data-smoothing');
    expect(stores.monitor.getState().smoothing.kind).toBe('ema');
    expect(smoothing('Training loss')).toBe('ema');
    expect(smoothing('Images/s')).toBe('ema');
    expect(smoothing('Learning rate')).toBe('none');
  });

  it('overlays a compared run: a line per run and metric, named by run where there are several', async () => {
    const other: RunDetail = { ...detail, id: 'r2', name: 'digits-b' };
    const client = fakeClient({
      listRuns: async () => [run(), run({ id: 'r2', name: 'digits-b' })],
      getRun: async ({ id }) => (id === 'r2' ? other : detail),
      runSeries: seriesOf,
    });
    const { stores } = renderWithStores(<MonitorPage />, client);
    await act(() => stores.monitor.getState().open('r1'));
    await waitFor(() => expect(lineLabels('Training loss')).toBe(`loss ${colorOf(0)}`));
    expect(lineLabels('Data vs step time (s)')).toBe(`data ${colorOf(0)}; step ${colorOf(1)}`);

    await act(() => stores.monitor.getState().toggleCompare('r2'));
    await waitFor(() => expect(points('Training loss')).toBe(4));
    expect(lineLabels('Training loss')).toBe(`digits-a ${colorOf(0)}; digits-b ${colorOf(1)}`);
    // A run has one colour on every chart; its two timings differ by dash, not by borrowing the next run's colour.
    expect(lineLabels('Data vs step time (s)')).toBe(
      `digits-a data ${colorOf(0)}; digits-a step ${colorOf(0)} dashed; digits-b data ${colorOf(1)}; digits-b step ${colorOf(1)} dashed`,
    );
  });

  it('says a queued run waits rather than "step 0 / 0 (0.0%)", and counts finished epochs as such', async () => {
    const queued: RunDetail = { ...detail, ...run({ status: 'queued', queuePosition: 2, step: 0, totalSteps: 0, startedAt: null, epoch: 0, epochs: 3 }) };
    const client = fakeClient({ listRuns: async () => [queued], getRun: async () => queued, runSeries: seriesOf });
    const { stores } = renderWithStores(<MonitorPage />, client);
    await act(() => stores.monitor.getState().open('r1'));
    await waitFor(() => expect(screen.getByText('waiting for its device')).toBeTruthy());
    expect(screen.queryByText(/step 0 \/ 0/)).toBeNull();
    expect(screen.getByText('0/3 epochs done')).toBeTruthy();
    expect(screen.getByText(/^queued \d/)).toBeTruthy();
  });

  it('gives a finished run its wall time where a running one has its ETA', async () => {
    const done: RunDetail = { ...detail, ...run({ status: 'completed', startedAt: 1_000, finishedAt: 126_000, etaSeconds: null }) };
    const client = fakeClient({ listRuns: async () => [done], getRun: async () => done, runSeries: seriesOf });
    const { stores } = renderWithStores(<MonitorPage />, client);
    await act(() => stores.monitor.getState().open('r1'));
    await waitFor(() => expect(screen.getByText('took 2 min 5 s')).toBeTruthy());
    expect(screen.queryByText(/ETA/)).toBeNull();
  });
});
