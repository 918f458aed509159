// The throughput comparison: the report being measured (its progress and its measurements so far
// from throughputProgress events), the one on screen, and the history of past comparisons. The
// request is checked by the contract's own schema before it is sent, so a bad batch list is named
// here, not by the host.
import { createStore } from 'zustand/vanilla';
import { requestSchemas, type ThroughputReport, type ThroughputSlot, type WorkbenchClient } from '../../../shared/api';
import { errorMessage } from '../format';
import { idle, track, type AsyncResult } from './asyncResult';

export type ThroughputRequest = Parameters<WorkbenchClient['api']['startThroughput']>[0];

export interface ThroughputProgress {
  done: number;
  total: number;
  current: string;
  /** The models and batch sizes the running report has no measurement for yet. */
  measuring: ThroughputSlot[];
}

/** Reports newest first, one per id (a finished report replaces its running self). */
export function mergeReport(history: readonly ThroughputReport[], report: ThroughputReport): ThroughputReport[] {
  return [report, ...history.filter((r) => r.id !== report.id)].sort((a, b) => b.startedAt - a.startedAt);
}

/** One row per measurement, for spreadsheets. */
export function reportCsv(report: ThroughputReport): string {
  const header = 'model,batch_size,device,precision,mode,input_size,images_per_second_median,min,max,latency_ms,parameters,macs';
  const rows = report.measurements.map((m) =>
    [m.model, m.batchSize, report.device, report.precision, report.mode, report.inputSize, m.median, m.min, m.max, m.latencyMs, m.parameters, m.macs].join(','),
  );
  return [header, ...rows].join('\n') + '\n';
}

export interface ThroughputState {
  /** The report on screen: the running one, or one picked from the history. */
  report: ThroughputReport | null;
  runningId: string | null;
  progress: ThroughputProgress | null;
  start: AsyncResult<true>;
  history: AsyncResult<true>;
  reports: ThroughputReport[];
  compare: (request: ThroughputRequest) => Promise<void>;
  cancel: () => Promise<void>;
  show: (id: string) => void;
  loadHistory: () => Promise<void>;
  connect: () => () => void;
}

export function createThroughputStore(client: WorkbenchClient) {
  return createStore<ThroughputState>()((set, get) => ({
    report: null,
    runningId: null,
    progress: null,
    start: idle,
    history: idle,
    reports: [],
    compare: async (request) => {
      const checked = requestSchemas.startThroughput.safeParse(request);
      if (!checked.success) {
        const why = checked.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
        set({ start: { status: 'failed', message: why } });
        return;
      }
      const report = await track(() => client.api.startThroughput(checked.data), (start) => set({ start: start.status === 'done' ? { status: 'done', value: true } : start }));
      if (report) set({ report, runningId: report.finishedAt === null ? report.id : null, progress: null, reports: mergeReport(get().reports, report) });
    },
    cancel: async () => {
      const id = get().runningId;
      if (!id) return;
      try {
        const report = await client.api.cancelThroughput({ id });
        set({ report, runningId: null, reports: mergeReport(get().reports, report) });
      } catch (error) {
        set({ start: { status: 'failed', message: errorMessage(error) } });
      }
    },
    show: (id) => set({ report: get().reports.find((r) => r.id === id) ?? null }),
    loadHistory: async () => {
      await track(
        async () => {
          const past = await client.api.throughputHistory();
          set({ reports: past.reduce(mergeReport, get().reports) });
          return true as const;
        },
        (history) => set({ history }),
      );
    },
    connect: () => {
      // The running report's progress is followed whatever is on screen; it takes the screen only
      // where it already is, or when it starts (here or elsewhere), so a past report picked from
      // the history meanwhile stays.
      const offProgress = client.on('throughputProgress', ({ report, done, total, current, measuring }) => {
        const { runningId, report: shown } = get();
        const reports = mergeReport(get().reports, report);
        if (runningId !== null && runningId !== report.id) {
          set({ reports });
          return;
        }
        const onScreen = runningId === null || shown === null || shown.id === report.id;
        set({ reports, runningId: report.id, progress: { done, total, current, measuring }, ...(onScreen ? { report } : {}) });
      });
      const offDone = client.on('throughputDone', (report) => {
        const { runningId, report: shown } = get();
        const ours = runningId === report.id;
        set({
          reports: mergeReport(get().reports, report),
          ...(ours ? { runningId: null, progress: null } : {}),
          ...(shown?.id === report.id || (ours && shown === null) ? { report } : {}),
        });
      });
      return () => {
        offProgress();
        offDone();
      };
    },
  }));
}
