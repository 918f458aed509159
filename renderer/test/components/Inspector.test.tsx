// The checkpoint inspector over a fake host: tensors filtered and sorted, a tensor's histogram
// asked for by name, an image sent as base64 and its per-block pick/mix shown.
import { cleanup, fireEvent, screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import type { CheckpointInfo, TensorStats } from '../../../shared/api';
import { CheckpointsPage, trainedInputSize } from '../../src/pages/CheckpointsPage';
import { tensorRows } from '../../src/store/inspector';
import { fakeClient } from '../fakeClient';
import { renderWithStores } from '../render';

afterEach(cleanup);

const tensor = (name: string, std: number | null, elements = 4): TensorStats => ({ name, shape: [elements], dtype: 'F32', elements, min: -1, max: 1, mean: 0, std });
const tensors = [tensor('layer1.0.conv.weight', 0.2), tensor('bn.bias', 0.05), tensor('empty', null, 0), tensor('classifier.weight', 0.9)];
const info: CheckpointInfo = {
  path: '/runs/a/checkpoint-best.safetensors', format: 'safetensors', bytes: 2048, metadata: { epoch: '3' },
  model: 'pix_resnet_tiny_cs', classes: 10, tensors, totals: { tensors: 4, elements: 12 },
};

describe('tensorRows', () => {
  it('filters by name and sorts by a column, empty statistics last either way', () => {
    expect(tensorRows(tensors, 'WEIGHT', 'name', false).map((t) => t.name)).toEqual(['classifier.weight', 'layer1.0.conv.weight']);
    expect(tensorRows(tensors, '', 'std', true).map((t) => t.name)).toEqual(['classifier.weight', 'layer1.0.conv.weight', 'bn.bias', 'empty']);
    expect(tensorRows(tensors, '', 'std', false).map((t) => t.name)).toEqual(['bn.bias', 'layer1.0.conv.weight', 'classifier.weight', 'empty']);
  });
});

describe('trainedInputSize', () => {
  it('reads the size a checkpoint was trained at from its flattened args or its saved run config', () => {
    expect(trainedInputSize({ input_size: '224', epoch: '3' })).toBe(224);
    // A workbench checkpoint: the run config as JSON (the demo trains at 28).
    expect(trainedInputSize({ config: JSON.stringify({ model: 'pix_resnet_tiny_cs', input_size: 28 }), epoch: '0' })).toBe(28);
    expect(trainedInputSize({ args: JSON.stringify({ input_size: 160 }) })).toBe(160);
    expect(trainedInputSize({ epoch: '3' })).toBeNull();
    expect(trainedInputSize({ config: 'not json' })).toBeNull();
  });
});

describe('CheckpointsPage', () => {
  it('opens a checkpoint, asks for a tensor\'s histogram by name, and classifies an uploaded image', async () => {
    const client = fakeClient({
      inspectCheckpoint: async () => info,
      tensorHistogram: async () => ({ edges: [0, 1, 2], counts: [3, 4] }),
      classifyImage: async () => ({
        top5: [{ classIndex: 7, className: 'seven', probability: 0.9 }],
        blocks: [{ block: 'layer1.0', tau: 0.5, gate: [0.2, 0.7, 0.4], picked: [true, false, true] }],
      }),
    });
    renderWithStores(<CheckpointsPage />, client);
    fireEvent.change(screen.getByLabelText('Checkpoint file (.safetensors or .pth)'), { target: { value: info.path } });
    fireEvent.click(screen.getByRole('button', { name: 'Open checkpoint' }));
    await screen.findByRole('heading', { name: 'Tensors' });
    expect(screen.getByText('pix_resnet_tiny_cs')).toBeTruthy();
    // Nothing recorded: the field is empty and says what the host will use.
    expect(screen.getByLabelText('Input size')).toHaveProperty('value', '');
    expect(screen.getByLabelText('Input size').getAttribute('placeholder')).toBe('224 (none recorded)');

    fireEvent.change(screen.getByLabelText('Filter tensors'), { target: { value: 'weight' } });
    expect(screen.getByText('2 of 4 tensors')).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: 'classifier.weight' }));
    await waitFor(() => expect(client.calls).toContainEqual({ method: 'tensorHistogram', request: { path: info.path, name: 'classifier.weight', bins: 60 } }));

    const png = new File([new Uint8Array([0x89, 0x50, 0x4e, 0x47])], 'digit.png', { type: 'image/png' });
    fireEvent.change(screen.getByLabelText('Image file'), { target: { files: [png] } });
    const strips = await screen.findByLabelText('Pick or mix per block');
    expect(within(strips).getByText('2/3 picked')).toBeTruthy();
    expect(screen.getByText('seven')).toBeTruthy();
    const request = client.calls.find((c) => c.method === 'classifyImage')?.request as { image: { base64: string }; model: string };
    expect(request.image.base64).toBe('iVBORw==');
    expect(request.model).toBe('pix_resnet_tiny_cs');
  });

  it('says the epoch a checkpoint holds, and shows its run config as a table of settings, not a JSON line', async () => {
    const config = { model: 'pix_resnet_tiny_cs', lr: 0.1, scale: [0.6, 1], resume: '', clip_grad: null, model_ema: false };
    const metadata = { config: JSON.stringify(config), epoch: '2', next_step: '396', model: 'pix_resnet_tiny_cs' };
    const client = fakeClient({ inspectCheckpoint: async () => ({ ...info, metadata }) });
    renderWithStores(<CheckpointsPage />, client);
    fireEvent.change(screen.getByLabelText('Checkpoint file (.safetensors or .pth)'), { target: { value: info.path } });
    fireEvent.click(screen.getByRole('button', { name: 'Open checkpoint' }));
    await screen.findByRole('heading', { name: 'Tensors' });
    const summary = screen.getByRole('heading', { name: 'Summary' }).closest('article')!;
    expect(within(summary).getByText('Epoch').nextElementSibling?.textContent).toBe('2');

    expect(within(summary).queryByText(metadata.config)).toBeNull();
    fireEvent.click(within(summary).getByText('6 settings'));
    const table = within(summary).getByRole('table', { name: 'config settings' });
    const row = (key: string) => within(table).getByRole('rowheader', { name: key }).nextElementSibling?.textContent;
    expect([row('lr'), row('scale'), row('resume'), row('clip_grad'), row('model_ema')]).toEqual(['0.1', '[0.6, 1]', '""', 'null', 'false']);
    // Plain entries stay one row each.
    expect(within(summary).getByText('next_step').nextElementSibling?.textContent).toBe('396');
  });
});
