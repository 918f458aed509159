// The run monitor: the run being watched and the runs overlaid on it, their details (config, epoch
// records, checkpoints), the series each chart draws and how (axis, smoothing, zoom window), and
// the log tail. Series come from the host downsampled to the chart's width over the visible window
// (runSeries) and grow live from runIterations events; the host is asked again when the window
// changes or the live tail outgrows the chart, never thinned here.
import { createStore } from 'zustand/vanilla';
import type {
  IterationMetricName,
  IterationPoint,
  RunDetail,
  RunSummary,
  Series,
  SeriesAxis,
  WorkbenchClient,
} from '../../../shared/api';
import { hostWindow } from '../charts/chartData';
import { appendIterations, needsRefetch, type XWindow } from '../charts/series';
import type { Smoothing } from '../charts/smoothing';
import { errorMessage } from '../format';
import { idle, track, type AsyncResult } from './asyncResult';

/** The per-iteration metrics the monitor charts. */
export const monitoredMetrics: readonly IterationMetricName[] = ['loss', 'lr', 'images_per_second', 'data_seconds', 'step_seconds'];

/** Log lines kept per run: the tail, not the whole log. */
const logTailLines = 300;

export function seriesKey(id: string, metric: IterationMetricName): string {
  return `${id}|${metric}`;
}

/** Optimizer steps per epoch, for placing live iterations on the epoch axis. */
export function stepsPerEpoch(run: Pick<RunSummary, 'totalSteps' | 'epochs'>): number | null {
  return run.epochs > 0 && run.totalSteps > 0 ? run.totalSteps / run.epochs : null;
}

/** The runs the monitor shows: the primary first, then the overlaid ones. */
export function watchedIds({ primaryId, compareIds }: Pick<MonitorState, 'primaryId' | 'compareIds'>): string[] {
  return primaryId ? [primaryId, ...compareIds.filter((id) => id !== primaryId)] : compareIds;
}

export function appendLog(lines: readonly string[], added: readonly string[]): string[] {
  const all = lines.concat(added);
  return all.length > logTailLines ? all.slice(all.length - logTailLines) : all;
}

export interface MonitorState {
  primaryId: string | null;
  compareIds: string[];
  details: Record<string, RunDetail>;
  detail: AsyncResult<true>;
  axis: SeriesAxis;
  smoothing: Smoothing;
  /** The zoom, on the display axis (time: seconds since each run's start); {} = everything. */
  window: XWindow;
  /** Points to ask the host for: about the chart's width in pixels. */
  maxPoints: number;
  series: Record<string, Series>;
  seriesError: string | null;
  open: (id: string) => Promise<void>;
  toggleCompare: (id: string) => Promise<void>;
  setAxis: (axis: SeriesAxis) => void;
  setSmoothing: (smoothing: Smoothing) => void;
  zoom: (window: XWindow) => void;
  setMaxPoints: (maxPoints: number) => void;
  refetchAll: () => void;
  connect: () => () => void;
}

/**
 * How long live iterations wait to be drawn, counted from the first to arrive after a redraw.
 * While a run trains the host sends a batch five times a second, and drawing each one kept a slow
 * machine's page so busy with charts that it drew no frames and answered clicks a minute late.
 * An event can only arrive once the previous redraw has finished, so counting from it leaves the
 * page this long to itself between redraws, however slow drawing is.
 */
export const liveRedrawDelayMs = 500;

