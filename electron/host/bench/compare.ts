// The workbench's throughput comparison: PiX and ResNet networks × batch sizes measured in one
// child process (compare_worker.ts, models interleaved repeat by repeat), progress pushed as each
// step is timed. The report grows as it goes: once a model's last repeat at a batch size is timed,
// its measurement (the images/s of every repeat with min/median/max and the median latency) joins
// the report the next progress event carries, so results show while later models are still timed;
// per PiX/ResNet pair, the speed-up beside the ratio of their MACs (what the speed-up should be if
// time followed arithmetic) joins once both are measured. One comparison at a time,
// since each uses the whole machine; finished, failed and cancelled reports are appended to
// <home>/throughput.jsonl. Starting one while another runs, or cancelling one that is not running,
// is refused with a RequestError (409; 404 for an id never seen).
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ThroughputMeasurement, ThroughputReport, ThroughputSlot } from '../../../shared/api';
import type { Emit } from '../host_events';
import { RequestError } from '../request_error';
import { JsonLinesReader } from '../runs/jsonl_reader';
import type { BuiltModel, CompareMessage, CompareRequest } from './compare_worker';
import { median } from './throughput';

/** The ResNet a PiX network is compared with: pix_resnet50_cs ↔ resnet50, pix_resnet_tiny_cs ↔ resnet_tiny. */
export function resnetCounterpart(pixName: string): string | null {
  const match = /^pix_(.+)_cs$/.exec(pixName);
  return match ? match[1]! : null;
}

export function pairRatios(measurements: ThroughputMeasurement[]): ThroughputReport['ratios'] {
  const ratios: ThroughputReport['ratios'] = [];
  for (const pix of measurements) {
    const counterpart = resnetCounterpart(pix.model);
    const resnet = measurements.find((m) => m.model === counterpart && m.batchSize === pix.batchSize);
    if (!resnet) continue;
    ratios.push({ batchSize: pix.batchSize, pix: pix.model, resnet: resnet.model, speedup: pix.median / resnet.median, macRatio: resnet.macs / pix.macs });
  }
  return ratios;
}

/** One model's measurement at one batch size from its timed steps (seconds per batch). */
export function measurement(model: BuiltModel, batchSize: number, seconds: number[]): ThroughputMeasurement {
  const rates = seconds.map((s) => batchSize / s);
  return { model: model.name, batchSize, samples: rates, min: Math.min(...rates), median: median(rates), max: Math.max(...rates),
    latencyMs: median(seconds) * 1000, parameters: model.parameters, macs: model.macs };
}

export class ThroughputComparisons {
  private running: { report: ThroughputReport; child: ChildProcess; cancelled: boolean } | undefined;
  private readonly historyFile: string;

  constructor(home: string, private readonly emit: Emit, private readonly script = join(__dirname, 'compare_worker.js')) {
    this.historyFile = join(home, 'throughput.jsonl');
  }

  start(request: CompareRequest): ThroughputReport {
    if (this.running) throw new RequestError(409, `comparison ${this.running.report.id} is still running: cancel it or wait for it`);
    const report: ThroughputReport = {
      id: `${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`, startedAt: Date.now(), finishedAt: null,
      device: request.device, precision: request.precision, mode: request.mode, inputSize: request.inputSize,
      measurements: [], ratios: [], error: null,
    };
    const total = request.models.length * request.batchSizes.length * request.repeats;
    const samples = new Map<string, number[]>();  // `${requested model}@${batch}` -> seconds
    let models: BuiltModel[] = [];  // known once the worker has built them, before the first sample
    const measuring = (): ThroughputSlot[] => request.batchSizes.flatMap((batchSize) => models
      .filter((m) => !report.measurements.some((done) => done.model === m.name && done.batchSize === batchSize))
      .map((m) => ({ model: m.name, batchSize })));
    let done = 0;
    let finished = false;
    let workerError: string | null = null;
    const child = fork(this.script, [], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-2000);
    });
    this.running = { report, child, cancelled: false };
    child.on('message', (message: CompareMessage) => {
      if (message.type === 'models') {
        models = message.models;
      } else if (message.type === 'sample') {
        const key = `${message.model}@${message.batchSize}`;
        samples.set(key, [...(samples.get(key) ?? []), message.seconds]);
        done++;
        if (message.repeat === request.repeats - 1) {
          const model = models.find((m) => m.requested === message.model)!;
          report.measurements.push(measurement(model, message.batchSize, samples.get(key)!));
          report.ratios = pairRatios(report.measurements);
        }
        this.emit('throughputProgress', { report, done, total, measuring: measuring(),
          current: `${message.model} batch ${message.batchSize}, repeat ${message.repeat + 1}/${request.repeats}` });
      } else if (message.type === 'parts') {
        const name = models.find((m) => m.requested === message.model)!.name;
        const profiled = report.measurements.find((m) => m.model === name && m.batchSize === message.batchSize)!;
        profiled.parts = message.parts;
      } else if (message.type === 'error') {
        workerError = message.error;
      } else {
        finished = true;
      }
    });
    child.once('exit', (code, signal) => {
      const cancelled = this.running?.cancelled ?? false;
      this.running = undefined;
      report.finishedAt = Date.now();
      if (cancelled) report.error = 'cancelled';
      else if (workerError) report.error = workerError;
      else if (!finished) {
        report.error = `the benchmark process ${signal ? `was killed by ${signal}` : `exited with code ${code}`}` + (stderr.trim() ? `: ${stderr.trim().split('\n').slice(-3).join(' ')}` : '');
      }
      appendFileSync(this.historyFile, JSON.stringify(report) + '\n');
      this.emit('throughputDone', report);
    });
    child.send(request);
    return report;
  }

  cancel(id: string): ThroughputReport {
    if (!this.running || this.running.report.id !== id) {
      const ended = this.history().find((report) => report.id === id);
      if (!ended) throw new RequestError(404, `no comparison with id '${id}'`);
      throw new RequestError(409, `comparison ${id} is not running: it ${ended.error === 'cancelled' ? 'was cancelled' : ended.error ? 'failed' : 'finished'}`);
    }
    this.running.cancelled = true;
    this.running.child.kill('SIGKILL');
    return this.running.report;
  }

  /** Every finished comparison, oldest first. */
  history(): ThroughputReport[] {
    return new JsonLinesReader<ThroughputReport>(this.historyFile).read().lines;
  }

  close(): void {
    this.running?.child.kill('SIGKILL');
  }
}
