// The run monitor: one run watched live (progress, ETA, charts, log, checkpoints, machine load)
// with other runs overlaid for comparison, and the export of the watched runs as CSV or JSON.
import { useEffect, useState } from 'react';
import { useStore } from 'zustand';
import { useShallow } from 'zustand/react/shallow';
import { CheckpointList } from '../components/monitor/CheckpointList';
import { CompareRuns } from '../components/monitor/CompareRuns';
import { LogTail } from '../components/monitor/LogTail';
import { MonitorCharts } from '../components/monitor/MonitorCharts';
import { MonitorControls } from '../components/monitor/MonitorControls';
import { RunHeader } from '../components/monitor/RunHeader';
import { SystemPanel } from '../components/monitor/SystemPanel';
import { ErrorNotice, ResultStatus } from '../components/Notice';
import { downloadText } from '../download';
import { errorMessage } from '../format';
import { watchedIds } from '../store/monitor';
import { useStores } from '../store/stores';

export function MonitorPage() {
  const stores = useStores();
  // Only what this page draws itself: the charts subscribe to their own series (MonitorCharts).
  const primaryId = useStore(stores.monitor, (s) => s.primaryId);
  const primary = useStore(stores.monitor, (s) => (s.primaryId ? s.details[s.primaryId] : undefined));
  const ids = useStore(stores.monitor, useShallow(watchedIds));
  const detail = useStore(stores.monitor, (s) => s.detail);
  const seriesError = useStore(stores.monitor, (s) => s.seriesError);
  const runs = useStore(stores.runs, (s) => s.runs);
  const [exportError, setExportError] = useState<string | null>(null);

  useEffect(() => {
    if (stores.runs.getState().list.status === 'idle') void stores.runs.getState().load();
  }, [stores.runs]);

  const exportRuns = async (format: 'csv' | 'json') => {
    setExportError(null);
    try {
      const file = await stores.client.api.exportRuns({ ids, format });
      downloadText(file.text, file.fileName, file.mimeType);
    } catch (error) {
      setExportError(errorMessage(error));
    }
  };

  return (
    <section className="page page-wide" aria-labelledby="monitor-title">
      <header className="page-header">
        <h1 id="monitor-title">Run monitor</h1>
        <label htmlFor="monitor-run">Run</label>
        <select
          id="monitor-run"
          value={primaryId ?? ''}
          onChange={(e) => e.target.value && void stores.monitor.getState().open(e.target.value)}
        >
          <option value="">(choose a run)</option>
          {runs.map((run) => (
            <option key={run.id} value={run.id}>
              {run.name} · {run.status}
            </option>
          ))}
        </select>
        {ids.length > 0 && (
          <span className="actions">
            <button type="button" onClick={() => void exportRuns('csv')}>Export CSV</button>
            <button type="button" onClick={() => void exportRuns('json')}>Export JSON</button>
          </span>
        )}
      </header>
      {exportError && <ErrorNotice title="Export failed." message={exportError} />}
      {!primaryId && <p className="muted">Choose a run above, or open one from the Runs page.</p>}
      <ResultStatus result={detail} busy="Loading the run…" failed="Could not load the run." />
      {seriesError && <ErrorNotice title="Could not load a chart series." message={seriesError} />}

      {primary && <RunHeader run={primary} />}

      {primaryId && (
        <>
          <CompareRuns />
          <MonitorControls />
          <MonitorCharts />
        </>
      )}

      {primary && (
        <div className="panels panels-3">
          <article className="panel" aria-labelledby="log-title">
            <h2 id="log-title">Log</h2>
            <LogTail lines={primary.logTail} />
          </article>
          <article className="panel" aria-labelledby="ckpt-title">
            <h2 id="ckpt-title">Checkpoints</h2>
            <CheckpointList run={primary} />
          </article>
          <article className="panel" aria-labelledby="machine-title">
            <h2 id="machine-title">Machine</h2>
            <SystemPanel />
          </article>
        </div>
      )}
    </section>
  );
}
