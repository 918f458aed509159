// What the host reports about the native engine. Fetched once on demand; load() again to retry.
import { create } from 'zustand';
import type { EngineInfo } from '../../../shared/engine';
import { workbenchApi } from '../api/client';

export type EngineInfoState =
  | { status: 'idle' }
  | { status: 'loading' }
  | { status: 'loaded'; info: EngineInfo }
  | { status: 'failed'; message: string };

interface EngineStore {
  engine: EngineInfoState;
  load: () => Promise<void>;
}

export const useEngineStore = create<EngineStore>()((set, get) => ({
  engine: { status: 'idle' },
  load: async () => {
    // One request at a time: StrictMode mounts effects twice, and a retry may be clicked twice.
    if (get().engine.status === 'loading') return;
    set({ engine: { status: 'loading' } });
    try {
      const info = await workbenchApi().engineInfo();
      set({ engine: { status: 'loaded', info } });
    } catch (error) {
      set({
        engine: { status: 'failed', message: error instanceof Error ? error.message : String(error) },
      });
    }
  },
}));
