// The shell: pages reachable from the navigation (and by Alt+digit), a host that is unreachable,
// failed, or refuses the page said plainly, titled by which, with a Retry that tries again, and a
// dropped event stream said while it lasts.
import { act, cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { App } from '../../src/App';
import { createStores } from '../../src/store/stores';
import { fakeClient } from '../fakeClient';

afterEach(cleanup);

const stats = { time: 0, cpuPercent: 50, cores: 2, memoryUsedBytes: 1, memoryTotalBytes: 4, gpus: [] };

/**
 * The app over a host whose every call fails with `fail`, once the pages have asked too: the one
 * alert shown (a page's notice repeating the banner's failure would be a second one).
 */
async function theOneBanner(fail: () => Promise<never>): Promise<HTMLElement> {
  const client = fakeClient({ systemStats: fail, listRuns: fail, listModels: fail });
  render(<App stores={createStores(client)} />);
  await screen.findByText('Disconnected');
  await waitFor(() => expect(client.calls.map((c) => c.method)).toEqual(expect.arrayContaining(['listRuns', 'listModels'])));
  await new Promise((resolve) => setTimeout(resolve, 0));
  const alerts = screen.getAllByRole('alert');
  expect(alerts).toHaveLength(1);
  return alerts[0]!;
}

describe('App', () => {
  it('shows why the host cannot be reached, and recovers on Retry', async () => {
    let up = false;
    const client = fakeClient({
      systemStats: async () => {
        if (!up) throw new Error('Cannot reach the workbench server at http://127.0.0.1:8765');
        return stats;
      },
      listRuns: async () => [],
      listModels: async () => [],
    });
    render(<App stores={createStores(client)} />);
    const banner = await screen.findByRole('alert');
    expect(within(banner).getByText('Cannot reach the workbench host.')).toBeTruthy();
    expect(banner.textContent).toContain('Cannot reach the workbench server at http://127.0.0.1:8765');
    expect(screen.getByText('Disconnected')).toBeTruthy();
    up = true;
    fireEvent.click(screen.getByRole('button', { name: 'Retry' }));
    await waitFor(() => expect(screen.getByText('Connected')).toBeTruthy());
    expect(screen.queryByRole('alert')).toBeNull();
  });

  it('says that the host failed, naming it once, and leaves that failure out of the pages\' notices', async () => {
    const failed = 'The workbench host failed: ENOSPC: no space left on device';
    const fail = async (): Promise<never> => {
      throw new Error(failed);
    };
    const banner = await theOneBanner(fail);
    expect(within(banner).getByText('The workbench host failed.')).toBeTruthy();
    expect(within(banner).getByText('ENOSPC: no space left on device')).toBeTruthy();
    expect(banner.textContent!.match(/The workbench host failed/g)).toHaveLength(1);
    expect(banner.textContent).not.toContain('Cannot reach');
  });

  it('says Reconnecting… while the event stream is down, and Connected once the host answers again', async () => {
    const client = fakeClient({ systemStats: async () => stats, listRuns: async () => [], listModels: async () => [] });
    render(<App stores={createStores(client)} />);
    await screen.findByText('Connected');
    act(() => client.streamState('lost'));
    expect(screen.getByText('Reconnecting…')).toBeTruthy();
    act(() => client.streamState('restored'));
    await screen.findByText('Connected');
  });

  it('says why when the stream drops because the host now refuses the token (pix serve restarted), not Reconnecting… for ever', async () => {
    const refused = 'The server refused the access token: `pix serve` makes a new one each time it starts; open the URL it printed last.';
    let restarted = false;
    const client = fakeClient({
      systemStats: async () => {
        if (restarted) throw new Error(refused);
        return stats;
      },
      listRuns: async () => [],
      listModels: async () => [],
    });
    render(<App stores={createStores(client)} />);
    await screen.findByText('Connected');
    restarted = true;
    act(() => client.streamState('lost'));
    expect((await screen.findByRole('alert')).textContent).toContain(refused);
    expect(screen.getByText('Disconnected')).toBeTruthy();
  });

  it('says a refused token once on a fresh load, not once per request that failed because of it', async () => {
    const refused = 'The server refused the access token: `pix serve` makes a new one each time it starts; open the URL it printed last.';
    const refuse = async (): Promise<never> => {
      throw new Error(refused);
    };
    const banner = await theOneBanner(refuse);
    expect(within(banner).getByText('Cannot use the workbench host.')).toBeTruthy();
    expect(banner.textContent).toContain(refused);
    expect(banner.textContent).not.toContain('Cannot reach');
  });

  it('still shows a page\'s own failure while the host is unreachable', async () => {
    const client = fakeClient({
      systemStats: async () => {
        throw new Error('Cannot reach the workbench server at http://127.0.0.1:8765');
      },
      listRuns: async () => {
        throw new Error('runs.json is damaged');
      },
      listModels: async () => [],
    });
    render(<App stores={createStores(client)} />);
    await screen.findByText('Disconnected');
    await waitFor(() => expect(screen.getAllByRole('alert')).toHaveLength(2));
    expect(screen.getByText('runs.json is damaged')).toBeTruthy();
  });

  it('moves between pages from the navigation and with Alt+digit', async () => {
    const client = fakeClient({ systemStats: async () => stats, listRuns: async () => [], listModels: async () => [], throughputHistory: async () => [] });
    render(<App stores={createStores(client)} />);
    expect(screen.getByRole('heading', { level: 1, name: 'Runs' })).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: 'Checkpoints' }));
    expect(screen.getByRole('heading', { level: 1, name: 'Checkpoints' })).toBeTruthy();
    expect(screen.getByRole('button', { name: 'Checkpoints' }).getAttribute('aria-current')).toBe('page');
    fireEvent.keyDown(screen.getByRole('button', { name: 'Checkpoints' }), { key: '4', altKey: true });
    expect(screen.getByRole('heading', { level: 1, name: 'Throughput' })).toBeTruthy();
  });
});
