// CIFAR-100 fetches on the host (fetchCifar): the latest state of each, from the start call and the
// cifarFetchProgress / cifarFetchDone events, so a fetch started from the run form is followed
// whatever page is on screen, and one started elsewhere (another window) shows too. The fetches
// already running when the store connects (a page reloaded mid-download) come from
// listCifarFetches, not only with their next event. Keyed by the folder as the host resolved it;
// `folders` maps each path as typed to that folder.
import { createStore } from 'zustand/vanilla';
import type { CifarFetchState, WorkbenchClient } from '../../../shared/api';
import { errorMessage } from '../format';

export interface CifarFetchStoreState {
  fetches: Record<string, CifarFetchState>;
  /** The host's folder of each typed path a fetch was started for. */
  folders: Record<string, string>;
  /** The host's refusal of a start or cancel (a bad path, one already running), by typed path. */
  refused: Record<string, string>;
  /** Whether a start call for the typed path is in flight. */
  starting: Record<string, boolean>;
  start: (path: string) => Promise<void>;
  cancel: (path: string) => Promise<void>;
  connect: () => () => void;
}

/** The fetch into a path as typed: started here, or reported by the host under that same spelling. */
export function fetchInto(state: Pick<CifarFetchStoreState, 'fetches' | 'folders'>, path: string): CifarFetchState | null {
  return state.fetches[state.folders[path] ?? path] ?? null;
}

export function isRunning(fetch: CifarFetchState | null): boolean {
  return fetch !== null && fetch.finishedAt === null;
}

export function createCifarFetchStore(client: WorkbenchClient) {
  return createStore<CifarFetchStoreState>()((set, get) => {
    const put = (state: CifarFetchState) => {
      const old = get().fetches[state.dataPath];
      // Events can overtake the start call's answer; an ended fetch is never shown as running again.
      if (old && old.startedAt === state.startedAt && old.finishedAt !== null && state.finishedAt === null) return;
      set({ fetches: { ...get().fetches, [state.dataPath]: state } });
    };
    const refuse = (path: string, message: string | null) => {
      const { [path]: _, ...rest } = get().refused;
      set({ refused: message === null ? rest : { ...rest, [path]: message } });
    };
    return {
      fetches: {},
      folders: {},
      refused: {},
      starting: {},
      start: async (path) => {
        refuse(path, null);
        set({ starting: { ...get().starting, [path]: true } });
        try {
          const state = await client.api.fetchCifar({ dataPath: path });
          set({ folders: { ...get().folders, [path]: state.dataPath } });
          put(state);
        } catch (error) {
          refuse(path, errorMessage(error));
        } finally {
          const { [path]: _, ...rest } = get().starting;
          set({ starting: rest });
        }
      },
      cancel: async (path) => {
        try {
          put(await client.api.cancelCifarFetch({ dataPath: get().folders[path] ?? path }));
        } catch (error) {
          refuse(path, errorMessage(error));
        }
      },
      connect: () => {
        let connected = true;
        const offProgress = client.on('cifarFetchProgress', put);
        const offDone = client.on('cifarFetchDone', put);
        client.api.listCifarFetches().then(
          (running) => {
            if (!connected) return;
            for (const state of running) {
              // A fetch already known (an event overtook the list) is kept as the event said it.
              const old = get().fetches[state.dataPath];
              if (!old || old.startedAt < state.startedAt) put(state);
            }
          },
          // Left to the events: a host that cannot be reached is said by the shell's banner.
          () => undefined,
        );
        return () => {
          connected = false;
          offProgress();
          offDone();
        };
      },
    };
  });
}
