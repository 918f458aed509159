// The one contract between the workbench UI and its host: every method with its request schema
// (zod, checked by the host on every call, since a request crosses IPC or HTTP untyped) and its
// response type, plus the events the host pushes. Implemented over Electron IPC (electron/main.ts,
// preload.ts) and over HTTP + WebSocket (serve mode, electron/host/serve/); the renderer codes
// against `WorkbenchApi` and `WorkbenchEvents` only. Everything here is JSON-safe: no typed arrays,
// no bigint, no Date (times are Unix milliseconds).
import { z } from 'zod';
import type { RunConfig } from './config';
import type { EngineInfo } from './engine';

// ---------------------------------------------------------------------------------------------
// Runs

/** queued: waiting for a free device; stopping: the step in flight finishes, then it saves. */
export type RunStatus = 'queued' | 'running' | 'stopping' | 'stopped' | 'completed' | 'failed';

export interface RunSummary {
  id: string;
  name: string;
  status: RunStatus;
  model: string;
  /** data_path as given ('' = the embedded demo digits). */
  dataset: string;
  /** 'cpu', 'cuda:0', … as assigned; for a queued run, what it asked for. */
  device: string;
  gpus: number;
  /** Completed epochs and the configured total. */
  epoch: number;
  epochs: number;
  /** Optimizer steps done and planned (for progress and ETA). */
  step: number;
  totalSteps: number;
  bestAcc1: number | null;
  bestEmaAcc1: number | null;
  /** Median training images/s over the recent iterations. */
  imagesPerSecond: number | null;
  etaSeconds: number | null;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  /** Why the run failed (or was paused by a lost worker), in words. */
  error: string | null;
  /** 1-based position in the job queue while queued. */
  queuePosition: number | null;
  outputDir: string;
}

/** One line of log.txt, the official per-epoch record (train_*, test_*, ema_test_*, epoch, …). */
export type EpochRecord = Record<string, number | null> & { epoch: number };

export interface CheckpointEntry {
  path: string;
  /** 'checkpoint-12', 'checkpoint-best', 'checkpoint-best-ema'. */
  name: string;
  /** The epoch it was saved at: from the name, or for checkpoint-best(-ema) its recorded `epoch`; null when unknown. */
  epoch: number | null;
  bytes: number;
  modifiedAt: number;
}

export interface RunDetail extends RunSummary {
  config: RunConfig;
  epochRecords: EpochRecord[];
  /** The newest lines the run printed (progress, messages, errors). */
  logTail: string[];
  checkpoints: CheckpointEntry[];
  /** Files the loader skipped, with the reason. */
  badFiles: { path: string; reason: string }[];
}

/** Per-iteration series of metrics.jsonl. */
export const iterationMetricNames = ['loss', 'lr', 'weight_decay', 'grad_norm', 'images_per_second', 'data_seconds', 'step_seconds'] as const;
export type IterationMetricName = (typeof iterationMetricNames)[number];

/** One iteration as the trainer records it (a line of metrics.jsonl). */
export interface IterationPoint {
  epoch: number;
  /** Global optimizer-step index (what the LR and weight-decay schedules index). */
  step: number;
  /** Unix seconds. */
  time: number;
  loss: number;
  lr: number;
  weight_decay: number;
  grad_norm: number | null;
  images_per_second: number;
  data_seconds: number;
  step_seconds: number;
}

export type SeriesAxis = 'step' | 'epoch' | 'time';

export interface Series {
  metric: IterationMetricName;
  axis: SeriesAxis;
  /** Downsampled points (LTTB over the requested window), x ascending. */
  x: number[];
  y: number[];
  /** Points in the window before downsampling, and in the whole series. */
  windowPoints: number;
  totalPoints: number;
  /** The full x range of the series, for the zoom's bounds. */
  xMin: number | null;
  xMax: number | null;
}

// ---------------------------------------------------------------------------------------------
// Datasets, models

export type DatasetCheck =
  /** dataSet: the detected layout, IMNET (train/ and val/), image_folder (class folders, counted as both train and val) or
   *  CIFAR (CIFAR-100's train and test files in cifar-100-python/). */
  | { ok: true; path: string; dataSet?: 'IMNET' | 'image_folder' | 'CIFAR'; classes: number; classNames: string[]; trainImages: number; valImages: number }
  | { ok: false; path: string; problem: string };

/**
 * Fetching CIFAR-100 into a data folder on the host (what `pix data fetch-cifar` does): the
 * published archive downloaded, its MD5 checked, cifar-100-python/ unpacked. downloading →
 * verifying → unpacking, then done (fetched false when the files were already there), failed
 * (error says why: unreachable, an HTTP status, a wrong MD5) or cancelled; nothing half-written is
 * left behind either way.
 */
