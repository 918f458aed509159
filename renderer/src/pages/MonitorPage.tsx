// The run monitor: one run watched live (progress, ETA, charts, log, checkpoints, machine load)
// with other runs overlaid for comparison, and the export of the watched runs as CSV or JSON.
import { useEffect, useRef, useState } from 'react';
import { useStore } from 'zustand';
import type { IterationMetricName, RunDetail } from '../../../shared/api';
import { EpochChart } from '../components/monitor/EpochChart';
import { LogTail } from '../components/monitor/LogTail';
import { MonitorControls } from '../components/monitor/MonitorControls';
import { colorOf } from '../components/monitor/palette';
import { SeriesChart, type ChartLine } from '../components/monitor/SeriesChart';
import { SystemPanel } from '../components/monitor/SystemPanel';
import { ErrorNotice, ResultStatus } from '../components/Notice';
import { downloadText } from '../download';
import { errorMessage, formatBytes, formatDuration, formatMetric, formatPercent, formatTime } from '../format';
import { seriesKey } from '../store/monitor';
import { useStores } from '../store/stores';

const charts: { title: string; metrics: { metric: IterationMetricName; label: string }[] }[] = [
  { title: 'Training loss', metrics: [{ metric: 'loss', label: 'loss' }] },
  { title: 'Learning rate', metrics: [{ metric: 'lr', label: 'lr' }] },
  { title: 'Images/s', metrics: [{ metric: 'images_per_second', label: 'images/s' }] },
  { title: 'Data vs step time (s)', metrics: [{ metric: 'data_seconds', label: 'data' }, { metric: 'step_seconds', label: 'step' }] },
];

