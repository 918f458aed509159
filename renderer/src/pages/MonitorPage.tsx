// The run monitor: one run watched live (progress, ETA, charts, log, checkpoints, machine load)
// with other runs overlaid for comparison, and the export of the watched runs as CSV or JSON.
import { useEffect, useRef, useState } from 'react';
import { useStore } from 'zustand';
import type { IterationMetricName, RunDetail } from '../../../shared/api';
import { CheckpointList } from '../components/monitor/CheckpointList';
import { CompareRuns } from '../components/monitor/CompareRuns';
import { EpochChart } from '../components/monitor/EpochChart';
import { LogTail } from '../components/monitor/LogTail';
import { MonitorControls } from '../components/monitor/MonitorControls';
import { colorOf } from '../components/monitor/palette';
import { RunHeader } from '../components/monitor/RunHeader';
import { SeriesChart, type ChartLine } from '../components/monitor/SeriesChart';
import { SystemPanel } from '../components/monitor/SystemPanel';
import { ErrorNotice, ResultStatus } from '../components/Notice';
import { downloadText } from '../download';
import { errorMessage } from '../format';
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