export type CifarFetchPhase = 'downloading' | 'verifying' | 'unpacking' | 'done' | 'failed' | 'cancelled';

export interface CifarFetchState {
  /** The data folder as the host resolved it (absolute, normalised): the key of the fetch. */
  dataPath: string;
  phase: CifarFetchPhase;
  receivedBytes: number;
  /** The archive's size where the server says it. */
  totalBytes: number | null;
  /** Set when done: false when the folder already held the files. */
  fetched: boolean | null;
  error: string | null;
  startedAt: number;
  finishedAt: number | null;
}

export interface ModelEntry {
  name: string;
  aliases: string[];
  parameters: number;
  /** Multiply-accumulates of one 224×224 forward. */
  macs: number;
  pix: boolean;
}

// ---------------------------------------------------------------------------------------------
// Checkpoints

export interface TensorStats {
  name: string;
  shape: number[];
  dtype: string;
  elements: number;
  /** null for an empty tensor. */
  min: number | null;
  max: number | null;
  mean: number | null;
  std: number | null;
}

export interface CheckpointInfo {
  path: string;
  format: 'safetensors' | 'pth';
  bytes: number;
  /** String metadata (safetensors __metadata__, or a .pth's epoch/args flattened). */
  metadata: Record<string, string>;
  /** The engine model whose state dict this matches exactly, when one does. */
  model: string | null;
  classes: number | null;
  tensors: TensorStats[];
  totals: { tensors: number; elements: number };
}

export interface Histogram {
  /** bins + 1 edges. */
  edges: number[];
  counts: number[];
}

export interface CheckpointDiff {
  onlyInA: string[];
  onlyInB: string[];
  shapeMismatch: { name: string; shapeA: number[]; shapeB: number[] }[];
  /** Tensors in both with equal shapes, largest relative change first. */
  changed: { name: string; maxAbsDiff: number; relativeL2: number }[];
  identical: number;
}

export interface EvalSummary {
  acc1: number;
  acc5: number;
  loss: number;
  images: number;
  seconds: number;
}

/** Gate statistics of one PiX block on a sample batch. */
export interface GateBlockStats {
  /** State-dict prefix of the block, e.g. 'layer2.1'. */
  block: string;
  tau: number;
  /** Channel subsets per pixel (K = ceil(C / zeta)). */
  subsets: number;
  /** Fraction of gate values below tau (pick: the subset's max; at or above tau it mixes, SPEC §2) across the batch and subsets. */
  pickFraction: number;
  histogram: Histogram;
}

export interface ClassPrediction {
  classIndex: number;
  /** From the checkpoint's class list when it has one. */
  className: string | null;
  probability: number;
}

export interface ImageClassification {
  top5: ClassPrediction[];
  /** Per PiX block: the gate value of every subset for this image and whether it picked. */
  blocks: { block: string; tau: number; gate: number[]; picked: boolean[] }[];
}

// ---------------------------------------------------------------------------------------------
// Throughput comparison

export interface ThroughputMeasurement {
  model: string;
  batchSize: number;
  /** Images per second of each timed repeat, and their spread. */
  samples: number[];
  min: number;
  median: number;
  max: number;
  /** Median milliseconds per batch. */
  latencyMs: number;
  parameters: number;
  macs: number;
  /**
   * With a profiled comparison: milliseconds per step in each part (stem, blocks, head), in order;
   * added once the batch size's timed repeats are all done.
   */
  parts?: ThroughputPart[];
}

/** A model (the engine's name for it) at one batch size. */
export interface ThroughputSlot {
  model: string;
  batchSize: number;
}

/** One part of a network: the stem (with its max-pool), a block under its state-dict prefix, or the head. */
export interface ThroughputPart {
  name: string;
  forwardMs: number;
  /** 0 in inference. */
  backwardMs: number;
}

export interface ThroughputReport {
  id: string;
  startedAt: number;
  finishedAt: number | null;
  device: string;
  /** 'fp32' | 'bf16'. */
  precision: string;
  mode: 'train' | 'infer';
  inputSize: number;
  /**
   * One per model and batch size, added as each finishes its last timed repeat (so a running,
   * cancelled or failed report holds those measured so far), in batch-size order, then the
   * request's model order.
   */
  measurements: ThroughputMeasurement[];
  /** Per batch size: PiX images/s over ResNet images/s, next to ResNet MACs over PiX MACs. */
  ratios: { batchSize: number; pix: string; resnet: string; speedup: number; macRatio: number }[];
  /** Set when the comparison failed or was cancelled. */
  error: string | null;
}

