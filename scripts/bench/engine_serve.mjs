#!/usr/bin/env node
// Our side of cpu_compare.mjs's interleaved steps: one network in this process (so that the peak
// memory reported is that network's), the step `pix bench` times (electron/host/bench/throughput.ts).
// Prints {"ready": true} once built; then each JSON line {"mode": "train"|"infer"} on stdin runs one
// step and gets {"seconds", "peakRssBytes", "pageFaults", "userSeconds", "systemSeconds"} back (the
// last three over the step: CPU time another process takes shows as seconds without them). Idle
// between requests.
// Usage (after `npm run build:ts`): node scripts/bench/engine_serve.mjs MODEL [BATCH=16] [SIZE=224]
import { createRequire } from 'node:module';
import { createInterface } from 'node:readline';

const require = createRequire(import.meta.url);
const { loadEngine } = require('../../dist/electron/host/engine/addon.js');
const { step, syntheticImages, oneHotTargets } = require('../../dist/electron/host/bench/throughput.js');

const [name, batch = '16', size = '224'] = process.argv.slice(2);
if (!name) throw new Error('usage: engine_serve.mjs MODEL [BATCH] [SIZE]');
const engine = loadEngine();
const model = new engine.Model(name);
const optimizer = new engine.Optimizer(model, { type: 'momentum', momentum: 0.9 });
const x = syntheticImages(Number(batch), Number(size));
const targets = oneHotTargets(Number(batch), model.numClasses);
const reply = (value) => process.stdout.write(JSON.stringify(value) + '\n');
reply({ ready: true });
for await (const line of createInterface({ input: process.stdin })) {
  const { mode } = JSON.parse(line);
  const before = process.resourceUsage(), start = process.hrtime.bigint();
  await step(model, mode, x, targets, optimizer);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9, after = process.resourceUsage();
  reply({ seconds, peakRssBytes: after.maxRSS * 1024, pageFaults: after.minorPageFault - before.minorPageFault,
    systemSeconds: (after.systemCPUTime - before.systemCPUTime) / 1e6, userSeconds: (after.userCPUTime - before.userCPUTime) / 1e6 });
}
