// The connection to the host and the machine's load: whether the first call got through (and the
// error when it did not), whether the event stream is up, then CPU/GPU utilisation and memory from
// systemStats events.
import { createStore } from 'zustand/vanilla';
import type { SystemStats, WorkbenchClient } from '../../../shared/api';
import { errorMessage } from '../format';

export type Connection =
  | { status: 'connecting' }
  | { status: 'connected' }
  /** The event stream dropped; the client is reopening it. */
  | { status: 'reconnecting' }
  | { status: 'failed'; message: string };

export interface SystemState {
  connection: Connection;
  stats: SystemStats | null;
  /** Asks the host for its stats: the connection check at start and on Retry. */
  probe: () => Promise<void>;
  connect: () => () => void;
}

export function createSystemStore(client: WorkbenchClient) {
  return createStore<SystemState>()((set, get) => ({
    connection: { status: 'connecting' },
    stats: null,
    probe: async () => {
      set({ connection: { status: 'connecting' } });
      try {
        const stats = await client.api.systemStats();
        set({ connection: { status: 'connected' }, stats });
      } catch (error) {
        set({ connection: { status: 'failed', message: errorMessage(error) } });
      }
    },
    connect: () => {
      const offStats = client.on('systemStats', (stats) => set({ stats, connection: { status: 'connected' } }));
      const offStream = client.onStreamState?.((state) => {
        if (state === 'restored') {
          void get().probe();
          return;
        }
        set({ connection: { status: 'reconnecting' } });
        // Reconnecting cures a dropped socket, not a host that is gone or that refuses the token
        // (pix serve restarted: a new token). One call tells them apart; its refusal is said, with
        // Retry, instead of 'Reconnecting…' for ever over stale pages. A host that answers leaves
        // the stream to come back by itself.
        client.api.systemStats().then(
          (stats) => set({ stats }),
          (error) => {
            if (get().connection.status === 'reconnecting') set({ connection: { status: 'failed', message: errorMessage(error) } });
          },
        );
      });
      return () => {
        offStats();
        offStream?.();
      };
    },
  }));
}
