// The runs of one workbench home, live: creates records, queues them for a device (jobs/
// device_queue.ts), starts each in its own supervised worker process (jobs/supervisor.ts), follows
// the worker's reports into status changes and events, and answers the UI's reads. Training never
// runs here, on the host's event loop.
//
// Events are batched per run: iterations, console lines and progress go out at most every
// FLUSH_MS (a few times a second however fast the steps are); status changes go out at once.
// After a host restart, a run recorded as running or stopping has lost its worker: it becomes
// failed with a note that resume continues from the last checkpoint; queued runs queue again.
// An action the run's status does not allow (resume a running run, stop a finished one, delete a
// running one), or a run that would write into a folder a queued or running run writes to, is
// refused with a RequestError (409) naming the status; a run asking for devices this machine does
// not have is a config problem (400).
import { join } from 'node:path';
import type { EpochRecord, IterationPoint, RunDetail, RunSummary, Series } from '../../../shared/api';
import type { Emit } from '../host_events';
import { RequestError } from '../request_error';
import { DeviceQueue, describeRequest, requestOf, visibleDevicesFor, type DeviceRequest } from '../jobs/device_queue';
import { superviseWorker, type SupervisedWorker, type WorkerExit } from '../jobs/supervisor';
import type { WorkerToHost } from '../jobs/worker_protocol';
import { RunConfigError, type ResolvedRunConfig } from './run_config';
import { checkMove, isActive } from './run_status';
import type { RunRecord, RunStore } from './run_store';
import { RunView } from './run_view';
import type { SeriesWindow } from './series';
import { epochSummary } from '../train/epoch_summary';

export interface RunManagerOptions {
  store: RunStore;
  emit: Emit;
  /** CUDA devices the queue hands out (engineInfo's count). */
  cudaDevices: number;
  /** Compiled worker entry; the tests pass stand-ins. */
  workerScript?: string;
  /** A worker silent for this long is killed as hung. Long by default: saving a ResNet-152 checkpoint takes a while. */
  heartbeatTimeoutMs?: number;
}

const FLUSH_MS = 200;
const RATE_WINDOW = 20;
const LOG_TAIL_LINES = 200;
export const INTERRUPTED = 'interrupted (host exited); resume continues from the last checkpoint';

interface LiveRun {
  worker: SupervisedWorker;
  points: IterationPoint[];
  lines: string[];
  /** Seconds per optimizer step of the recent iterations (data + compute). */
  stepSeconds: number[];
  rates: number[];
  timer: NodeJS.Timeout | undefined;
  /** log.txt records already sent as runEpoch events. */
  epochsSent: number;
}

