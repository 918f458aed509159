// The host's side of the contract's events: a typed hub that the run manager, the throughput
// comparisons and the system monitor emit into and the transports subscribe to. Knows nothing of
// IPC or WebSockets; a listener that throws is reported, never allowed to break the emitter.
import type { Subscribe, WorkbenchEvent, WorkbenchEvents } from '../../shared/api';

export type Emit = <E extends WorkbenchEvent>(event: E, payload: WorkbenchEvents[E]) => void;

type Listener = (payload: never) => void;

export class EventHub {
  private readonly listeners = new Map<WorkbenchEvent, Set<Listener>>();

  /** Called with the event's new listener count whenever it changes (the system monitor starts and stops on it). */
  constructor(private readonly onListenerCount: (event: WorkbenchEvent, count: number) => void = () => {}) {}

  readonly emit: Emit = (event, payload) => {
    for (const listener of [...(this.listeners.get(event) ?? [])]) {
      try {
        (listener as (p: typeof payload) => void)(payload);
      } catch (error) {
        process.emitWarning(`a ${event} listener threw: ${(error as Error).message}`);
      }
    }
  };

  readonly on: Subscribe = (event, listener) => {
    const set = this.listeners.get(event) ?? new Set<Listener>();
    this.listeners.set(event, set);
    set.add(listener as Listener);
    this.onListenerCount(event, set.size);
    return () => {
      if (set.delete(listener as Listener)) this.onListenerCount(event, set.size);
    };
  };
}
