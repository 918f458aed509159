// Fetch CIFAR-100 in the run form: offered where --data_set CIFAR meets a folder without its files
// (the CLI command still named in the problem), progress shown from the host's events, the folder
// checked again once the fetch is done so Start enables by itself; a failed fetch and a refused
// start show the host's reason with the button back; a download can be cancelled; a download
// already running when the page loads is shown from the host's list, before its next event.
import { act, cleanup, fireEvent, screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import type { CifarFetchState, DatasetCheck } from '../../../shared/api';
import { NewRunForm } from '../../src/components/runForm/NewRunForm';
import { fakeClient } from '../fakeClient';
import { renderWithStores } from '../render';
import { models, run } from '../sampleData';

afterEach(cleanup);

const FOLDER = '/data/c100';
const empty: DatasetCheck = { ok: false, path: FOLDER, problem: `${FOLDER} is in none of the layouts a data folder may have; it is empty` };
const cifar: DatasetCheck = { ok: true, path: FOLDER, dataSet: 'CIFAR', classes: 100, classNames: [], trainImages: 50000, valImages: 10000 };
const slow = { timeout: 5000 };

const state = (change: Partial<CifarFetchState>): CifarFetchState => ({
  dataPath: FOLDER, phase: 'downloading', receivedBytes: 0, totalBytes: null, fetched: null, error: null, startedAt: 1000, finishedAt: null, ...change,
});

/** running: what the host lists as already fetching when the page loads. */
function setup(fetchCifar: () => Promise<CifarFetchState>, running: CifarFetchState[] = []) {
  let fetched = false;
  const client = fakeClient({
    listCifarFetches: async () => running,
    checkDataset: async ({ path }) => (path === FOLDER && fetched ? cifar : { ...empty, path }),
    fetchCifar,
    cancelCifarFetch: async () => state({ phase: 'downloading', receivedBytes: 10 }),
    startRun: async () => run(),
    engineInfo: async () => { throw new Error('no engine in this test'); },
  });
  const view = renderWithStores(
    <NewRunForm initial={{ name: '', config: { data_set: 'CIFAR', data_path: FOLDER } }} onStarted={() => {}} onCancel={() => {}} />, client);
  view.stores.runs.setState({ models });
  view.stores.cifarFetch.getState().connect();
  return { client, markFetched: () => (fetched = true), ...view };
}

const panel = () => screen.getByRole('group', { name: 'Fetch CIFAR-100' });
const fetchButton = () => within(panel()).getByRole('button', { name: 'Fetch CIFAR-100 (≈170 MB)' });
const startButton = () => screen.getByRole('button', { name: 'Start run' });
const checks = (client: ReturnType<typeof setup>['client']) => client.calls.filter((c) => c.method === 'checkDataset').length;

describe('Fetch CIFAR-100 in the run form', () => {
  it('is offered for --data_set CIFAR on a folder without the files, the CLI command still named', async () => {
    setup(async () => state({}));
    await waitFor(() => expect(fetchButton()).toBeTruthy(), slow);
    expect(screen.getAllByText(/To download CIFAR-100 there: pix data fetch-cifar --data_path \/data\/c100/).length).toBeGreaterThan(0);
    expect(within(panel()).getByText(/downloads torchvision's archive into \/data\/c100, checks its MD5/)).toBeTruthy();
    expect(startButton()).toHaveProperty('disabled', true);
    // Not under another --data_set: the folder is just not a dataset then.
    fireEvent.change(screen.getByLabelText(/\(--data_set\)$/), { target: { value: 'IMNET' } });
    expect(screen.queryByRole('group', { name: 'Fetch CIFAR-100' })).toBeNull();
  });

  it('shows the download\'s progress, then each step, then checks the folder again and enables Start', async () => {
    const view = setup(async () => state({}));
    await waitFor(() => expect(fetchButton()).toBeTruthy(), slow);
    fireEvent.click(fetchButton());
    await waitFor(() => expect(view.client.calls).toContainEqual({ method: 'fetchCifar', request: { dataPath: FOLDER } }));
    await waitFor(() => expect(within(panel()).getByRole('status').textContent).toMatch(/^Downloading… 0 B/));
    expect(within(panel()).queryByRole('button', { name: /Fetch CIFAR-100/ })).toBeNull();

    act(() => view.client.emit('cifarFetchProgress', state({ receivedBytes: 45 * 2 ** 20, totalBytes: 180 * 2 ** 20 })));
    expect(within(panel()).getByRole('status').textContent).toMatch(/Downloading… 25% \(45\.0 MiB of 180\.0 MiB\)/);
    expect(within(panel()).getByRole('progressbar').getAttribute('value')).toBe('25');
    expect(within(panel()).getByRole('button', { name: 'Cancel' })).toBeTruthy();

    act(() => view.client.emit('cifarFetchProgress', state({ phase: 'verifying', receivedBytes: 180 * 2 ** 20, totalBytes: 180 * 2 ** 20 })));
    expect(within(panel()).getByRole('status').textContent).toMatch(/Checking the MD5…/);
    act(() => view.client.emit('cifarFetchProgress', state({ phase: 'unpacking', receivedBytes: 180 * 2 ** 20, totalBytes: 180 * 2 ** 20 })));
    expect(within(panel()).getByRole('status').textContent).toMatch(/Unpacking…/);
    expect(within(panel()).queryByRole('button', { name: 'Cancel' })).toBeNull();  // unpacking runs to its end

    const before = checks(view.client);
    view.markFetched();
    act(() => view.client.emit('cifarFetchDone', state({ phase: 'done', fetched: true, receivedBytes: 180 * 2 ** 20, finishedAt: 2000 })));
    await waitFor(() => expect(startButton()).toHaveProperty('disabled', false), slow);
    expect(checks(view.client)).toBe(before + 1);
    expect(screen.getByText(/CIFAR-100: 100 classes · 50,000 train \/ 10,000 test images/)).toBeTruthy();
    expect(screen.queryByRole('group', { name: 'Fetch CIFAR-100' })).toBeNull();
  });

  it('shows a download already running when the page loads, with its progress and Cancel, before any event', async () => {
    setup(async () => state({}), [state({ receivedBytes: 45 * 2 ** 20, totalBytes: 180 * 2 ** 20 })]);
    await waitFor(() => expect(within(panel()).getByRole('status').textContent).toMatch(/Downloading… 25% \(45\.0 MiB of 180\.0 MiB\)/), slow);
    expect(within(panel()).getByRole('button', { name: 'Cancel' })).toBeTruthy();
    expect(within(panel()).queryByRole('button', { name: /Fetch CIFAR-100/ })).toBeNull();
  });

  it('shows why a fetch failed and offers it again', async () => {
    const view = setup(async () => state({}));
    await waitFor(() => expect(fetchButton()).toBeTruthy(), slow);
    fireEvent.click(fetchButton());
    await waitFor(() => expect(within(panel()).getByRole('status')).toBeTruthy());
    const before = checks(view.client);
    act(() => view.client.emit('cifarFetchDone', state({
      phase: 'failed', finishedAt: 2000,
      error: 'pix data fetch-cifar: the archive from https://example/c.tgz has MD5 0123, not eb9058c3a382ffc7106e4002c42a8d85',
    })));
    expect(within(panel()).getByRole('alert').textContent).toMatch(/Fetching CIFAR-100 failed\..*has MD5 0123, not eb9058c3/);
    expect(fetchButton()).toHaveProperty('disabled', false);
    expect(checks(view.client)).toBe(before);  // nothing new to check
    expect(startButton()).toHaveProperty('disabled', true);
  });

  it('shows the host\'s refusal to start (one already running) and cancels a download', async () => {
    let calls = 0;
    const view = setup(async () => {
      if (calls++ === 0) throw new Error('CIFAR-100 is already being fetched into /data/c100 (downloading): wait for it to end or cancel it');
      return state({ receivedBytes: 10 });
    });
    await waitFor(() => expect(fetchButton()).toBeTruthy(), slow);
    fireEvent.click(fetchButton());
    await waitFor(() => expect(within(panel()).getByRole('alert').textContent).toMatch(/The host refused to fetch CIFAR-100\..*already being fetched/));
    fireEvent.click(fetchButton());
    await waitFor(() => expect(within(panel()).getByRole('button', { name: 'Cancel' })).toBeTruthy());
    expect(within(panel()).queryByRole('alert')).toBeNull();
    fireEvent.click(within(panel()).getByRole('button', { name: 'Cancel' }));
    await waitFor(() => expect(view.client.calls).toContainEqual({ method: 'cancelCifarFetch', request: { dataPath: FOLDER } }));
    act(() => view.client.emit('cifarFetchDone', state({ phase: 'cancelled', error: 'pix data fetch-cifar: cancelled after 10 bytes', finishedAt: 2000 })));
    expect(within(panel()).getByText(/The fetch was cancelled/)).toBeTruthy();
    expect(fetchButton()).toBeTruthy();
  });
});
