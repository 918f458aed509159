#!/usr/bin/env node
// The CPU comparison, one command: our engine and PyTorch (scripts/bench/torch_cpu.py, Debian's
// python3-torch) on the same networks, batch and input size, on this machine, step by step. A
// shared host's speed drifts by ±10% within minutes, which once decided the ratios more than the
// engines did; so each network of each side waits in its own process (ours:
// scripts/bench/engine_serve.mjs; PyTorch: torch_cpu.py --serve), fresh for each mode, and this
// script asks them for one timed step at a time, every configuration in turn, the order of the two
// sides alternating from repeat to repeat. Every figure is a median over the repeats (and, beside
// it, the best step's); the ratios compare figures taken over the same minutes.
// Writes the JSON (default benchmarks/cpu/latest.json).
// Usage (after `npm run build:ts`): node scripts/bench/cpu_compare.mjs [--repeats 9] [--warmup 2] [--out file.json]
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
// pix bench's median (the upper middle of an even count), for figures comparable with its own.
const { median } = createRequire(import.meta.url)('../../dist/electron/host/bench/throughput.js');
const { values: args } = parseArgs({
  options: {
    repeats: { type: 'string', default: '9' },
    warmup: { type: 'string', default: '2' },
    out: { type: 'string', default: join(root, 'benchmarks', 'cpu', 'latest.json') },
  },
});
const count = (name, min) => {
  const value = Number(args[name]);
  if (!Number.isInteger(value) || value < min) throw new Error(`--${name} must be an integer >= ${min}, got '${args[name]}'`);
  return value;
};
const repeats = count('repeats', 1), warmup = count('warmup', 0);
const MODELS = ['pix_resnet50_cs', 'resnet50'];
const MODES = ['train', 'infer'];
const BATCH = 16, SIZE = 224;

// A child that answers one JSON line per JSON line sent.
function server(command, argv) {
  const child = spawn(command, argv, { cwd: root, stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async () => {
    const { value, done } = await lines.next();
    if (done) throw new Error(`${command} ${argv.join(' ')} exited before answering`);
    return JSON.parse(value);
  };
  return {
    first: next(),
    ask: (request) => (child.stdin.write(JSON.stringify(request) + '\n'), next()),
    close: () => child.stdin.end(),
  };
}

const oursServer = (model) => server(process.execPath, [join(root, 'scripts', 'bench', 'engine_serve.mjs'), model, String(BATCH), String(SIZE)]);
const torchServer = () => server('/usr/bin/python3', [join(root, 'scripts', 'bench', 'torch_cpu.py'), '--serve', '--batch_size', String(BATCH), '--input_size', String(SIZE)]);

const samples = {};  // `${side} ${model} ${mode}` -> seconds per step
const peak = {};     // our peak resident memory per model and mode
const loads = [];
let torchInfo;
for (const mode of MODES) {
  // A fresh process per network and mode on both sides: each peak is then that network's, and
  // neither network runs in a heap the other shaped (PyTorch's ResNet-50 training step is 25%
  // faster right after its PiX step in the same process, glibc's malloc having kept the memory).
  const ours = Object.fromEntries(MODELS.map((m) => [m, oursServer(m)]));
  const torch = Object.fromEntries(MODELS.map((m) => [m, torchServer()]));
  for (const m of MODELS) await ours[m].first, torchInfo = await torch[m].first;
  for (let i = -warmup; i < repeats; i++) {
    loads.push(loadavg()[0]);
    const sides = i % 2 === 0 ? ['ours', 'torch'] : ['torch', 'ours'];
    for (const model of MODELS)
      for (const side of sides) {
        const reply = await (side === 'ours' ? ours : torch)[model].ask({ model, mode });
        if (i < 0) continue;
        (samples[`${side} ${model} ${mode}`] ??= []).push(reply.seconds);
        if (side === 'ours') peak[`${model} ${mode}`] = reply.peakRssBytes;
      }
    console.error(`${mode} repeat ${i + 1 + warmup} of ${warmup + repeats} done`);
  }
  for (const m of MODELS) ours[m].close(), torch[m].close();
}

// Images/s from the median step, and from the best (the step least disturbed by the host).
const speed = (side, model, mode) => BATCH / median(samples[`${side} ${model} ${mode}`]);
const best = (side, model, mode) => BATCH / Math.min(...samples[`${side} ${model} ${mode}`]);
const rows = MODES.flatMap((mode) => MODELS.map((model) => ({
  model, mode, ours: speed('ours', model, mode), torch: speed('torch', model, mode),
  oursOverTorch: speed('ours', model, mode) / speed('torch', model, mode),
  oursBest: best('ours', model, mode), torchBest: best('torch', model, mode),
  oursOverTorchBest: best('ours', model, mode) / best('torch', model, mode),
  oursPeakMiB: peak[`${model} ${mode}`] / 2 ** 20,
})));
const pixOverResnet = Object.fromEntries(MODES.map((mode) => [mode, {
  ours: speed('ours', 'pix_resnet50_cs', mode) / speed('ours', 'resnet50', mode),
  torch: speed('torch', 'pix_resnet50_cs', mode) / speed('torch', 'resnet50', mode),
  oursBest: best('ours', 'pix_resnet50_cs', mode) / best('ours', 'resnet50', mode),
  torchBest: best('torch', 'pix_resnet50_cs', mode) / best('torch', 'resnet50', mode),
}]));

const f = (x) => x.toFixed(2).padStart(6);
console.log('median step (best step)');
for (const r of rows)
  console.log(`${r.mode.padEnd(5)} ${r.model.padEnd(16)} ours ${f(r.ours)} (${f(r.oursBest)}) img/s  torch ${f(r.torch)} (${f(r.torchBest)}) img/s  ` +
    `ours/torch ${r.oursOverTorch.toFixed(2)}x (${r.oursOverTorchBest.toFixed(2)}x)  peak ${r.oursPeakMiB.toFixed(0)} MiB`);
for (const [mode, v] of Object.entries(pixOverResnet))
  console.log(`${mode}: PiX/ResNet ours ${v.ours.toFixed(2)}x (${v.oursBest.toFixed(2)}x), torch ${v.torch.toFixed(2)}x (${v.torchBest.toFixed(2)}x)`);
const result = {
  machine: `${cpus().length} x ${cpus()[0].model}`, date: new Date().toISOString(), torch: torchInfo.torch,
  batchSize: BATCH, inputSize: SIZE, warmup, repeats, loadAverage: { min: Math.min(...loads), max: Math.max(...loads) },
  rows, pixOverResnet, samples,
};
mkdirSync(dirname(args.out), { recursive: true });
writeFileSync(args.out, JSON.stringify(result, null, 2) + '\n');
console.log(`load average ${result.loadAverage.min.toFixed(1)}-${result.loadAverage.max.toFixed(1)}; wrote ${args.out}`);
