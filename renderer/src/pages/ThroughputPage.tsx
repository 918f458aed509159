// The throughput comparison: measure PiX against its ResNet baseline on a device, follow the
// progress, read the result, and revisit past comparisons.
import { useEffect } from 'react';
import { useStore } from 'zustand';
import { ResultStatus } from '../components/Notice';
import { ThroughputForm } from '../components/throughput/ThroughputForm';
import { ThroughputResults } from '../components/throughput/ThroughputResults';
import { formatTime } from '../format';
import { useStores } from '../store/stores';

export function ThroughputPage() {
  const store = useStores().throughput;
  const state = useStore(store);

  useEffect(() => {
    if (store.getState().history.status === 'idle') void store.getState().loadHistory();
  }, [store]);

  return (
    <section className="page page-wide" aria-labelledby="tp-title">
      <h1 id="tp-title">Throughput</h1>
      <div className="panel">
        <ThroughputForm running={state.runningId !== null} />
        <ResultStatus result={state.start} busy="Starting…" failed="Could not start the comparison." />
        {state.runningId !== null && (
          <div className="progress-row" role="status">
            <progress max={state.progress?.total || 1} value={state.progress?.done ?? 0} aria-label="Comparison progress" />
            <span>
              {state.progress ? `${state.progress.done} / ${state.progress.total} · ${state.progress.current}` : 'Waiting for the first measurement…'}
            </span>
          </div>
        )}
      </div>
      {state.report && (
        <div className="panel">
          <ThroughputResults report={state.report} measuring={state.report.id === state.runningId ? state.progress?.measuring : undefined} />
        </div>
      )}
      <div className="panel">
        <h2>History</h2>
        <ResultStatus result={state.history} busy="Loading history…" failed="Could not load past comparisons." />
        {state.reports.length === 0 && state.history.status === 'done' && <p className="muted">No comparisons yet.</p>}
        <ul className="history">
          {state.reports.map((r) => (
            <li key={r.id} className={state.report?.id === r.id ? 'selected' : undefined}>
              <button type="button" className="link" onClick={() => state.show(r.id)}>
                {formatTime(r.startedAt)} · {r.device} · {r.precision} · {r.mode} · {r.inputSize}px ·{' '}
                {[...new Set(r.measurements.map((m) => m.model))].join(' vs ') || (r.finishedAt === null ? 'measuring…' : 'no measurements')}
              </button>
              {r.finishedAt === null && <span className="pill status-running">running</span>}
              {r.error && <span className="pill status-failed">error</span>}
            </li>
          ))}
        </ul>
      </div>
    </section>
  );
}
