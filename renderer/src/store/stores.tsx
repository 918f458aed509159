// One set of stores per client, handed to the pages through React context: the app builds it from
// getClient(), a test from a fake client, so no store reaches for a global transport.
import { createContext, useContext, type ReactNode } from 'react';
import type { WorkbenchClient } from '../../../shared/api';
import { createCifarFetchStore } from './cifarFetch';
import { createEngineStore } from './engine';
import { createInspectorStore } from './inspector';
import { createMonitorStore } from './monitor';
import { createNavigationStore } from './navigation';
import { createRunsStore } from './runs';
import { createSystemStore } from './system';
import { createThroughputStore } from './throughput';

export function createStores(client: WorkbenchClient) {
  return {
    client,
    cifarFetch: createCifarFetchStore(client),
    engine: createEngineStore(client),
    inspector: createInspectorStore(client),
    monitor: createMonitorStore(client),
    navigation: createNavigationStore(),
    runs: createRunsStore(client),
    system: createSystemStore(client),
    throughput: createThroughputStore(client),
  };
}

export type Stores = ReturnType<typeof createStores>;

/** Subscribes every store to the host's events; the returned function unsubscribes them all. */
export function connectStores(stores: Stores): () => void {
  const offs = [stores.runs, stores.monitor, stores.system, stores.throughput, stores.cifarFetch].map((store) => store.getState().connect());
  return () => offs.forEach((off) => off());
}

const StoresContext = createContext<Stores | null>(null);

export function StoresProvider({ stores, children }: { stores: Stores; children: ReactNode }) {
  return <StoresContext.Provider value={stores}>{children}</StoresContext.Provider>;
}

export function useStores(): Stores {
  const stores = useContext(StoresContext);
  if (!stores) throw new Error('useStores() outside <StoresProvider>: the page was rendered without its stores');
  return stores;
}
