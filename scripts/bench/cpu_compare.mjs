#!/usr/bin/env node
// The CPU comparison, one command: `pix bench` and PyTorch (scripts/bench/torch_cpu.py, Debian's
// python3-torch) on the same networks, batch and input size, on this machine. A shared host drifts
// by ±10% over minutes, so the two sides run in interleaved rounds (ours then PyTorch, then PyTorch
// then ours, ...) and each ratio is taken within a round; the summary is the median over rounds.
// Prints each round and the summary, and writes the JSON (default benchmarks/cpu/latest.json).
// Usage: node scripts/bench/cpu_compare.mjs [--rounds 3] [--out file.json]
import { execFileSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const { values: args } = parseArgs({
  options: { rounds: { type: 'string', default: '3' }, out: { type: 'string', default: join(root, 'benchmarks', 'cpu', 'latest.json') } },
});
const rounds = Number(args.rounds);
if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`--rounds must be a positive integer, got '${args.rounds}'`);
const MODELS = ['pix_resnet50_cs', 'resnet50'];
const MODES = ['train', 'infer'];
const common = ['--models', MODELS.join(','), '--batch_size', '16', '--input_size', '224', '--mode', 'both'];

const runOurs = () => JSON.parse(execFileSync(process.execPath, [join(root, 'bin', 'pix.js'), 'bench', ...common, '--json'],
  { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }));
const runTorch = () => JSON.parse(execFileSync('/usr/bin/python3', [join(root, 'scripts', 'bench', 'torch_cpu.py'), ...common],
  { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }));

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const speed = (run, model, mode) => run.results.find((r) => r.model === model && r.mode === mode).imagesPerSecond;

// One round's figures: images/s of both sides, ours over PyTorch, PiX over ResNet.
function summarise(ours, torch) {
  const rows = [];
  for (const mode of MODES)
    for (const model of MODELS) {
      const mine = ours.results.find((r) => r.model === model && r.mode === mode);
      rows.push({ model, mode, ours: mine.imagesPerSecond, torch: speed(torch, model, mode),
        oursOverTorch: mine.imagesPerSecond / speed(torch, model, mode), oursPeakMiB: mine.peakRssBytes / 2 ** 20 });
    }
  const pixOverResnet = Object.fromEntries(MODES.map((mode) => [mode, {
    ours: speed(ours, 'pix_resnet50_cs', mode) / speed(ours, 'resnet50', mode),
    torch: speed(torch, 'pix_resnet50_cs', mode) / speed(torch, 'resnet50', mode),
  }]));
  return { rows, pixOverResnet };
}

const print = (label, { rows, pixOverResnet }) => {
  console.log(label);
  for (const r of rows)
    console.log(`  ${r.mode.padEnd(5)} ${r.model.padEnd(16)} ours ${r.ours.toFixed(2).padStart(6)} img/s  torch ${r.torch.toFixed(2).padStart(6)} img/s  ` +
      `ours/torch ${r.oursOverTorch.toFixed(2)}x  peak ${r.oursPeakMiB.toFixed(0)} MiB`);
  for (const [mode, v] of Object.entries(pixOverResnet)) console.log(`  ${mode}: PiX/ResNet ours ${v.ours.toFixed(2)}x, torch ${v.torch.toFixed(2)}x`);
};

const done = [];
for (let i = 0; i < rounds; i++) {
  const load = loadavg()[0];
  const started = new Date().toISOString();
  let ours, torch;
  if (i % 2 === 0) ours = runOurs(), torch = runTorch();
  else torch = runTorch(), ours = runOurs();
  const round = { started, loadAtStart: load, first: i % 2 === 0 ? 'ours' : 'torch', ...summarise(ours, torch), ours, pytorch: torch };
  done.push(round);
  print(`round ${i + 1} of ${rounds} (${started}, ${round.first} first, load ${load.toFixed(1)})`, round);
}

// The median over rounds of every figure, each ratio taken within its round.
const summary = {
  rows: done[0].rows.map((row, j) => ({
    model: row.model, mode: row.mode,
    ...Object.fromEntries(['ours', 'torch', 'oursOverTorch', 'oursPeakMiB'].map((key) => [key, median(done.map((r) => r.rows[j][key]))])),
  })),
  pixOverResnet: Object.fromEntries(MODES.map((mode) => [mode, {
    ours: median(done.map((r) => r.pixOverResnet[mode].ours)), torch: median(done.map((r) => r.pixOverResnet[mode].torch)),
  }])),
};
if (rounds > 1) print(`median of ${rounds} rounds`, summary);
const result = { machine: `${cpus().length} x ${cpus()[0].model}`, date: new Date().toISOString(), torch: done[0].pytorch.torch,
  rounds: done.length, ...summary, perRound: done };
mkdirSync(dirname(args.out), { recursive: true });
writeFileSync(args.out, JSON.stringify(result, null, 2) + '\n');
console.log(`wrote ${args.out}`);
