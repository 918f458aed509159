// The throughput comparison in its child process with the tiny networks: progress per timed step,
// each model's measurement in the progress as soon as its repeats are timed, a report with every
// repeat, the PiX/ResNet speed-up beside the MAC ratio, the history file; the
// per-block profile when asked for; a cancel that ends it at once; a device the engine cannot use,
// reported as the report's error.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { ThroughputReport, WorkbenchEvent, WorkbenchEvents } from '../../../shared/api';
import { pairRatios, resnetCounterpart, ThroughputComparisons } from '../../../electron/host/bench/compare';
import type { CompareRequest } from '../../../electron/host/bench/compare_worker';
import { loadEngine } from '../../../electron/host/engine/addon';
import { RequestError } from '../../../electron/host/request_error';

function harness() {
  const events: { event: WorkbenchEvent; payload: unknown }[] = [];
  let finished: (report: ThroughputReport) => void = () => {};
  const done = new Promise<ThroughputReport>((resolve) => { finished = resolve; });
  const comparisons = new ThroughputComparisons(mkdtempSync(join(tmpdir(), 'pix-home-')), (event, payload) => {
    // A copy, as IPC and the WebSocket send: the host keeps growing the running report in place.
    events.push({ event, payload: structuredClone(payload) });
    if (event === 'throughputDone') finished(payload as ThroughputReport);
  });
  return { comparisons, events, done };
}

const request: CompareRequest = { models: ['pix_resnet_tiny_cs', 'resnet_tiny'], device: 'cpu', precision: 'fp32', mode: 'infer',
  batchSizes: [2, 4], inputSize: 32, repeats: 3 };

