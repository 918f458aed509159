#!/usr/bin/env node
// Folded BatchNorm against BatchNorm as a layer, CPU inference, A/B in one process: each repeat runs
// every (model, variant) once in turn, so a busy machine slows all of them alike. Prints the median
// img/s of each and the PiX/ResNet ratios; writes the JSON to argument 1 if given.
// Usage: [PIX_ENGINE_PATH=...] node scripts/bench/fold_ab.mjs [out.json] (after `npx tsc`).
// Env: BATCH (16), SIZE (224), REPEATS (7), WARMUP (2), MODELS (pix_resnet50_cs,resnet50).
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const { loadEngine } = await import(join(root, 'dist', 'electron', 'host', 'engine', 'addon.js'));
const engine = loadEngine();
const batch = Number(process.env.BATCH ?? 16), size = Number(process.env.SIZE ?? 224);
const repeats = Number(process.env.REPEATS ?? 7), warmup = Number(process.env.WARMUP ?? 2);
const models = (process.env.MODELS ?? 'pix_resnet50_cs,resnet50').split(',');
const variants = { folded: { foldBatchNorm: true }, layers: { foldBatchNorm: false } };

// Seeded uniform values: the same images for every run.
let state = 12345;
const x = engine.Tensor.fromArray(Float32Array.from({ length: batch * 3 * size * size }, () => {
  state = (state * 1103515245 + 12345) % 2 ** 31;
  return state / 2 ** 30 - 1;
}), [batch, 3, size, size]);

const nets = Object.fromEntries(models.map((m) => [m, new engine.Model(m)]));
const times = {};
const load = [loadavg()[0]];
for (let r = -warmup; r < repeats; r++) {
  for (const m of models)
    for (const [v, options] of Object.entries(variants)) {
      const t0 = process.hrtime.bigint();
      await nets[m].forward(x, options);
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      if (r >= 0) (times[`${m} ${v}`] ??= []).push(seconds);
    }
  load.push(loadavg()[0]);
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const rate = Object.fromEntries(Object.entries(times).map(([k, ts]) => [k, batch / median(ts)]));
for (const [k, v] of Object.entries(rate)) console.log(`${k.padEnd(24)} ${v.toFixed(2).padStart(7)} img/s`);
if (models.length === 2)
  for (const v of Object.keys(variants))
    console.log(`${v}: ${models[0]} / ${models[1]} = ${(rate[`${models[0]} ${v}`] / rate[`${models[1]} ${v}`]).toFixed(3)}x`);
for (const m of models) console.log(`${m}: folded / layers = ${(rate[`${m} folded`] / rate[`${m} layers`]).toFixed(3)}x`);
console.log(`load average (1 min) during the run: ${load.map((l) => l.toFixed(1)).join(' ')}`);
if (process.argv[2]) {
  const out = { machine: `${cpus().length} x ${cpus()[0].model}`, date: new Date().toISOString(), batch, size, repeats,
    warmup, loadAverage1m: load, imagesPerSecond: rate, seconds: times };
  writeFileSync(process.argv[2], JSON.stringify(out, null, 2) + '\n');
}
