// An in-memory WorkbenchClient for component and store tests: each test supplies the methods it
// needs (anything else rejects, naming the method) and pushes events with emit().
import type {
  EventStreamState, WorkbenchApi, WorkbenchClient, WorkbenchDialogs, WorkbenchEvent, WorkbenchEvents,
} from '../../shared/api';
import { workbenchMethods } from '../../shared/api';

export interface FakeClient extends WorkbenchClient {
  emit<E extends WorkbenchEvent>(event: E, payload: WorkbenchEvents[E]): void;
  /** Tells the stores the event stream dropped or came back, as the serve client does. */
  streamState(state: EventStreamState): void;
  /** Every call made, in order, with its request. */
  calls: { method: string; request: unknown }[];
}

export function fakeClient(methods: Partial<WorkbenchApi>, dialogs?: WorkbenchDialogs): FakeClient {
  const listeners = new Map<WorkbenchEvent, Set<(payload: never) => void>>();
  const streamListeners = new Set<(state: EventStreamState) => void>();
  const calls: FakeClient['calls'] = [];
  const api = Object.fromEntries(
    workbenchMethods.map((method) => [
      method,
      async (request?: unknown) => {
        calls.push({ method, request });
        const implementation = methods[method] as ((request?: unknown) => Promise<unknown>) | undefined;
        if (!implementation) throw new Error(`the fake client has no ${method}`);
        return implementation(request);
      },
    ]),
  ) as WorkbenchApi;
  return {
    api,
    calls,
    dialogs,
    on: (event, listener) => {
      const set = listeners.get(event) ?? new Set();
      set.add(listener as (payload: never) => void);
      listeners.set(event, set);
      return () => set.delete(listener as (payload: never) => void);
    },
    emit: (event, payload) => {
      for (const listener of listeners.get(event) ?? []) (listener as (p: typeof payload) => void)(payload);
    },
    onStreamState: (listener) => {
      streamListeners.add(listener);
      return () => streamListeners.delete(listener);
    },
    streamState: (state) => {
      for (const listener of [...streamListeners]) listener(state);
    },
  };
}