describe('throughput comparison', () => {
  it('pairs each PiX network with its ResNet', () => {
    assert.equal(resnetCounterpart('pix_resnet50_cs'), 'resnet50');
    assert.equal(resnetCounterpart('pix_resnet_tiny_cs'), 'resnet_tiny');
    assert.equal(resnetCounterpart('resnet50'), null);
    const m = (model: string, median: number, macs: number) => ({ model, batchSize: 8, samples: [median], min: median, median, max: median, latencyMs: 1, parameters: 1, macs });
    assert.deepEqual(pairRatios([m('pix_resnet50_cs', 150, 3), m('resnet50', 100, 4)]), [{ batchSize: 8, pix: 'pix_resnet50_cs', resnet: 'resnet50', speedup: 1.5, macRatio: 4 / 3 }]);
  });

  it('measures the models interleaved and reports spread, latency and ratios', async () => {
    const h = harness();
    const started = h.comparisons.start(request);
    assert.equal(started.finishedAt, null);
    assert.throws(() => h.comparisons.start(request), /is still running/);
    const report = await h.done;
    assert.equal(report.error, null);
    const progress = h.events.filter((e) => e.event === 'throughputProgress').map((e) => e.payload as { done: number; total: number; current: string });
    assert.deepEqual(progress.map((p) => p.done), Array.from({ length: 12 }, (_, i) => i + 1));
    assert.ok(progress.every((p) => p.total === 12));
    // Interleaved: the two models alternate within each batch size.
    assert.deepEqual(progress.slice(0, 4).map((p) => p.current.split(' ')[0]), ['pix_resnet_tiny_cs', 'resnet_tiny', 'pix_resnet_tiny_cs', 'resnet_tiny']);
    assert.equal(report.measurements.length, 4);
    for (const m of report.measurements) {
      assert.equal(m.samples.length, 3);
      assert.ok(m.min <= m.median && m.median <= m.max);
      assert.ok(Math.abs(m.latencyMs - (1000 * m.batchSize) / m.median) / m.latencyMs < 1e-9);
    }
    const engine = loadEngine();
    const macRatio = new engine.Model('resnet_tiny').macs(32) / new engine.Model('pix_resnet_tiny_cs').macs(32);
    assert.deepEqual(report.ratios.map((r) => r.batchSize), [2, 4]);
    for (const r of report.ratios) assert.ok(Math.abs(r.macRatio - macRatio) < 1e-12);
    const history = h.comparisons.history();
    assert.deepEqual(history.map((r) => r.id), [report.id]);
    for (const r of report.ratios) console.log(`# tiny networks, CPU fp32 infer, batch ${r.batchSize}: PiX/ResNet ${r.speedup.toFixed(2)}x, MAC ratio ${r.macRatio.toFixed(2)}`);
  });

  it('puts each model\'s measurement in the progress as soon as its repeats are timed', async () => {
    const h = harness();
    h.comparisons.start({ ...request, batchSizes: [2, 4], repeats: 2 });
    const final = await h.done;
    const progress = h.events.filter((e) => e.event === 'throughputProgress').map((e) => e.payload as WorkbenchEvents['throughputProgress']);
    const measured = (p: WorkbenchEvents['throughputProgress']) => p.report.measurements.map((m) => `${m.model}@${m.batchSize}`);
    // Steps: pix, resnet (repeat 1), pix, resnet (repeat 2), at batch 2 and then at batch 4.
    assert.deepEqual(progress.map(measured), [
      [], [], ['pix_resnet_tiny_cs@2'], ['pix_resnet_tiny_cs@2', 'resnet_tiny@2'],
      ['pix_resnet_tiny_cs@2', 'resnet_tiny@2'], ['pix_resnet_tiny_cs@2', 'resnet_tiny@2'],
      ['pix_resnet_tiny_cs@2', 'resnet_tiny@2', 'pix_resnet_tiny_cs@4'], ['pix_resnet_tiny_cs@2', 'resnet_tiny@2', 'pix_resnet_tiny_cs@4', 'resnet_tiny@4'],
    ]);
    assert.deepEqual(progress[2]!.measuring, [{ model: 'resnet_tiny', batchSize: 2 }, { model: 'pix_resnet_tiny_cs', batchSize: 4 }, { model: 'resnet_tiny', batchSize: 4 }]);
    assert.deepEqual(progress.at(-1)!.measuring, []);
    assert.equal(progress[2]!.report.measurements[0]!.samples.length, 2);
    assert.deepEqual(progress[2]!.report.ratios, []);
    assert.deepEqual(progress[3]!.report.ratios.map((r) => r.batchSize), [2]);
    assert.equal(progress[2]!.report.finishedAt, null);
    // The finished report holds the same measurements, in the same order.
    assert.deepEqual(final.measurements, progress.at(-1)!.report.measurements);
  });

  it('times every block of each network when asked, and only then', async () => {
    const h = harness();
    h.comparisons.start({ ...request, mode: 'train', batchSizes: [2], repeats: 1, profile: true });
    const report = await h.done;
    assert.equal(report.error, null);
    const engine = loadEngine();
    for (const m of report.measurements) {
      const blocks = new engine.Model(m.model).stateEntries().map((e) => /^layer\d\.(blocks\.)?\d+/.exec(e.key)?.[0]);
      assert.deepEqual(m.parts!.map((p) => p.name), ['stem', ...new Set(blocks.filter((b) => b !== undefined)), 'head']);
      for (const p of m.parts!) assert.ok(p.forwardMs > 0 && p.backwardMs > 0, `${m.model} ${p.name}`);
    }
    assert.equal(report.measurements.length, 2);
    const plain = harness();
    plain.comparisons.start({ ...request, batchSizes: [2], repeats: 1 });
    assert.ok((await plain.done).measurements.every((m) => m.parts === undefined));
  });

  it('cancels a running comparison at once', async () => {
    const h = harness();
    const report = h.comparisons.start({ ...request, repeats: 100, batchSizes: [8] });
    while (!h.events.some((e) => e.event === 'throughputProgress' || e.event === 'throughputDone')) await new Promise((r) => setTimeout(r, 10));
    assert.ok(!h.events.some((e) => e.event === 'throughputDone'), JSON.stringify(h.events.at(-1)));
    h.comparisons.cancel(report.id);
    const done = await h.done;
    assert.equal(done.error, 'cancelled');
    assert.throws(() => h.comparisons.cancel(report.id),
      (e: unknown) => e instanceof RequestError && e.status === 409 && e.message === `comparison ${report.id} is not running: it was cancelled`);
    assert.throws(() => h.comparisons.cancel('nope'), (e: unknown) => e instanceof RequestError && e.status === 404 && e.message === "no comparison with id 'nope'");
  });

  it('reports a device the engine cannot use as the error', async () => {
    const h = harness();
    h.comparisons.start({ ...request, device: 'cuda:99' });
    const report = await h.done;
    assert.match(report.error!, /cuda/i);
    assert.deepEqual(report.measurements, []);
  });
});
