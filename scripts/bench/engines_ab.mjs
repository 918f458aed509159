#!/usr/bin/env node
// Two (or more) builds of the engine A/B in one process, for before/after figures on a busy machine:
// each repeat runs every (engine, model) once in turn, so load slows all alike. A step is a forward
// (--mode infer, eval) or forward + backward + SGD-momentum step (train), batch 16 at 224x224 by default.
// Prints min and median img/s per (engine, model) and the PiX/ResNet ratio per engine; JSON to OUT.
// Usage: MODE=infer|train REPEATS=7 [OUT=file.json] node scripts/bench/engines_ab.mjs a.node b.node ...
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, loadavg } from 'node:os';

const require = createRequire(import.meta.url);
const paths = process.argv.slice(2);
const engines = paths.map((p) => require(p));
const models = (process.env.MODELS ?? 'pix_resnet50_cs,resnet50').split(',');
const mode = process.env.MODE ?? 'infer';
const batch = Number(process.env.BATCH ?? 16), size = Number(process.env.SIZE ?? 224);
const repeats = Number(process.env.REPEATS ?? 7), warmup = Number(process.env.WARMUP ?? 2);
// Random images, as pix bench's: smooth inputs make every ReLU mask and argmax predictable, which
// once hid branch mispredictions that cost real activations 20% of a training step.
let state = 12345;
const images = Float32Array.from({ length: batch * 3 * size * size }, () => {
  state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
  return state / 2 ** 31 - 1;
});
const runs = [];
for (const [e, engine] of engines.entries())
  for (const m of models) {
    const model = new engine.Model(m);
    const classes = model.numClasses;
    runs.push({
      engine: paths[e], model: m, net: model, times: [],
      x: engine.Tensor.fromArray(images, [batch, 3, size, size]),
      dlogits: engine.Tensor.fromArray(new Float32Array(batch * classes).fill(1 / classes), [batch, classes]),
      optimizer: mode === 'train' ? new engine.Optimizer(model, { type: 'momentum' }) : null,
    });
  }
async function step(r) {
  if (mode === 'infer') return r.net.forward(r.x);
  await r.net.forward(r.x, { train: true });
  await r.net.backward(r.dlogits);
  r.optimizer.step({ lr: 0.01, weightDecay: 0 });
  r.net.zeroGrad();
}
const load = [loadavg()[0]];
for (let i = -warmup; i < repeats; i++) {
  for (const r of runs) {
    const t0 = process.hrtime.bigint();
    await step(r);
    if (i >= 0) r.times.push(Number(process.hrtime.bigint() - t0) / 1e9);
  }
  load.push(loadavg()[0]);
}
const sorted = (xs) => [...xs].sort((a, b) => a - b);
for (const r of runs) {
  r.minImagesPerSecond = batch / sorted(r.times)[0];
  r.medianImagesPerSecond = batch / sorted(r.times)[r.times.length >> 1];
  console.log(`${r.engine} ${r.model}: median ${r.medianImagesPerSecond.toFixed(2)} img/s, best ${r.minImagesPerSecond.toFixed(2)}`);
}
if (models.length === 2)
  for (const path of paths) {
    const [p, q] = models.map((m) => runs.find((r) => r.engine === path && r.model === m));
    console.log(`${path}: ${models[0]} / ${models[1]} median ${(p.medianImagesPerSecond / q.medianImagesPerSecond).toFixed(3)}x, ` +
      `best ${(p.minImagesPerSecond / q.minImagesPerSecond).toFixed(3)}x`);
  }
console.log(`load average (1 min): ${load.map((l) => l.toFixed(1)).join(' ')}`);
if (process.env.OUT)
  writeFileSync(process.env.OUT, JSON.stringify({
    machine: `${cpus().length} x ${cpus()[0].model}`, date: new Date().toISOString(), mode, batch, size, repeats, warmup,
    loadAverage1m: load, runs: runs.map(({ engine, model, times, minImagesPerSecond, medianImagesPerSecond }) =>
      ({ engine, model, seconds: times, minImagesPerSecond, medianImagesPerSecond })),
  }, null, 2) + '\n');
