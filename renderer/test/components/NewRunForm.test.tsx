// The New-run form: generated from runFlags, validated inline by runConfigSchema and the host's
// dataset check, Start enabled only when everything is valid, the host's refusal shown.
import { cleanup, fireEvent, screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import type { DatasetCheck, WorkbenchDialogs } from '../../../shared/api';
import { runFlags } from '../../../shared/config';
import { NewRunForm } from '../../src/components/runForm/NewRunForm';
import { fakeClient } from '../fakeClient';
import { renderWithStores } from '../render';
import { models, run } from '../sampleData';

afterEach(cleanup);

const digits: DatasetCheck = { ok: true, path: '', classes: 10, classNames: [], trainImages: 9000, valImages: 1000 };

function setup(options: { dataset?: (path: string) => DatasetCheck; startRun?: () => Promise<never>; dialogs?: WorkbenchDialogs } = {}) {
  const client = fakeClient({
    checkDataset: async ({ path }) => (options.dataset ? options.dataset(path) : { ...digits, path }),
    startRun: options.startRun ?? (async () => run()),
    engineInfo: async () => { throw new Error('no engine in this test'); },
  }, options.dialogs);
  const started: string[] = [];
  const view = renderWithStores(<NewRunForm initial={{ name: '', config: {} }} onStarted={(r) => started.push(r.id)} onCancel={() => {}} />, client);
  view.stores.runs.setState({ models });
  return { client, started, ...view };
}

/** The text a screen reader reads after a control's label: every element its aria-describedby names. */
const describedBy = (control: HTMLElement) =>
  (control.getAttribute('aria-describedby') ?? '').split(' ').map((id) => document.getElementById(id)?.textContent ?? '').join(' ');

const startButton = () => screen.getByRole('button', { name: 'Start run' });
// The dataset check waits for typing to pause; on two shared cores a render can take a while.
const slow = { timeout: 5000 };

describe('NewRunForm', () => {
  it('has one labelled field per run flag, named by its flag, in its group', () => {
    setup();
    for (const name of Object.keys(runFlags)) expect(screen.getByLabelText(new RegExp(`\\(--${name}\\)$`))).toBeTruthy();
    expect(screen.getByLabelText('Peak learning rate (--lr)')).toHaveProperty('value', '0.004');
    const schedule = screen.getByText('Schedule').closest('details') as HTMLElement;
    expect(within(schedule).getByLabelText('Training epochs (--epochs)')).toBeTruthy();
  });

  it('opens a closed group and focuses the field when its problem is clicked in the list', () => {
    setup();
    const mixup = screen.getByLabelText('Mixup alpha (0: off) (--mixup)');
    const group = mixup.closest('details') as HTMLDetailsElement;
    expect(group.open).toBe(false);
    fireEvent.change(mixup, { target: { value: 'lots' } });
    fireEvent.click(within(screen.getByRole('list', { name: 'Problems' })).getByRole('button', { name: '--mixup' }));
    expect(group.open).toBe(true);
    expect(document.activeElement).toBe(mixup);
  });

  it('labels a flag with its help\'s opening and keeps the rest under the field, described by it', () => {
    setup();
    const classes = screen.getByLabelText('Number of classes (--nb_classes)');
    expect(describedBy(classes)).toMatch(/^with --data_set image_folder, .*one output per class folder$/);
    expect(describedBy(screen.getByLabelText('Peak learning rate (--lr)'))).toBe('');
  });

  it('enables Start once the dataset checks out, and shows its counts and the derived batch', async () => {
    setup();
    expect(startButton()).toHaveProperty('disabled', true);
    await waitFor(() => expect(startButton()).toHaveProperty('disabled', false), slow);
    expect(screen.getByText(/10 classes · 9,000 train \/ 1,000 val images/)).toBeTruthy();
    expect(screen.getByTestId('effective-batch').textContent).toBe('64 = 64 × 1 × 1');
    fireEvent.change(screen.getByLabelText('Gradient accumulation steps (--update_freq)'), { target: { value: '2' } });
    fireEvent.change(screen.getByLabelText('Processes (GPUs) on this node (--nproc_per_node)'), { target: { value: '3' } });
    expect(screen.getByTestId('effective-batch').textContent).toBe('384 = 64 × 2 × 3');
    expect(screen.getByTestId('iterations-per-epoch').textContent).toBe('23');
  });

  it('names an impossible value inline and keeps Start disabled until it is fixed', async () => {
    setup();
    await waitFor(() => expect(startButton()).toHaveProperty('disabled', false), slow);
    const lr = screen.getByLabelText('Peak learning rate (--lr)');
    fireEvent.change(lr, { target: { value: '-0.1' } });
    expect(lr.getAttribute('aria-invalid')).toBe('true');
    expect(describedBy(lr)).toBe('must be above 0, got -0.1');
    expect(startButton()).toHaveProperty('disabled', true);

    fireEvent.change(screen.getByLabelText('Batch size per process (--batch_size)'), { target: { value: '0' } });
    expect(screen.getByText('--batch_size')).toBeTruthy();
    fireEvent.change(lr, { target: { value: 'abc' } });
    expect(screen.getAllByText(/"abc" is not a number/).length).toBeGreaterThan(0);

    fireEvent.change(lr, { target: { value: '0.1' } });
    fireEvent.change(screen.getByLabelText('Batch size per process (--batch_size)'), { target: { value: '32' } });
    expect(startButton()).toHaveProperty('disabled', false);
  });

  it('shows the host\'s reason for a missing dataset and refuses to start', async () => {
    setup({ dataset: (path) => (path === '' ? digits : { ok: false, path, problem: `${path} does not exist` }) });
    await waitFor(() => expect(startButton()).toHaveProperty('disabled', false), slow);
    fireEvent.change(screen.getByLabelText(/\(--data_path\)$/), { target: { value: '/data/missing' } });
    await waitFor(() => expect(screen.getAllByText('/data/missing does not exist').length).toBeGreaterThan(0), slow);
    expect(startButton()).toHaveProperty('disabled', true);
  });

  it('shows an image folder as one set of images, the training set of --data_set image_folder, never as train and val', async () => {
    // The host counts an image folder as both its train and its val; pix train trains on it and evaluates on --eval_data_path.
    const folder: DatasetCheck = { ok: true, path: '/data/flowers', dataSet: 'image_folder', classes: 5, classNames: [], trainImages: 3200, valImages: 3200 };
    setup({ dataset: (path) => (path === '/data/flowers' ? folder : path === '/data/flowers-val' ? { ...folder, path, trainImages: 800, valImages: 800 } : { ...digits, path }) });
    await waitFor(() => expect(startButton()).toHaveProperty('disabled', false), slow);
    const dataPath = screen.getByLabelText(/\(--data_path\)$/);
    fireEvent.change(dataPath, { target: { value: '/data/flowers' } });

    // Under the default --data_set IMNET, pix train needs train/ and val/: refused, naming the fix.
    await waitFor(() => expect(describedBy(dataPath))
      .toMatch(/\/data\/flowers is an image folder \(5 classes, 3,200 images, no train\/ and val\/\).*set --data_set image_folder/), slow);
    expect(screen.queryByText(/val images/)).toBeNull();
    expect(screen.getByTestId('iterations-per-epoch').textContent).toBe('—');
    expect(startButton()).toHaveProperty('disabled', true);

    // As --data_set image_folder it is the training set; the class count and the evaluation folder must fit it.
    fireEvent.change(screen.getByLabelText(/\(--data_set\)$/), { target: { value: 'image_folder' } });
    expect(screen.getAllByText(/--nb_classes is 1000 but \/data\/flowers holds 5 class folders/).length).toBeGreaterThan(0);
    expect(screen.getAllByText(/evaluates on --eval_data_path, which is empty/).length).toBeGreaterThan(0);
    expect(startButton()).toHaveProperty('disabled', true);
    fireEvent.change(screen.getByLabelText(/\(--nb_classes\)$/), { target: { value: '5' } });
    fireEvent.change(screen.getByLabelText(/\(--eval_data_path\)$/), { target: { value: '/data/flowers-val' } });
    expect(describedBy(dataPath))
      .toMatch(/^Image folder: 5 classes · 3,200 images, all used as the training set; evaluated on --eval_data_path with --data_set IMNET/);
    expect(screen.queryByText(/val images/)).toBeNull();
    expect(screen.getByTestId('iterations-per-epoch').textContent).toBe('50');
    expect(startButton()).toHaveProperty('disabled', false);
  });

  it('refuses the ImageNet layout under --data_set image_folder, as pix train does', async () => {
    setup({ dataset: (path) => ({ ...digits, path, dataSet: 'IMNET' }) });
    await waitFor(() => expect(startButton()).toHaveProperty('disabled', false), slow);
    fireEvent.change(screen.getByLabelText(/\(--data_set\)$/), { target: { value: 'image_folder' } });
    expect(screen.getAllByText(/--data_set image_folder needs --data_path/).length).toBeGreaterThan(0);
    fireEvent.change(screen.getByLabelText(/\(--data_path\)$/), { target: { value: '/data/imagenet' } });
    await waitFor(() => expect(screen.getAllByText(/\/data\/imagenet is in the ImageNet layout .*its train\/ folder as --data_path/).length)
      .toBeGreaterThan(0), slow);
    expect(startButton()).toHaveProperty('disabled', true);
  });

  it('offers Browse… only with native dialogs, and checks the folder picked', async () => {
    const { client } = setup({ dialogs: { pickFolder: async () => '/data/imagenet', pickFile: async () => null } });
    fireEvent.click(screen.getByRole('button', { name: 'Browse…' }));
    await waitFor(() => expect(screen.getByLabelText(/\(--data_path\)$/)).toHaveProperty('value', '/data/imagenet'));
    await waitFor(() => expect(client.calls).toContainEqual({ method: 'checkDataset', request: { path: '/data/imagenet' } }), slow);
    cleanup();
    setup();
    expect(screen.queryByRole('button', { name: 'Browse…' })).toBeNull();
  });

  it('fills the form from a preset in one click', async () => {
    setup();
    fireEvent.click(screen.getByRole('button', { name: 'Demo: embedded digits' }));
    expect(screen.getByLabelText('Peak learning rate (--lr)')).toHaveProperty('value', '0.1');
    expect(screen.getByLabelText('Image size (--input_size)')).toHaveProperty('value', '28');
    expect(screen.getByLabelText('Optimizer (--opt)')).toHaveProperty('value', 'momentum');
  });

  it('sends the validated config and shows the host\'s refusal when start fails', async () => {
    const { client } = setup({ startRun: async () => { throw new Error('startRun: no free device for cuda:3'); } });
    await waitFor(() => expect(startButton()).toHaveProperty('disabled', false), slow);
    fireEvent.change(screen.getByLabelText('Training epochs (--epochs)'), { target: { value: '1' } });
    fireEvent.click(startButton());
    await waitFor(() => expect(screen.getByRole('alert').textContent).toContain('no free device for cuda:3'), slow);
    const request = client.calls.find((c) => c.method === 'startRun')?.request as { config: Record<string, unknown> };
    expect(request.config.epochs).toBe(1);
    expect(request.config.lr).toBe(0.004);
    expect(request.config.opt_betas).toBeNull();
  });

  it('reports a started run', async () => {
    const { started } = setup();
    await waitFor(() => expect(startButton()).toHaveProperty('disabled', false), slow);
    fireEvent.click(startButton());
    await waitFor(() => expect(started).toEqual(['r1']), slow);
  });
});
