// The monitor's charts: the per-iteration metrics of the watched runs and their accuracy per epoch.
// Each chart subscribes to its own series and nothing else, so a log line, a progress update or
// another chart's answer does not redraw it. While a run trains, the host sends a batch of events
// five times a second; redrawing every chart for each event left a slow machine's page without
// animation frames (a click on Stop then waited for the page for a minute and more).
import { memo, useCallback, useEffect, useMemo, useRef } from 'react';
import { useStore } from 'zustand';
import { useShallow } from 'zustand/react/shallow';
import type { IterationMetricName } from '../../../../shared/api';
import type { XWindow } from '../../charts/series';
import type { Smoothing } from '../../charts/smoothing';
import { seriesKey, watchedIds, type MonitorState } from '../../store/monitor';
import { useStores } from '../../store/stores';
import { EpochChart } from './EpochChart';
import { colorOf } from './palette';
import { SeriesChart, type ChartLine } from './SeriesChart';

interface ChartSpec {
  title: string;
  metrics: { metric: IterationMetricName; label: string }[];
  /** Drawn as it is, whatever the smoothing: the learning rate is a schedule, not a noisy measurement. */
  exact?: true;
}

/** Within one run, its second metric of a chart is dashed; the run is told by its colour. */
const metricDashes = [undefined, '5 3'];
const noSmoothing: Smoothing = { kind: 'none' };

const charts: ChartSpec[] = [
  { title: 'Training loss', metrics: [{ metric: 'loss', label: 'loss' }] },
  { title: 'Learning rate', metrics: [{ metric: 'lr', label: 'lr' }], exact: true },
  { title: 'Images/s', metrics: [{ metric: 'images_per_second', label: 'images/s' }] },
  { title: 'Data vs step time (s)', metrics: [{ metric: 'data_seconds', label: 'data' }, { metric: 'step_seconds', label: 'step' }] },
];

/** The watched runs whose details have arrived, in the order their colours are given. */
const loadedIds = (s: MonitorState) => watchedIds(s).filter((id) => s.details[id] !== undefined);

export function MonitorCharts() {
  const stores = useStores();
  const chartsBox = useRef<HTMLDivElement>(null);
  // useShallow keeps the previous array while its items are the same, so the charts below,
  // memoised on these arrays, do not redraw when a run's progress or log changes.
  const ids = useStore(stores.monitor, useShallow(loadedIds));
  const names = useStore(stores.monitor, useShallow((s) => loadedIds(s).map((id) => s.details[id].name)));
  const epochRecords = useStore(stores.monitor, useShallow((s) => loadedIds(s).map((id) => s.details[id].epochRecords)));

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

  const epochLines = useMemo(
    () => epochRecords.map((records, r) => ({ label: names[r], color: colorOf(r), records })),
    [epochRecords, names],
  );

  return (
    <div className="charts" ref={chartsBox}>
      {charts.map((chart) => (
        <MetricChart key={chart.title} chart={chart} ids={ids} names={names} />
      ))}
      <MemoEpochChart lines={epochLines} />
    </div>
  );
}

const MemoEpochChart = memo(EpochChart);

/** One chart: its metrics for every watched run, redrawn only when one of those series changes. */
const MetricChart = memo(function MetricChart({ chart, ids, names }: { chart: ChartSpec; ids: string[]; names: string[] }) {
  const stores = useStores();
  const series = useStore(
    stores.monitor,
    useShallow((s) => ids.flatMap((id) => chart.metrics.map((m) => s.series[seriesKey(id, m.metric)]))),
  );
  const axis = useStore(stores.monitor, (s) => s.axis);
  const chosenSmoothing = useStore(stores.monitor, (s) => s.smoothing);
  const smoothing = chart.exact ? noSmoothing : chosenSmoothing;
  const window = useStore(stores.monitor, (s) => s.window);
  const onZoom = useCallback((w: XWindow) => stores.monitor.getState().zoom(w), [stores.monitor]);

  const lines = useMemo(
    () =>
      ids.flatMap((_, r): ChartLine[] =>
        chart.metrics.map((m, k) => ({
          label: [ids.length > 1 ? names[r] : '', chart.metrics.length > 1 ? m.label : ''].filter(Boolean).join(' ') || m.label,
          // One run: a colour per metric. Several: a run keeps its colour on every chart (as in the
          // loss and accuracy charts beside this one) and its metrics differ by dash.
          color: ids.length > 1 ? colorOf(r) : colorOf(k),
          dash: ids.length > 1 ? metricDashes[k % metricDashes.length] : undefined,
          series: series[r * chart.metrics.length + k],
        })),
      ),
    [chart, ids, names, series],
  );

  return <SeriesChart title={chart.title} axis={axis} smoothing={smoothing} window={window} onZoom={onZoom} lines={lines} />;
});