function median(values: number[]): number | null {
  if (!values.length) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function best(records: EpochRecord[], key: string): number | null {
  let out: number | null = null;
  for (const r of records) {
    const v = r[key];
    if (typeof v === 'number' && (out === null || v > out)) out = v;
  }
  return out;
}

export class RunManager {
  private readonly store: RunStore;
  private readonly emit: Emit;
  private readonly queue: DeviceQueue;
  private readonly records = new Map<string, RunRecord>();
  private readonly views = new Map<string, RunView>();
  private readonly live = new Map<string, LiveRun>();
  private readonly workerScript: string;
  private readonly heartbeatTimeoutMs: number;
  private closing = false;

  constructor(options: RunManagerOptions) {
    this.store = options.store;
    this.emit = options.emit;
    this.queue = new DeviceQueue(options.cudaDevices);
    this.workerScript = options.workerScript ?? join(__dirname, '..', 'jobs', 'train_worker.js');
    this.heartbeatTimeoutMs = options.heartbeatTimeoutMs ?? 300_000;
    for (const record of this.store.list()) {
      this.records.set(record.id, record);
      if (isActive(record.status)) {
        this.save({ ...record, status: 'failed', error: INTERRUPTED, finishedAt: Date.now() });
      } else if (record.status === 'queued') {
        try {
          this.queue.enqueue(record.id, requestOf(record.config.device, record.config.nproc_per_node));
        } catch (error) {
          this.save({ ...record, status: 'failed', error: (error as Error).message, finishedAt: Date.now() });
        }
      }
    }
    this.schedule();
  }

  /** Registers and queues a new run; config comes checked from resolveRunConfig. */
  create(id: string, name: string, { config, dataset }: ResolvedRunConfig): RunSummary {
    let request: DeviceRequest;
    try {
      request = requestOf(config.device, config.nproc_per_node);
      this.queue.check(request);
    } catch (error) {
      throw new RunConfigError({ device: (error as Error).message });
    }
    this.checkOutputFree(id, config.output_dir);
    const record: RunRecord = {
      id, name: name || `${config.model} ${dataset ? dataset : 'demo digits'}`, config, dataset, status: 'queued',
      device: describeRequest(request), gpus: request.kind === 'cpu' ? 0 : 'count' in request ? request.count : 1,
      createdAt: Date.now(), startedAt: null, finishedAt: null, error: null, itersPerEpoch: null, step: 0, attempts: 0,
    };
    this.save(record);
    this.queue.enqueue(id, request);
    this.schedule();
    return this.summary(this.records.get(id)!);
  }

  list(): RunSummary[] {
    return [...this.records.values()].map((r) => this.summary(r));
  }

  get(id: string): RunDetail {
    const record = this.record(id);
    const view = this.view(record);
    return {
      ...this.summary(record), config: record.config, epochRecords: view.epochRecords(),
      logTail: view.consoleTail(LOG_TAIL_LINES), checkpoints: view.checkpoints(), badFiles: view.badFiles(),
    };
  }

  series(id: string, window: SeriesWindow): Series {
    return this.view(this.record(id)).series.window(window);
  }

  /** The records and views exportRuns reads. */
  exportSource(id: string): { record: RunRecord; view: RunView } {
    const record = this.record(id);
    return { record, view: this.view(record) };
  }

  stop(id: string): RunSummary {
    const record = this.record(id);
    if (record.status === 'queued') {
      this.queue.remove(id);
      this.save({ ...record, status: 'stopped', finishedAt: Date.now() });
      this.schedule();
    } else if (record.status === 'running') {
      this.save({ ...record, status: 'stopping' });
      this.live.get(id)?.worker.stop();
    } else if (record.status !== 'stopping') {
      throw new RequestError(409, `run ${id} is ${record.status}; there is nothing to stop`);
    }
    return this.summary(this.records.get(id)!);
  }

  /** A new attempt in the same output folder, continuing from its newest checkpoint. */
  resume(id: string): RunSummary {
    const record = this.record(id);
    if (record.status !== 'stopped' && record.status !== 'failed') {
      throw new RequestError(409, `run ${id} is ${record.status}; only a stopped or failed run can be resumed`);
    }
    let request: DeviceRequest;
    try {
      request = requestOf(record.config.device, record.config.nproc_per_node);
      this.queue.check(request);
    } catch (error) {
      // The run was made on a machine (or under a CUDA_VISIBLE_DEVICES) with devices this one lacks.
      throw new RequestError(409, `run ${id} cannot resume on this machine: ${(error as Error).message}`, { cause: error });
    }
    this.checkOutputFree(id, record.config.output_dir);
    this.save({ ...record, config: { ...record.config, auto_resume: true }, status: 'queued', error: null, finishedAt: null });
    this.queue.enqueue(id, request);
    this.schedule();
    return this.summary(this.records.get(id)!);
  }

  delete(id: string): void {
    const record = this.record(id);
    if (isActive(record.status)) throw new RequestError(409, `run ${id} is ${record.status}: stop it before deleting it`);
    this.queue.remove(id);
    this.store.remove(id);
    this.records.delete(id);
    this.views.delete(id);
    this.emit('runDeleted', { id });
    this.schedule();
  }

  /** Asks every worker to finish its step and save, then waits for them (killing stragglers after graceMs). */
  async close(graceMs = 30_000): Promise<void> {
    this.closing = true;
    const exits = [...this.live.values()].map((run) => {
      run.worker.stop();
      const timer = setTimeout(() => run.worker.kill(), graceMs);
      return run.worker.exit.finally(() => clearTimeout(timer));
    });
    await Promise.all(exits);
  }

  /** The worker's process id while one runs (for supervision tests and diagnostics). */
  workerPid(id: string): number | undefined {
    return this.live.get(id)?.worker.pid;
  }

  /** Two runs writing checkpoints and logs into one folder would overwrite each other's. */
  private checkOutputFree(id: string, outputDir: string): void {
    for (const other of this.records.values()) {
      if (other.id !== id && other.config.output_dir === outputDir && (other.status === 'queued' || isActive(other.status))) {
        throw new RequestError(409, `output_dir ${outputDir} is the folder of run ${other.id}, which is ${other.status}: ` +
          'choose another folder, or wait until that run ends');
      }
    }
  }

  private record(id: string): RunRecord {
    const record = this.records.get(id);
    if (!record) {
      this.store.folderOf(id);  // a malformed id gets its own message
      throw new RequestError(404, `no run with id '${id}'`);
    }
    return record;
  }

  private view(record: RunRecord): RunView {
    let view = this.views.get(record.id);
    if (!view) {
      view = new RunView(this.store.folderOf(record.id), record.config.output_dir, () => this.records.get(record.id)?.itersPerEpoch ?? null);
      this.views.set(record.id, view);
    }
    return view;
  }

  /** Writes the record, keeps it, and tells listeners when the status changed. */
  private save(next: RunRecord): void {
    const previous = this.records.get(next.id);
    if (previous && previous.status !== next.status) checkMove(next.id, previous.status, next.status);
    this.store.write(next);
    this.records.set(next.id, next);
    this.emit('runUpdated', this.summary(next));
  }

  private summary(record: RunRecord): RunSummary {
    const view = this.view(record);
    const epochs = view.epochRecords();
    const live = this.live.get(record.id);
    const totalSteps = record.itersPerEpoch ? record.itersPerEpoch * record.config.epochs : 0;
    const secondsPerStep = live ? median(live.stepSeconds) : null;
    return {
      id: record.id, name: record.name, status: record.status, model: record.config.model, dataset: record.dataset,
      device: record.device, gpus: record.gpus,
      // Completed epochs: a run stopped mid-epoch logs that epoch's record, but has not finished it.
      epoch: record.itersPerEpoch ? Math.floor(record.step / record.itersPerEpoch) : epochs.length ? Math.max(...epochs.map((r) => r.epoch)) + 1 : 0,
      epochs: record.config.epochs,
      step: record.step, totalSteps,
      bestAcc1: best(epochs, 'test_acc1'), bestEmaAcc1: best(epochs, 'ema_test_acc1'),
      imagesPerSecond: (live ? median(live.rates) : null) ?? record.imagesPerSecond ?? null,
      etaSeconds: secondsPerStep !== null && totalSteps ? Math.max(0, totalSteps - record.step) * secondsPerStep : null,
      createdAt: record.createdAt, startedAt: record.startedAt, finishedAt: record.finishedAt, error: record.error,
      queuePosition: this.queue.position(record.id), outputDir: record.config.output_dir,
    };
  }

  private schedule(): void {
    if (this.closing) return;
    const before = new Set(this.queue.waitingIds());
    for (const { id, devices } of this.queue.schedule()) this.launch(id, devices);
    // Runs still waiting moved up when someone ahead of them left.
    for (const id of this.queue.waitingIds()) if (before.has(id)) this.emit('runUpdated', this.summary(this.records.get(id)!));
  }

  private launch(id: string, devices: string[]): void {
    const record = this.records.get(id)!;
    const device = devices.join(',');
    const config = devices.length === 1 && devices[0] !== 'cpu' ? { ...record.config, device: devices[0]! } : record.config;
    const view = this.view(record);
    const visible = visibleDevicesFor(devices, process.env.CUDA_VISIBLE_DEVICES);
    this.note(id, `attempt ${record.attempts + 1} on ${device}${config.auto_resume ? ' (resuming)' : ''}`);
    const worker = superviseWorker({
      script: this.workerScript,
      payload: { config },
      ...(visible === undefined ? {} : { env: { ...process.env, CUDA_VISIBLE_DEVICES: visible } }),
      heartbeatTimeoutMs: this.heartbeatTimeoutMs,
      onMessage: (message) => this.onWorkerMessage(id, message),
      onOutput: (line) => this.addLines(id, [line]),
    });
    this.live.set(id, { worker, points: [], lines: [], stepSeconds: [], rates: [], timer: undefined, epochsSent: view.epochRecords().length });
    this.save({ ...record, status: 'running', device, startedAt: Date.now(), finishedAt: null, error: null, attempts: record.attempts + 1 });
    void worker.exit.then((exit) => this.onWorkerExit(id, exit));
  }

  private onWorkerMessage(id: string, message: WorkerToHost): void {
    const run = this.live.get(id);
    const record = this.records.get(id);
    if (!run || !record) return;
    switch (message.type) {
      case 'iteration': {
        const { point, total } = message;
        run.points.push(point);
        run.rates.push(point.images_per_second);
        run.stepSeconds.push((point.data_seconds + point.step_seconds) * record.config.update_freq);
        if (run.rates.length > RATE_WINDOW) run.rates.shift();
        if (run.stepSeconds.length > RATE_WINDOW) run.stepSeconds.shift();
        // Progress lives in memory between saves; the record is written at epochs and at the end.
        this.records.set(id, { ...record, itersPerEpoch: total, step: Math.max(record.step, point.step + 1) });
        this.scheduleFlush(id);
        break;
      }
      case 'epoch':
        this.store.write(record);
        this.addLines(id, [epochSummary(message.record)]);
        this.flush(id);
        this.sendEpochs(id, run);
        this.emit('runUpdated', this.summary(record));
        break;
      case 'message':
        this.addLines(id, [message.text]);
        break;
      case 'heartbeat':
      case 'outcome':
        break;
    }
  }

  /** The host's own line in the run's console (attempts, endings), sent at once. */
  private note(id: string, text: string): void {
    const record = this.records.get(id);
    if (!record) return;
    const lines = [`[workbench] ${text}`];
    this.view(record).appendConsole(lines);
    this.emit('runLog', { id, lines });
  }

  private addLines(id: string, lines: string[]): void {
    const run = this.live.get(id);
    if (!run) return;
    run.lines.push(...lines);
    this.scheduleFlush(id);
  }

  private scheduleFlush(id: string): void {
    const run = this.live.get(id);
    if (run && !run.timer) run.timer = setTimeout(() => this.flush(id), FLUSH_MS);
  }

  /** Sends the batched iterations, console lines and progress of one run. */
  private flush(id: string): void {
    const run = this.live.get(id);
    const record = this.records.get(id);
    if (!run || !record) return;
    if (run.timer) clearTimeout(run.timer);
    run.timer = undefined;
    if (run.lines.length) {
      const lines = run.lines.splice(0);
      this.view(record).appendConsole(lines);
      this.emit('runLog', { id, lines });
    }
    if (run.points.length) {
      this.emit('runIterations', { id, points: run.points.splice(0) });
      this.emit('runUpdated', this.summary(record));
    }
  }

  /** runEpoch for the log.txt records this attempt added that were not sent yet. */
  private sendEpochs(id: string, run: LiveRun): void {
    const record = this.records.get(id);
    if (!record) return;
    const all = this.view(record).epochRecords();
    for (const added of all.slice(run.epochsSent)) this.emit('runEpoch', { id, record: added });
    run.epochsSent = all.length;
  }

  private onWorkerExit(id: string, exit: WorkerExit): void {
    this.flush(id);
    const run = this.live.get(id);
    if (run) this.sendEpochs(id, run);
    this.live.delete(id);
    if (run?.timer) clearTimeout(run.timer);
    this.queue.remove(id);
    const record = this.records.get(id);
    if (record) {
      const view = this.view(record);
      const finishedAt = Date.now();
      // An attempt that trained no step (failed at once) keeps the speed of the one before.
      const speed = run?.rates.length ? { imagesPerSecond: median(run.rates) } : {};
      let next: RunRecord;
      if ('crashed' in exit) {
        const last = view.checkpoints().find((c) => c.epoch !== null);
        const error = `${exit.crashed}; ${last ? `resume continues from ${last.name}` : 'no checkpoint was saved yet: resume starts over'}`;
        next = { ...record, ...speed, status: 'failed', error, finishedAt };
      } else if (exit.outcome.status === 'failed') {
        next = { ...record, ...speed, status: 'failed', error: exit.outcome.reason, finishedAt };
      } else {
        next = { ...record, ...speed, status: exit.outcome.status, finishedAt };
      }
      this.note(id, `${next.status}${next.error ? `: ${next.error}` : ''}`);
      this.save(next);
    }
    this.schedule();
  }
}
