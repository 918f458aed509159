// The Runs page: the filtered run list with its actions, and the New-run form (empty, from a
// preset, or pre-filled by Clone). Starting a run opens it in the monitor.
import { useEffect, useState } from 'react';
import { useStore } from 'zustand';
import type { RunStatus, RunSummary } from '../../../shared/api';
import { ErrorNotice, ResultStatus } from '../components/Notice';
import { NewRunForm } from '../components/runForm/NewRunForm';
import { RunTable } from '../components/runs/RunTable';
import { filterRuns, type StatusFilter } from '../store/runs';
import { useStores } from '../store/stores';

const statuses: StatusFilter[] = ['all', 'queued', 'running', 'stopping', 'stopped', 'completed', 'failed'];

export function RunsPage() {
  const stores = useStores();
  const state = useStore(stores.runs);
  const [form, setForm] = useState<{ key: number; name: string; config: object } | null>(null);
  const now = useNow(state.runs.some((r) => r.status === 'running'));

  useEffect(() => {
    if (stores.runs.getState().list.status === 'idle') void stores.runs.getState().load();
  }, [stores.runs]);

  // Clone leaves a draft in the store; the form takes it (a new key remounts it with those values).
  useEffect(() => {
    if (!state.draft) return;
    setForm({ key: Date.now(), ...state.draft });
    stores.runs.getState().setDraft(null);
  }, [state.draft, stores.runs]);

  const shown = filterRuns(state.runs, state.filterText, state.statusFilter);
  const openInMonitor = (id: string) => {
    void stores.monitor.getState().open(id);
    stores.navigation.getState().go('monitor');
  };

  return (
    <section className="page page-wide" aria-labelledby="runs-title">
      <header className="page-header">
        <h1 id="runs-title">Runs</h1>
        <button type="button" className="primary" onClick={() => setForm({ key: Date.now(), name: '', config: {} })}>
          New run
        </button>
      </header>

      <div className="toolbar">
        <input
          type="search"
          aria-label="Filter runs"
          placeholder="Filter by name, model, dataset…"
          value={state.filterText}
          onChange={(e) => state.setFilterText(e.target.value)}
        />
        <label htmlFor="runs-status">Status</label>
        <select id="runs-status" value={state.statusFilter} onChange={(e) => state.setStatusFilter(e.target.value as RunStatus | 'all')}>
          {statuses.map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </select>
        <span className="muted">
          {shown.length} of {state.runs.length} runs
        </span>
      </div>

      {state.actionError && <ErrorNotice title="The host refused." message={state.actionError} />}
      <ResultStatus result={state.list} busy="Loading runs…" failed="Could not list the runs." />
      {state.list.status === 'done' && state.runs.length === 0 && <p className="muted">No runs yet. Start one with New run.</p>}
      {shown.length > 0 && (
        <div className="table-scroll runs-scroll">
          <RunTable
            runs={shown}
            now={now}
            actions={{
              open: openInMonitor,
              stop: (id) => void state.stop(id),
              resume: (id) => void state.resume(id),
              clone: (id) => void state.clone(id),
              remove: (id) => void state.remove(id),
            }}
          />
        </div>
      )}

      {form && (
        <div className="panel">
          <NewRunForm
            key={form.key}
            initial={form}
            onCancel={() => setForm(null)}
            onStarted={(run: RunSummary) => {
              setForm(null);
              openInMonitor(run.id);
            }}
          />
        </div>
      )}
    </section>
  );
}

/** The current time, ticking each second while something runs (durations), still otherwise. */
function useNow(ticking: boolean): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!ticking) return;
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [ticking]);
  return now;
}