export function MonitorPage() {
  const stores = useStores();
  const monitor = useStore(stores.monitor);
  const runs = useStore(stores.runs, (s) => s.runs);
  const [exportError, setExportError] = useState<string | null>(null);
  const chartsBox = useRef<HTMLDivElement>(null);

  useEffect(() => {
    if (stores.runs.getState().list.status === 'idle') void stores.runs.getState().load();
  }, [stores.runs]);

  // Ask the host for about one point per pixel of a chart, in steps of 50 px so a window being
  // resized does not refetch on every pixel.
  useEffect(() => {
    const el = chartsBox.current;
    if (!el || typeof ResizeObserver === 'undefined') return;
    const observer = new ResizeObserver(() => {
      const perChart = (el.firstElementChild as HTMLElement | null)?.clientWidth ?? el.clientWidth;
      stores.monitor.getState().setMaxPoints(Math.max(100, Math.round(perChart / 50) * 50));
    });
    observer.observe(el);
    return () => observer.disconnect();
  }, [stores.monitor]);

  const ids = monitor.primaryId ? [monitor.primaryId, ...monitor.compareIds] : monitor.compareIds;
  const watched = ids.map((id) => monitor.details[id]).filter((d): d is RunDetail => d !== undefined);
  const primary = monitor.primaryId ? monitor.details[monitor.primaryId] : undefined;

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
          value={monitor.primaryId ?? ''}
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
      {!monitor.primaryId && <p className="muted">Choose a run above, or open one from the Runs page.</p>}
      <ResultStatus result={monitor.detail} busy="Loading the run…" failed="Could not load the run." />
      {monitor.seriesError && <ErrorNotice title="Could not load a chart series." message={monitor.seriesError} />}

      {primary && <RunHeader run={primary} />}

      {monitor.primaryId && (
        <>
          <CompareRuns />
          <MonitorControls />
          <div className="charts" ref={chartsBox}>
            {charts.map((chart) => (
              <SeriesChart
                key={chart.title}
                title={chart.title}
                axis={monitor.axis}
                smoothing={monitor.smoothing}
                window={monitor.window}
                onZoom={(w) => stores.monitor.getState().zoom(w)}
                lines={watched.flatMap((run, r): ChartLine[] =>
                  chart.metrics.map((m, k) => ({
                    label: [watched.length > 1 ? run.name : '', chart.metrics.length > 1 ? m.label : ''].filter(Boolean).join(' ') || m.label,
                    color: colorOf(r * chart.metrics.length + k),
                    series: monitor.series[seriesKey(run.id, m.metric)],
                  })),
                )}
              />
            ))}
            <EpochChart lines={watched.map((run, r) => ({ label: run.name, color: colorOf(r), records: run.epochRecords }))} />
          </div>
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

function RunHeader({ run }: { run: RunDetail }) {
  const stores = useStores();
  const active = run.status === 'running' || run.status === 'queued' || run.status === 'stopping';
  const progress = run.totalSteps > 0 ? Math.min(1, run.step / run.totalSteps) : 0;
  return (
    <div className="run-header panel">
      <div className="run-header-facts">
        <span className={`pill status-${run.status}`}>{run.status}</span>
        {run.queuePosition !== null && <span className="muted">#{run.queuePosition} in queue</span>}
        <span>{run.model}</span>
        <span className="muted">{run.dataset || 'demo digits'}</span>
        <span className="muted">{run.device}{run.gpus > 1 ? ` × ${run.gpus}` : ''}</span>
        <span>epoch {run.epoch}/{run.epochs}</span>
        <span>best acc1 {formatPercent(run.bestAcc1)}</span>
        <span>{formatMetric(run.imagesPerSecond)} img/s</span>
        <span className="muted">started {formatTime(run.startedAt)}</span>
        <span className="actions">
          {active ? (
            <button type="button" onClick={() => void stores.runs.getState().stop(run.id)} disabled={run.status === 'stopping'}>
              Stop
            </button>
          ) : run.status !== 'completed' ? (
            <button type="button" onClick={() => void stores.runs.getState().resume(run.id)}>
              Resume
            </button>
          ) : null}
        </span>
      </div>
      <div className="progress-row">
        <progress max={1} value={progress} aria-label="Progress" />
        <span>
          step {run.step.toLocaleString('en-US')} / {run.totalSteps.toLocaleString('en-US')} ({(progress * 100).toFixed(1)}%)
        </span>
        <span>ETA {run.status === 'running' ? formatDuration(run.etaSeconds) : '—'}</span>
      </div>
      {run.error && <ErrorNotice title="The run reported a problem." message={run.error} />}
      {run.badFiles.length > 0 && (
        <details>
          <summary>{run.badFiles.length} files skipped by the loader</summary>
          <ul className="bad-files">
            {run.badFiles.map((f) => (
              <li key={f.path}>
                <code>{f.path}</code>: {f.reason}
              </li>
            ))}
          </ul>
        </details>
      )}
    </div>
  );
}

function CompareRuns() {
  const stores = useStores();
  const runs = useStore(stores.runs, (s) => s.runs);
  const primaryId = useStore(stores.monitor, (s) => s.primaryId);
  const compareIds = useStore(stores.monitor, (s) => s.compareIds);
  const others = runs.filter((run) => run.id !== primaryId);
  if (others.length === 0) return null;
  return (
    <details className="compare">
      <summary>Overlay other runs ({compareIds.length} chosen)</summary>
      <div className="compare-list">
        {others.map((run) => (
          <label key={run.id} className="check">
            <input type="checkbox" checked={compareIds.includes(run.id)} onChange={() => void stores.monitor.getState().toggleCompare(run.id)} />
            {run.name} <span className="muted">{run.model} · {run.status}</span>
          </label>
        ))}
      </div>
    </details>
  );
}

function CheckpointList({ run }: { run: RunDetail }) {
  const stores = useStores();
  if (run.checkpoints.length === 0) return <p className="muted">No checkpoints saved yet.</p>;
  const inspect = (path: string) => {
    void stores.inspector.getState().open(path);
    stores.navigation.getState().go('checkpoints');
  };
  return (
    <ul className="checkpoint-list">
      {run.checkpoints.map((c) => (
        <li key={c.path}>
          <button type="button" className="link" onClick={() => inspect(c.path)} title={c.path} aria-label={`Inspect ${c.name}`}>
            {c.name}
          </button>
          <span className="muted">
            {c.epoch !== null ? `epoch ${c.epoch} · ` : ''}
            {formatBytes(c.bytes)}
          </span>
        </li>
      ))}
    </ul>
  );
}