// ---------------------------------------------------------------------------------------------
// The machine

export interface SystemStats {
  time: number;
  cpuPercent: number;
  cores: number;
  memoryUsedBytes: number;
  memoryTotalBytes: number;
  gpus: { index: number; name: string; utilizationPercent: number | null; memoryUsedBytes: number | null; memoryTotalBytes: number | null }[];
}

// ---------------------------------------------------------------------------------------------
// Request schemas

const runId = z.object({ id: z.string().min(1) });
const filePath = z.string().min(1, 'a file path is needed');

export const requestSchemas = {
  engineInfo: z.void(),
  systemStats: z.void(),
  listModels: z.void(),
  checkDataset: z.object({ path: z.string() }),
  /** dataPath: an absolute folder, made when missing. One fetch per folder at a time. */
  fetchCifar: z.object({ dataPath: z.string().min(1, 'a data folder is needed') }),
  cancelCifarFetch: z.object({ dataPath: z.string().min(1, 'a data folder is needed') }),
  listCifarFetches: z.void(),

  listRuns: z.void(),
  getRun: runId,
  /** config: any subset of the run flags; the host fills defaults and validates with runConfigSchema. */
  startRun: z.object({ name: z.string().max(200).optional(), config: z.record(z.string(), z.unknown()) }),
  stopRun: runId,
  resumeRun: runId,
  deleteRun: runId,
  runSeries: z.object({
    id: z.string().min(1),
    metric: z.enum(iterationMetricNames),
    axis: z.enum(['step', 'epoch', 'time']),
    from: z.number().finite().optional(),
    to: z.number().finite().optional(),
    maxPoints: z.number().int().min(2).max(100_000),
  }),
  exportRuns: z.object({ ids: z.array(z.string().min(1)).min(1), format: z.enum(['csv', 'json']) }),

  inspectCheckpoint: z.object({ path: filePath }),
  tensorHistogram: z.object({ path: filePath, name: z.string().min(1), bins: z.number().int().min(2).max(1000) }),
  diffCheckpoints: z.object({ a: filePath, b: filePath }),
  evaluateCheckpoint: z.object({
    path: filePath, model: z.string().min(1).optional(), dataPath: z.string(),
    inputSize: z.number().int().positive().optional(), batchSize: z.number().int().positive().optional(),
  }),
  convertCheckpoint: z.object({ from: filePath, to: filePath }),
  gateStatistics: z.object({
    path: filePath, model: z.string().min(1).optional(), dataPath: z.string(),
    images: z.number().int().min(1).max(512), inputSize: z.number().int().positive().optional(),
  }),
  classifyImage: z.object({
    path: filePath, model: z.string().min(1).optional(),
    /** An image file on the host, or the image's bytes as base64 (a browser upload). */
    image: z.union([z.object({ file: filePath }), z.object({ base64: z.string().min(1) })]),
    inputSize: z.number().int().positive().optional(),
  }),

  startThroughput: z.object({
    models: z.array(z.string().min(1)).min(1).max(8),
    device: z.string().regex(/^(cpu|cuda(:\d+)?)$/),
    precision: z.enum(['fp32', 'bf16']),
    mode: z.enum(['train', 'infer']),
    batchSizes: z.array(z.number().int().positive().max(4096)).min(1).max(8),
    inputSize: z.number().int().min(32).max(1024),
    repeats: z.number().int().min(1).max(100),
    /** Also time each part of every network, in extra steps after the timed ones. */
    profile: z.boolean().optional(),
  }),
  cancelThroughput: z.object({ id: z.string().min(1) }),
  throughputHistory: z.void(),
};

export type WorkbenchMethod = keyof typeof requestSchemas;

type RequestOf<M extends WorkbenchMethod> = z.infer<(typeof requestSchemas)[M]>;

/** Every method's response. */
export interface WorkbenchResponses {
  engineInfo: EngineInfo;
  systemStats: SystemStats;
  listModels: ModelEntry[];
  checkDataset: DatasetCheck;
  /** Starts the fetch and returns at once; progress and the outcome arrive as events. */
  fetchCifar: CifarFetchState;
  cancelCifarFetch: CifarFetchState;
  /** The fetches running now, each as it stands (its latest bytes and phase), in the order they started; ended ones are not kept. */
  listCifarFetches: CifarFetchState[];
  listRuns: RunSummary[];
  getRun: RunDetail;
  startRun: RunSummary;
  stopRun: RunSummary;
  resumeRun: RunSummary;
  deleteRun: { deleted: true };
  runSeries: Series;
  /** The export as text (CSV or JSON) and a suggested file name. */
  exportRuns: { fileName: string; mimeType: string; text: string };
  inspectCheckpoint: CheckpointInfo;
  tensorHistogram: Histogram;
  diffCheckpoints: CheckpointDiff;
  evaluateCheckpoint: EvalSummary;
  convertCheckpoint: { path: string; bytes: number };
  gateStatistics: { blocks: GateBlockStats[]; images: number };
  classifyImage: ImageClassification;
  /** Starts the comparison and returns at once; progress and the result arrive as events. */
  startThroughput: ThroughputReport;
  cancelThroughput: ThroughputReport;
  throughputHistory: ThroughputReport[];
}

