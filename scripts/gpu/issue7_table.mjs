#!/usr/bin/env node
// Issue #7's table from one GPU check (scripts/gpu/check.sh table): our PiX-ResNet50 and ResNet-50
// (`pix bench` JSON: table_train_b128.json, table_infer_b256.json, table_latency_b1.json, and for
// comparison table_train_b128_timed.json with cuDNN's algorithms timed, table_infer_b256_unfused.json
// without cuDNN's fused conv+bias+ReLU and table_latency_b1_eager.json without CUDA graphs) beside
// PyTorch's on the same card (table_torch.json, scripts/gpu/torch_networks.py), each target
// marked met or not. Prints markdown; a missing file leaves its cells empty ("—").
//
//   node scripts/gpu/issue7_table.mjs <out dir>
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.argv[2] ?? 'out';
const read = (name) => {
  const file = join(dir, name);
  if (!existsSync(file)) return null;
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return null;
  }
};

/** Our figure for a network ('pix' or 'resnet') in one bench file: images/s, or ms per step. */
function ours(file, network, unit) {
  const result = read(file)?.results?.find((r) => (network === 'pix') === r.model.startsWith('pix'));
  if (!result) return null;
  return unit === 'ms' ? result.stepSeconds * 1000 : result.imagesPerSecond;
}

const torch = read('table_torch.json');
const torchFigure = (model, key) => (key ? torch?.networks?.find((n) => n.model === model)?.[key] ?? null : null);

const rows = [
  { what: 'training, batch 128 (images/s)', file: 'table_train_b128.json', unit: 'ips', torchKey: 'train_bf16_b128_images_per_s',
    floor: 5200, ratio: 1.25 },
  { what: 'training, batch 128, cuDNN timed, any algorithm (images/s)', file: 'table_train_b128_timed.json', unit: 'ips',
    torchKey: null },
  { what: 'inference, batch 256 (images/s)', file: 'table_infer_b256.json', unit: 'ips', torchKey: 'infer_bf16_b256_images_per_s',
    floor: 11400, ratio: 1.25 },
  { what: 'inference, batch 256, no fused conv+bias+ReLU (images/s)', file: 'table_infer_b256_unfused.json', unit: 'ips',
    torchKey: null },
  { what: 'latency, batch 1 (ms)', file: 'table_latency_b1.json', unit: 'ms', torchKey: 'latency_bf16_b1_ms', ceiling: 1.5 },
  { what: 'latency, batch 1, no CUDA graphs (ms)', file: 'table_latency_b1_eager.json', unit: 'ms', torchKey: null },
];

const fmt = (v, unit) => (v === null ? '—' : unit === 'ms' ? v.toFixed(3) : Math.round(v).toString());
const mark = (ok) => (ok === null ? '' : ok ? ' ✓' : ' ✗');

const lines = [
  `Issue #7 on ${torch?.card ?? 'the card'} (bf16, 224×224, synthetic data; PyTorch ${torch?.torch ?? '?'}: ${torch?.mode ?? 'not run'})`,
  '',
  '| | our PiX-ResNet50 | our ResNet-50 | PiX / ResNet | PyTorch ResNet-50 | PyTorch PiX-ResNet50 (plain ops) | target |',
  '| --- | --- | --- | --- | --- | --- | --- |',
];
for (const row of rows) {
  const pix = ours(row.file, 'pix', row.unit);
  const resnet = ours(row.file, 'resnet', row.unit);
  // Speed-up of PiX over ResNet: higher images/s, or lower milliseconds.
  const speedup = pix !== null && resnet !== null ? (row.unit === 'ms' ? resnet / pix : pix / resnet) : null;
  let target;
  let met = null;
  if (row.unit === 'ms') {
    target = row.ceiling ? `PiX ≤ ${row.ceiling} ms` : '(for comparison)';
    if (pix !== null && row.ceiling) met = pix <= row.ceiling;
  } else if (row.floor) {
    target = `PiX ≥ ${row.ratio}× ResNet and ≥ ${row.floor}`;
    if (pix !== null && speedup !== null) met = speedup >= row.ratio && pix >= row.floor;
  } else {
    target = '(for comparison)';
  }
  lines.push(`| ${row.what} | ${fmt(pix, row.unit)} | ${fmt(resnet, row.unit)} | ${speedup === null ? '—' : speedup.toFixed(2) + '×'} | ` +
    `${fmt(torchFigure('resnet50', row.torchKey), row.unit)} | ${fmt(torchFigure('pix_resnet50_cs', row.torchKey), row.unit)} | ` +
    `${target}${mark(met)} |`);
}
const info = read('info_table.json')?.backends?.cuda;
if (info) lines.push('', `convolutions: ${info.conv}`, `matrix products: ${info.gemm}`);
// What each benchmark process ran on (pix bench's `cuda` field).
for (const row of rows) {
  for (const result of read(row.file)?.results ?? []) {
    const paths = result.cuda;
    if (!paths) continue;
    const { cudnn, own } = paths.convDirections;
    const g = paths.graphs;
    const f = paths.fused;
    const fused = f && f.ran + f.refused > 0
      ? `; fused conv+bias+ReLU ${f.ran} ran, ${f.refused} refused${f.firstRefusal ? ` (${f.firstRefusal})` : ''}` : '';
    lines.push(`${row.what}, ${result.model}: cuDNN ran ${cudnn} of ${cudnn + own} convolution directions${fused}; ` +
      `graphs ${g.captures} made, ${g.replays} replays, ${g.failures} failed${g.lastFailure ? ` (${g.lastFailure})` : ''}`);
  }
}
console.log(lines.join('\n'));
