// The run list: every run the host knows, kept current by runUpdated/runDeleted events, the list's
// filters, the models a run can use, and the actions on a run (start, stop, resume, delete, clone).
// The list logic is in pure functions below so it is tested without a host.
import { createStore } from 'zustand/vanilla';
import type { ModelEntry, RunStatus, RunSummary, WorkbenchClient } from '../../../shared/api';
import type { RunConfig } from '../../../shared/config';
import { errorMessage } from '../format';
import { idle, track, type AsyncResult } from './asyncResult';

export type StatusFilter = RunStatus | 'all';

/** Newest first, as the list shows them. */
export function sortRuns(runs: readonly RunSummary[]): RunSummary[] {
  return [...runs].sort((a, b) => b.createdAt - a.createdAt);
}

export function upsertRun(runs: readonly RunSummary[], run: RunSummary): RunSummary[] {
  const index = runs.findIndex((r) => r.id === run.id);
  if (index < 0) return sortRuns([...runs, run]);
  const next = runs.slice();
  next[index] = run;
  return next;
}

export function removeRun(runs: readonly RunSummary[], id: string): RunSummary[] {
  return runs.filter((r) => r.id !== id);
}

/** Case-insensitive match of every word against the name, id, model, dataset and device. */
export function filterRuns(runs: readonly RunSummary[], text: string, status: StatusFilter): RunSummary[] {
  const words = text.toLowerCase().split(/\s+/).filter(Boolean);
  return runs.filter((run) => {
    if (status !== 'all' && run.status !== status) return false;
    const haystack = [run.name, run.id, run.model, run.dataset || 'demo digits', run.device].join(' ').toLowerCase();
    return words.every((word) => haystack.includes(word));
  });
}

/** What a New-run form starts from: a clone's config and name, set by Clone, taken by the form. */
export interface RunDraft {
  name: string;
  config: Partial<RunConfig>;
}

export interface RunsState {
  runs: RunSummary[];
  list: AsyncResult<true>;
  models: ModelEntry[];
  filterText: string;
  statusFilter: StatusFilter;
  /** The last action's failure, shown above the list until the next action. */
  actionError: string | null;
  draft: RunDraft | null;
  load: () => Promise<void>;
  /** The model catalog, asked for apart from the list: the host may take a while to build it. */
  loadModels: () => Promise<void>;
  setFilterText: (text: string) => void;
  setStatusFilter: (status: StatusFilter) => void;
  /** Resolves to the new run, or throws the host's refusal for the form to show. */
  start: (name: string, config: RunConfig) => Promise<RunSummary>;
  stop: (id: string) => Promise<void>;
  resume: (id: string) => Promise<void>;
  remove: (id: string) => Promise<void>;
  clone: (id: string) => Promise<void>;
  setDraft: (draft: RunDraft | null) => void;
  connect: () => () => void;
}

export function createRunsStore(client: WorkbenchClient) {
  return createStore<RunsState>()((set, get) => {
    // runUpdated events seen per run. An action's answer (stopRun → 'stopping') can arrive after
    // the event that followed it ('stopped'); an answer older than an event must not overwrite it.
    const updates = new Map<string, number>();
    const act = async (id: string, request: () => Promise<RunSummary>) => {
      set({ actionError: null });
      const seen = updates.get(id) ?? 0;
      try {
        const run = await request();
        if ((updates.get(id) ?? 0) === seen) set({ runs: upsertRun(get().runs, run) });
      } catch (error) {
        set({ actionError: errorMessage(error) });
      }
    };
    return {
      runs: [],
      list: idle,
      models: [],
      filterText: '',
      statusFilter: 'all',
      actionError: null,
      draft: null,
      load: async () => {
        void get().loadModels();
        await track(
          async () => {
            set({ runs: sortRuns(await client.api.listRuns()) });
            return true as const;
          },
          (list) => set({ list }),
        );
      },
      loadModels: async () => {
        try {
          set({ models: await client.api.listModels() });
        } catch (error) {
          set({ actionError: `Could not list the models: ${errorMessage(error)}` });
        }
      },
      setFilterText: (filterText) => set({ filterText }),
      setStatusFilter: (statusFilter) => set({ statusFilter }),
      start: async (name, config) => {
        const run = await client.api.startRun({ name: name.trim() || undefined, config });
        set({ runs: upsertRun(get().runs, run) });
        return run;
      },
      stop: (id) => act(id, () => client.api.stopRun({ id })),
      resume: (id) => act(id, () => client.api.resumeRun({ id })),
      remove: async (id) => {
        set({ actionError: null });
        try {
          await client.api.deleteRun({ id });
          set({ runs: removeRun(get().runs, id) });
        } catch (error) {
          set({ actionError: errorMessage(error) });
        }
      },
      clone: async (id) => {
        set({ actionError: null });
        try {
          const detail = await client.api.getRun({ id });
          // A clone is a new run: it gets its own folder ('' = the host makes one) rather than
          // writing checkpoints over the original's, and starts fresh rather than resuming it.
          const config = { ...detail.config, output_dir: '', resume: '', auto_resume: false };
          set({ draft: { name: `${detail.name} (copy)`, config } });
        } catch (error) {
          set({ actionError: errorMessage(error) });
        }
      },
      setDraft: (draft) => set({ draft }),
      connect: () => {
        const offUpdated = client.on('runUpdated', (run) => {
          updates.set(run.id, (updates.get(run.id) ?? 0) + 1);
          set({ runs: upsertRun(get().runs, run) });
        });
        const offDeleted = client.on('runDeleted', ({ id }) => set({ runs: removeRun(get().runs, id) }));
        // Runs may have started, finished or gone while the stream was down.
        const offStream = client.onStreamState?.((state) => {
          if (state === 'restored') void get().load();
        });
        return () => {
          offUpdated();
          offDeleted();
          offStream?.();
        };
      },
    };
  });
}
