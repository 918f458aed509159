// The throughput form: a wrong number is named beside its field and Compare waits for it, rather
// than the request reaching the schema and coming back as "expected number, received NaN".
import { cleanup, fireEvent, screen } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { ThroughputForm } from '../../src/components/throughput/ThroughputForm';
import { fakeClient } from '../fakeClient';
import { renderWithStores } from '../render';
import { models } from '../sampleData';

afterEach(cleanup);

function setup() {
  const client = fakeClient({ listRuns: async () => [], listModels: async () => models, engineInfo: async () => { throw new Error('no engine here'); } });
  return renderWithStores(<ThroughputForm running={false} />, client);
}

const compare = () => screen.getByRole('button', { name: 'Compare throughput' });

describe('ThroughputForm', () => {
  it('names a bad input size or repeat count inline and keeps Compare disabled until fixed', async () => {
    setup();
    await screen.findByLabelText('resnet_tiny');
    expect(compare()).toHaveProperty('disabled', false);
    const size = screen.getByLabelText('Input size (px)');
    fireEvent.change(size, { target: { value: 'abc' } });
    expect(size.getAttribute('aria-invalid')).toBe('true');
    expect(document.getElementById(size.getAttribute('aria-describedby')!)?.textContent).toBe('a whole number from 32 to 1,024');
    expect(compare()).toHaveProperty('disabled', true);
    fireEvent.change(size, { target: { value: '64' } });
    fireEvent.change(screen.getByLabelText('Repeats'), { target: { value: '0' } });
    expect(screen.getByText('a whole number from 1 to 100')).toBeTruthy();
    expect(compare()).toHaveProperty('disabled', true);
  });

  it('says why Compare is disabled when no model is chosen', async () => {
    setup();
    fireEvent.click(await screen.findByLabelText(/^pix_resnet_tiny_cs/));
    fireEvent.click(screen.getByLabelText('resnet_tiny'));
    expect(screen.getByText('Choose at least one model.')).toBeTruthy();
    expect(compare()).toHaveProperty('disabled', true);
  });
});
