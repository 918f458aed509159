// The Runs page: the list filtered as typed, status actions by status, Clone pre-filling the form.
import { cleanup, fireEvent, screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunDetail } from '../../../shared/api';
import { defaultRunConfig } from '../../../shared/config';
import { RunsPage } from '../../src/pages/RunsPage';
import { fakeClient } from '../fakeClient';
import { renderWithStores } from '../render';
import { models, run } from '../sampleData';

afterEach(cleanup);

const runs = [
  run({ id: 'a', name: 'pix-digits', status: 'running', createdAt: 3 }),
  run({ id: 'b', name: 'resnet-digits', model: 'resnet_small', status: 'stopped', createdAt: 2 }),
  run({ id: 'c', name: 'next-in-line', status: 'queued', queuePosition: 1, startedAt: null, createdAt: 4 }),
];
const detailOfB: RunDetail = { ...runs[1], config: { ...defaultRunConfig(), lr: 0.25, model: 'resnet_small', output_dir: '/runs/b' }, epochRecords: [], logTail: [], checkpoints: [], badFiles: [] };

function setup() {
  const client = fakeClient({
    listRuns: async () => runs,
    listModels: async () => models,
    getRun: async () => detailOfB,
    checkDataset: async ({ path }) => ({ ok: true, path, classes: 10, classNames: [], trainImages: 9000, valImages: 1000 }),
    engineInfo: async () => { throw new Error('no engine in this test'); },
  });
  return { client, ...renderWithStores(<RunsPage />, client) };
}

describe('RunsPage', () => {
  it('lists runs with the actions their status allows, and filters as typed', async () => {
    setup();
    const running = within(await screen.findByRole('row', { name: 'Run pix-digits' }));
    const stopped = within(screen.getByRole('row', { name: 'Run resnet-digits' }));
    expect(running.getByRole('button', { name: 'Stop' })).toBeTruthy();
    expect(running.queryByRole('button', { name: 'Resume' })).toBeNull();
    expect(running.getByRole('button', { name: 'Delete' })).toHaveProperty('disabled', true);
    expect(stopped.getByRole('button', { name: 'Resume' })).toBeTruthy();
    expect(stopped.getByRole('button', { name: 'Delete' })).toHaveProperty('disabled', false);
    // A queued run is taken off the queue, not stopped: its button says so.
    const queued = within(screen.getByRole('row', { name: 'Run next-in-line' }));
    expect(queued.getByRole('button', { name: 'Cancel' })).toBeTruthy();
    expect(queued.queryByRole('button', { name: 'Stop' })).toBeNull();

    fireEvent.change(screen.getByLabelText('Filter runs'), { target: { value: 'RESNET-' } });
    expect(screen.queryByRole('row', { name: 'Run pix-digits' })).toBeNull();
    expect(screen.getByRole('row', { name: 'Run resnet-digits' })).toBeTruthy();
    expect(screen.getByText('1 of 3 runs')).toBeTruthy();
  });

  it('Cancel takes a queued run off the queue through the host\'s stop', async () => {
    const { client } = setup();
    fireEvent.click(within(await screen.findByRole('row', { name: 'Run next-in-line' })).getByRole('button', { name: 'Cancel' }));
    await waitFor(() => expect(client.calls).toContainEqual({ method: 'stopRun', request: { id: 'c' } }));
  });

  it('Clone opens the form with the run\'s config and name, in a folder of its own', async () => {
    setup();
    fireEvent.click(within(await screen.findByRole('row', { name: 'Run resnet-digits' })).getByRole('button', { name: 'Clone' }));
    await waitFor(() => expect(screen.getByLabelText('Peak learning rate (--lr)')).toHaveProperty('value', '0.25'));
    expect(screen.getByLabelText('Run name')).toHaveProperty('value', 'resnet-digits (copy)');
    expect(screen.getByLabelText(/\(--output_dir\)$/)).toHaveProperty('value', '');
  });
});
