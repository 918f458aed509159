// The throughput page while a comparison runs: the models measured so far show their results and
// the ones still being timed are marked as measuring, until the finished report replaces them.
import { act, cleanup, screen, within } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import type { ThroughputMeasurement, ThroughputReport } from '../../../shared/api';
import { ThroughputPage } from '../../src/pages/ThroughputPage';
import { fakeClient } from '../fakeClient';
import { renderWithStores } from '../render';
import { models } from '../sampleData';

afterEach(cleanup);

const running: ThroughputReport = {
  id: 't1', startedAt: 5, finishedAt: null, device: 'cpu', precision: 'fp32', mode: 'infer', inputSize: 32,
  measurements: [], ratios: [], error: null,
};

const measured = (model: string, median: number): ThroughputMeasurement =>
  ({ model, batchSize: 8, samples: [median], min: median, median, max: median, latencyMs: 8000 / median, parameters: 10, macs: 20 });

/** The measurement table's rows as text, header left out. */
const tableRows = () => within(screen.getAllByRole('table').at(-1)!).getAllByRole('row').slice(1).map((row) => row.textContent);

describe('ThroughputPage', () => {
  it('shows each model once measured and marks the others as measuring', async () => {
    const client = fakeClient({ listRuns: async () => [], listModels: async () => models, throughputHistory: async () => [],
      engineInfo: async () => { throw new Error('no engine here'); } });
    const { stores } = renderWithStores(<ThroughputPage />, client);
    stores.throughput.getState().connect();
    await screen.findByText('No comparisons yet.');

    act(() => client.emit('throughputProgress', { report: running, done: 1, total: 4, current: 'pix_resnet_tiny_cs batch 8, repeat 1/2',
      measuring: [{ model: 'pix_resnet_tiny_cs', batchSize: 8 }, { model: 'resnet_tiny', batchSize: 8 }] }));
    expect(screen.getByText(/each model's results appear once its repeats are timed/)).toBeTruthy();
    expect(tableRows()).toEqual(['pix_resnet_tiny_cs8measuring…', 'resnet_tiny8measuring…']);

    act(() => client.emit('throughputProgress', { report: { ...running, measurements: [measured('pix_resnet_tiny_cs', 1000)] },
      done: 3, total: 4, current: 'pix_resnet_tiny_cs batch 8, repeat 2/2', measuring: [{ model: 'resnet_tiny', batchSize: 8 }] }));
    expect(screen.queryByText(/each model's results appear/)).toBeNull();
    expect(tableRows()[0]).toMatch(/^pix_resnet_tiny_cs8/);
    expect(tableRows()[0]).not.toMatch(/measuring/);
    expect(tableRows()[1]).toBe('resnet_tiny8measuring…');

    act(() => client.emit('throughputDone', { ...running, finishedAt: 9, measurements: [measured('pix_resnet_tiny_cs', 1000), measured('resnet_tiny', 800)] }));
    expect(tableRows()).toHaveLength(2);
    expect(tableRows().some((row) => row?.includes('measuring'))).toBe(false);
  });
});
