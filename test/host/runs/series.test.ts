// metrics.jsonl as columns: only complete lines are read, each once; a resumed run's repeated
// steps replace the lost ones; windows on the step, epoch and time axes; missing values left out;
// and the time a 1,000,000-point request takes (printed, not asserted: speed is reported, not tested).
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { IterationPoint } from '../../../shared/api';
import { MetricColumns, RunSeries, seriesWindow } from '../../../electron/host/runs/series';

function point(step: number, perEpoch = 10, overrides: Partial<IterationPoint> = {}): IterationPoint {
  return { epoch: Math.floor(step / perEpoch), step, time: 1000 + step, loss: 10 - step / 100, lr: 0.1, weight_decay: 0,
    grad_norm: 1, images_per_second: 50, data_seconds: 0.01, step_seconds: 0.1, ...overrides };
}

const line = (p: IterationPoint) => JSON.stringify(p) + '\n';

describe('RunSeries', () => {
  it('reads only complete lines, each once, and answers windows on every axis', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pix-series-'));
    const file = join(dir, 'metrics.jsonl');
    const series = new RunSeries(dir, () => 10);
    assert.equal(series.window({ metric: 'loss', axis: 'step', maxPoints: 10 }).totalPoints, 0);
    writeFileSync(file, [0, 1, 2].map((s) => line(point(s))).join('') + line(point(3)).slice(0, 20));
    assert.equal(series.refresh().length, 3);
    appendFileSync(file, line(point(3)).slice(20) + line(point(4)));
    assert.deepEqual(series.refresh().map((p) => p.step), [3, 4]);
    assert.deepEqual(series.refresh(), []);

    for (let s = 5; s < 40; s++) appendFileSync(file, line(point(s)));
    const all = series.window({ metric: 'loss', axis: 'step', maxPoints: 1000 });
    assert.equal(all.totalPoints, 40);
    assert.deepEqual([all.xMin, all.xMax], [0, 39]);
    const window = series.window({ metric: 'loss', axis: 'step', from: 10, to: 19.5, maxPoints: 1000 });
    assert.deepEqual(window.x, [10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
    assert.equal(window.windowPoints, 10);
    const epochs = series.window({ metric: 'lr', axis: 'epoch', from: 1, to: 1.25, maxPoints: 1000 });
    assert.deepEqual(epochs.x, [1, 1.1, 1.2]);
    const times = series.window({ metric: 'loss', axis: 'time', from: 1035, maxPoints: 1000 });
    assert.deepEqual(times.x, [1035, 1036, 1037, 1038, 1039]);
    const down = series.window({ metric: 'loss', axis: 'step', maxPoints: 5 });
    assert.equal(down.x.length, 5);
    assert.deepEqual([down.x[0], down.x.at(-1)], [0, 39]);
  });

  it('replaces steps a resumed run repeats, keeping x ascending', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pix-series-'));
    writeFileSync(join(dir, 'metrics.jsonl'), [0, 1, 2, 3, 4, 5, 6].map((s) => line(point(s))).join('') +
      [4, 5, 6, 7].map((s) => line(point(s, 10, { loss: 100 + s }))).join('') + [7, 8].map((s) => line(point(s, 10, { loss: 200 + s }))).join(''));
    const series = new RunSeries(dir, () => 10).window({ metric: 'loss', axis: 'step', maxPoints: 100 });
    assert.deepEqual(series.x, [0, 1, 2, 3, 4, 5, 6, 7, 8]);
    assert.deepEqual(series.y.slice(4), [104, 105, 106, 207, 208]);
  });

  it('keeps the micro-batches of one accumulated step (no gradient norm until its last)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pix-series-'));
    const micro = (step: number, last: boolean) => line(point(step, 10, { grad_norm: last ? 1 : null }));
    writeFileSync(join(dir, 'metrics.jsonl'), micro(0, false) + micro(0, true) + micro(1, false) + micro(1, true));
    assert.equal(new RunSeries(dir, () => 10).window({ metric: 'loss', axis: 'step', maxPoints: 100 }).totalPoints, 4);
  });

  it('leaves out iterations without a value (grad_norm on accumulation micro-steps)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pix-series-'));
    writeFileSync(join(dir, 'metrics.jsonl'), [0, 1, 2, 3].map((s) => line(point(s, 10, { grad_norm: s % 2 ? 2 : null }))).join(''));
    const series = new RunSeries(dir, () => 10).window({ metric: 'grad_norm', axis: 'step', maxPoints: 100 });
    assert.deepEqual(series.x, [1, 3]);
    assert.equal(series.totalPoints, 4);
  });

  it('starts over when the file was replaced by a shorter one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pix-series-'));
    const file = join(dir, 'metrics.jsonl');
    writeFileSync(file, [0, 1, 2, 3].map((s) => line(point(s))).join(''));
    const series = new RunSeries(dir, () => 10);
    series.refresh();
    writeFileSync(file, line(point(0, 10, { loss: 7 })));
    const after = series.window({ metric: 'loss', axis: 'step', maxPoints: 100 });
    assert.deepEqual([after.totalPoints, after.y[0]], [1, 7]);
  });

  it('downsamples a 1,000,000-point series quickly', () => {
    const columns = new MetricColumns();
    for (let s = 0; s < 1_000_000; s++) columns.append(point(s, 5000, { epoch: s / 5000, loss: Math.sin(s / 1000) + (s % 997 === 0 ? 3 : 0) }));
    const started = performance.now();
    const whole = seriesWindow(columns, { metric: 'loss', axis: 'step', maxPoints: 2000 });
    const wholeMs = performance.now() - started;
    const zoomStart = performance.now();
    const zoom = seriesWindow(columns, { metric: 'loss', axis: 'epoch', from: 50, to: 60, maxPoints: 2000 });
    const zoomMs = performance.now() - zoomStart;
    assert.equal(whole.x.length, 2000);
    assert.equal(zoom.windowPoints, 50_001);
    console.log(`# 1M-point series: whole range to 2000 points in ${wholeMs.toFixed(1)} ms, a 50k-point zoom in ${zoomMs.toFixed(1)} ms`);
  });
});
