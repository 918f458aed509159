// What the host reports about the native engine. Fetched once on demand; load() again to retry.
import { createStore } from 'zustand/vanilla';
import type { WorkbenchClient } from '../../../shared/api';
import type { EngineInfo } from '../../../shared/engine';
import { errorMessage } from '../format';

export type EngineInfoState =
  | { status: 'idle' }
  | { status: 'loading' }
  | { status: 'loaded'; info: EngineInfo }
  | { status: 'failed'; message: string };

export interface EngineState {
  engine: EngineInfoState;
  load: () => Promise<void>;
}

export function createEngineStore(client: WorkbenchClient) {
  return createStore<EngineState>()((set, get) => ({
    engine: { status: 'idle' },
    load: async () => {
      // One request at a time: StrictMode mounts effects twice, and a retry may be clicked twice.
      if (get().engine.status === 'loading') return;
      set({ engine: { status: 'loading' } });
      try {
        set({ engine: { status: 'loaded', info: await client.api.engineInfo() } });
      } catch (error) {
        set({ engine: { status: 'failed', message: errorMessage(error) } });
      }
    },
  }));
}