/** The client-side shape: one async function per method. */
export type WorkbenchApi = {
  [M in WorkbenchMethod]: RequestOf<M> extends void
    ? () => Promise<WorkbenchResponses[M]>
    : (request: RequestOf<M>) => Promise<WorkbenchResponses[M]>;
};

export const workbenchMethods = Object.keys(requestSchemas) as WorkbenchMethod[];

// ---------------------------------------------------------------------------------------------
// Events, host → UI

export interface WorkbenchEvents {
  /** A run's summary changed (status, epoch, best accuracy, queue position, …). */
  runUpdated: RunSummary;
  runDeleted: { id: string };
  /** New iterations of a running run, batched (a few per second at most). */
  runIterations: { id: string; points: IterationPoint[] };
  runEpoch: { id: string; record: EpochRecord };
  runLog: { id: string; lines: string[] };
  /** Every timed step; `measuring` lists the models and batch sizes not yet in `report.measurements`. */
  throughputProgress: { report: ThroughputReport; done: number; total: number; current: string; measuring: ThroughputSlot[] };
  throughputDone: ThroughputReport;
  /** A CIFAR-100 fetch moved on: a new phase, or more bytes (a few per second at most). */
  cifarFetchProgress: CifarFetchState;
  /** A fetch ended: done, failed or cancelled. */
  cifarFetchDone: CifarFetchState;
  systemStats: SystemStats;
}

export type WorkbenchEvent = keyof WorkbenchEvents;

export const workbenchEvents: readonly WorkbenchEvent[] = [
  'runUpdated', 'runDeleted', 'runIterations', 'runEpoch', 'runLog', 'throughputProgress', 'throughputDone',
  'cifarFetchProgress', 'cifarFetchDone', 'systemStats',
];

/** Subscribing returns the function that unsubscribes. */
export type Subscribe = <E extends WorkbenchEvent>(event: E, listener: (payload: WorkbenchEvents[E]) => void) => () => void;

/** Native file dialogs; only the desktop app has them (a browser cannot name a path on the host). */
export interface WorkbenchDialogs {
  /** An absolute folder path, or null when the user cancels. */
  pickFolder(): Promise<string | null>;
  /** An absolute file path, or null when the user cancels; extensions without dots, e.g. ['pth']. */
  pickFile(extensions: string[]): Promise<string | null>;
}

/**
 * The event stream's health where it can drop (a browser's socket to `pix serve`; Electron's IPC
 * cannot). `lost`: events stop arriving until it is back. `restored`: it is back, and whatever
 * happened in between (iterations, status changes) was missed, so views fetch their data again.
 */
export type EventStreamState = 'lost' | 'restored';

/** What the renderer receives from the preload (Electron) or the serve-mode client (browser). */
export interface WorkbenchClient {
  api: WorkbenchApi;
  on: Subscribe;
  /** Present in the desktop app only; the UI falls back to typed paths without it. */
  dialogs?: WorkbenchDialogs;
  /** Present where the event stream can drop; returns the unsubscribe function. */
  onStreamState?(listener: (state: EventStreamState) => void): () => void;
}

/** IPC channel of a method; the single place channel names are made. */
export function channelOf(method: WorkbenchMethod): string {
  return `workbench:${method}`;
}

/** IPC channel of an event. */
export function eventChannelOf(event: WorkbenchEvent): string {
  return `workbench-event:${event}`;
}

/** IPC channel of a desktop dialog. */
export function dialogChannelOf(dialog: keyof WorkbenchDialogs): string {
  return `workbench-dialog:${dialog}`;
}

/** Validates a request that crossed a process or network boundary; throws a message naming the fields. */
export function parseRequest<M extends WorkbenchMethod>(method: M, request: unknown): RequestOf<M> {
  const result = requestSchemas[method].safeParse(request);
  if (!result.success) {
    const issues = result.error.issues.map((issue) => `${issue.path.join('.') || 'request'}: ${issue.message}`).join('; ');
    throw new Error(`${method}: invalid request (${issues})`);
  }
  return result.data as RequestOf<M>;
}
