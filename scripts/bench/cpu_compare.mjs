#!/usr/bin/env node
// The CPU comparison, one command: `pix bench` and PyTorch (scripts/bench/torch_cpu.py, Debian's
// python3-torch) on the same networks, batch and input size, run one after the other on this
// machine; prints the table and writes the combined JSON (argument 1, default
// benchmarks/cpu/latest.json). Usage: node scripts/bench/cpu_compare.mjs [out.json]
import { execFileSync } from 'node:child_process';
import { cpus } from 'node:os';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const out = process.argv[2] ?? join(root, 'benchmarks', 'cpu', 'latest.json');
const common = ['--models', 'pix_resnet50_cs,resnet50', '--batch_size', '16', '--input_size', '224', '--mode', 'both'];

const ours = JSON.parse(execFileSync(process.execPath, [join(root, 'bin', 'pix.js'), 'bench', ...common, '--json'],
  { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }));
const torch = JSON.parse(execFileSync('/usr/bin/python3', [join(root, 'scripts', 'bench', 'torch_cpu.py'), ...common],
  { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }));

const rows = [];
for (const r of ours.results) {
  const t = torch.results.find((x) => x.model === r.model && x.mode === r.mode);
  rows.push({ model: r.model, mode: r.mode, ours: r.imagesPerSecond, torch: t.imagesPerSecond,
    oursOverTorch: r.imagesPerSecond / t.imagesPerSecond, oursPeakMiB: r.peakRssBytes / 2 ** 20 });
}
const pixOverResnet = Object.fromEntries(['train', 'infer'].map((mode) => {
  const get = (model, key) => rows.find((r) => r.model === model && r.mode === mode)[key];
  return [mode, { ours: get('pix_resnet50_cs', 'ours') / get('resnet50', 'ours'), torch: get('pix_resnet50_cs', 'torch') / get('resnet50', 'torch') }];
}));
const summary = { machine: `${cpus().length} x ${cpus()[0].model}`, date: new Date().toISOString(), torch: torch.torch, rows, pixOverResnet, ours, pytorch: torch };
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, JSON.stringify(summary, null, 2) + '\n');
for (const r of rows) {
  console.log(`${r.mode.padEnd(5)} ${r.model.padEnd(16)} ours ${r.ours.toFixed(2).padStart(6)} img/s  torch ${r.torch.toFixed(2).padStart(6)} img/s  ` +
    `ours/torch ${r.oursOverTorch.toFixed(2)}x  peak ${r.oursPeakMiB.toFixed(0)} MiB`);
}
for (const [mode, v] of Object.entries(pixOverResnet)) console.log(`${mode}: PiX/ResNet ours ${v.ours.toFixed(2)}x, torch ${v.torch.toFixed(2)}x`);
console.log(`wrote ${out}`);