export function createMonitorStore(client: WorkbenchClient) {
  return createStore<MonitorState>()((set, get) => {
    // The newest request per series; an older answer arriving late is dropped.
    const generation = new Map<string, number>();
    const inFlight = new Set<string>();
    // Live iterations per run not drawn yet, and the timer that draws them.
    const pendingIterations = new Map<string, IterationPoint[]>();
    let liveTimer: ReturnType<typeof setTimeout> | undefined;

    const fetchSeries = async (id: string, metric: IterationMetricName) => {
      const key = seriesKey(id, metric);
      const mine = (generation.get(key) ?? 0) + 1;
      generation.set(key, mine);
      inFlight.add(key);
      const { axis, window, maxPoints, series } = get();
      const current = series[key];
      const range = hostWindow(window, current && current.axis === axis ? current : null);
      try {
        const answer = await client.api.runSeries({
          id, metric, axis, maxPoints,
          ...(range.from !== undefined ? { from: range.from } : {}),
          ...(range.to !== undefined ? { to: range.to } : {}),
        });
        if (generation.get(key) === mine) set({ series: { ...get().series, [key]: answer }, seriesError: null });
      } catch (error) {
        if (generation.get(key) === mine) set({ seriesError: errorMessage(error) });
      } finally {
        if (generation.get(key) === mine) inFlight.delete(key);
      }
    };

    const fetchRun = (id: string) => Promise.all(monitoredMetrics.map((metric) => fetchSeries(id, metric)));

    /** Appends the pending live iterations to the charted series, in one update for every run. */
    const drawLive = () => {
      liveTimer = undefined;
      const { series, window, maxPoints, details, axis } = get();
      const watched = watchedIds(get());
      const next = { ...series };
      for (const [id, points] of pendingIterations) {
        if (!watched.includes(id)) continue;
        const perEpoch = details[id] ? stepsPerEpoch(details[id]) : null;
        for (const metric of monitoredMetrics) {
          const key = seriesKey(id, metric);
          const current = series[key];
          // Before the first answer there is nothing to append to; that answer will hold these points.
          if (!current || current.axis !== axis) continue;
          next[key] = appendIterations(current, points, window, perEpoch);
          if (needsRefetch(next[key], maxPoints) && !inFlight.has(key)) void fetchSeries(id, metric);
        }
      }
      pendingIterations.clear();
      set({ series: next });
    };

    const loadDetail = async (id: string) => {
      const detail = await client.api.getRun({ id });
      set({ details: { ...get().details, [id]: detail } });
    };
    /** A run's checkpoints and skipped files from the host, the rest of its detail kept as the events made it. */
    const refreshFiles = async (id: string) => {
      const { checkpoints, badFiles } = await client.api.getRun({ id });
      const current = get().details[id];
      if (current) set({ details: { ...get().details, [id]: { ...current, checkpoints, badFiles } } });
    };

    return {
      primaryId: null,
      compareIds: [],
      details: {},
      detail: idle,
      axis: 'step',
      smoothing: { kind: 'ema', weight: 0.6 },
      window: {},
      maxPoints: 600,
      series: {},
      seriesError: null,
      open: async (id) => {
        set({ primaryId: id, window: {}, compareIds: get().compareIds.filter((other) => other !== id) });
        await track(
          async () => {
            await loadDetail(id);
            return true as const;
          },
          (detail) => set({ detail }),
          () => get().primaryId === id,
        );
        await fetchRun(id);
      },
      toggleCompare: async (id) => {
        const { compareIds } = get();
        if (compareIds.includes(id)) {
          set({ compareIds: compareIds.filter((other) => other !== id) });
          return;
        }
        set({ compareIds: [...compareIds, id] });
        try {
          await loadDetail(id);
        } catch (error) {
          set({ seriesError: errorMessage(error) });
        }
        await fetchRun(id);
      },
      setAxis: (axis) => {
        // A window on one axis means nothing on another.
        set({ axis, window: {} });
        get().refetchAll();
      },
      setSmoothing: (smoothing) => set({ smoothing }),
      zoom: (window) => {
        set({ window });
        get().refetchAll();
      },
      setMaxPoints: (maxPoints) => {
        const clamped = Math.max(2, Math.min(100_000, Math.round(maxPoints)));
        if (clamped === get().maxPoints) return;
        set({ maxPoints: clamped });
        get().refetchAll();
      },
      refetchAll: () => {
        for (const id of watchedIds(get())) void fetchRun(id);
      },
      connect: () => {
        const offs = [
          client.on('runIterations', ({ id, points }) => {
            if (!watchedIds(get()).includes(id)) return;
            pendingIterations.set(id, (pendingIterations.get(id) ?? []).concat(points));
            liveTimer ??= setTimeout(drawLive, liveRedrawDelayMs);
          }),
          client.on('runEpoch', ({ id, record }) => {
            const detail = get().details[id];
            if (!detail) return;
            const records = detail.epochRecords.filter((r) => r.epoch !== record.epoch).concat(record);
            set({ details: { ...get().details, [id]: { ...detail, epochRecords: records } } });
            // The trainer saves an epoch's checkpoints before it writes its record: list them now,
            // not only when the run ends (a long run's checkpoints were otherwise never shown).
            void refreshFiles(id).catch((error) => set({ seriesError: errorMessage(error) }));
          }),
          client.on('runLog', ({ id, lines }) => {
            const detail = get().details[id];
            if (!detail) return;
            set({ details: { ...get().details, [id]: { ...detail, logTail: appendLog(detail.logTail, lines) } } });
          }),
          client.on('runUpdated', (run) => {
            const detail = get().details[run.id];
            if (!detail) return;
            const finished = run.status !== detail.status && ['stopped', 'completed', 'failed'].includes(run.status);
            set({ details: { ...get().details, [run.id]: { ...detail, ...run } } });
            // A run that just saved has new checkpoints (and a final record) to show.
            if (finished) void loadDetail(run.id).catch((error) => set({ seriesError: errorMessage(error) }));
          }),
          client.on('runDeleted', ({ id }) => {
            const { [id]: _gone, ...details } = get().details;
            set({
              details,
              compareIds: get().compareIds.filter((other) => other !== id),
              primaryId: get().primaryId === id ? null : get().primaryId,
            });
          }),
        ];
        // Iterations, epochs and log lines sent while the stream was down are missed: fetch again.
        const offStream = client.onStreamState?.((state) => {
          if (state !== 'restored') return;
          for (const id of watchedIds(get())) void loadDetail(id).catch((error) => set({ seriesError: errorMessage(error) }));
          get().refetchAll();
        });
        return () => {
          clearTimeout(liveTimer);
          liveTimer = undefined;
          pendingIterations.clear();
          offs.forEach((off) => off());
          offStream?.();
        };
      },
    };
  });
}
