#!/usr/bin/env node
// The data pipeline against torchvision, side by side on one folder: `pix data bench` (our loader,
// worker threads) and benchmarks/data_pipeline_torchvision.py (torch DataLoader worker processes
// with the same timm training transform) at the same worker count, batch, size and augmentation.
// The folder is ImageNet-like and made here, deterministically, on first use: 2000 JPEGs of about
// 500x375 at quality 90 (smooth multi-scale noise, hard-edged shapes and grain, so JPEG sizes and
// decode work resemble photographs), in 20 classes, under the user's cache directory.
// It needs a Python with torch and torchvision: Debian's /usr/bin/python3, or the one PIX_PYTHON
// names (the GPU machine's); npm test never runs it.
//
//   node benchmarks/data_pipeline.mjs [--workers 2] [--rounds 3] [--passes 3] [--batch_size 64] [--images 2000] [--batch_dtype f32]
//
// --batch_dtype f32 (the default here) has our workers normalise and erase, as the torchvision twin's
// do; u8 times the loader pix train uses, which leaves both to the training device.
// Writes benchmarks/data_pipeline/latest.json and prints a table; BENCHMARKS.md keeps the figures.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { cpus, homedir, loadavg, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import sharp from 'sharp';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// The loader's own generator (npm run build:ts first), so the planted files are the same every run.
const { mulberry32 } = createRequire(import.meta.url)('../dist/electron/host/data/sample_random.js');
const { values } = parseArgs({
  options: {
    workers: { type: 'string', default: '2' }, passes: { type: 'string', default: '3' }, batch_size: { type: 'string', default: '64' },
    images: { type: 'string', default: '2000' }, input_size: { type: 'string', default: '224' },
    aa: { type: 'string', default: 'rand-m7-mstd0.5-inc1' }, reprob: { type: 'string', default: '0.25' },
    rounds: { type: 'string', default: '3' }, batch_dtype: { type: 'string', default: 'f32' },
  },
});
const CLASSES = 20;
const WIDTH = 500;
const HEIGHT = 375;

/** One photograph-like image: four octaves of bilinear value noise, a few hard-edged shapes, grain. */
function syntheticPhoto(seed) {
  const random = mulberry32(seed * 2654435761);
  const out = new Float32Array(WIDTH * HEIGHT * 3);
  for (const [cells, weight] of [[3, 1], [7, 0.5], [15, 0.25], [40, 0.15], [120, 0.1]]) {
    const gw = cells + 1;
    const gh = Math.ceil((cells * HEIGHT) / WIDTH) + 1;
    const grid = Float32Array.from({ length: gw * gh * 3 }, () => random() * 255 - 128);
    for (let y = 0; y < HEIGHT; y++) {
      const gy = (y / HEIGHT) * (gh - 1);
      const y0 = Math.floor(gy);
      const fy = gy - y0;
      for (let x = 0; x < WIDTH; x++) {
        const gx = (x / WIDTH) * (gw - 1);
        const x0 = Math.floor(gx);
        const fx = gx - x0;
        for (let c = 0; c < 3; c++) {
          const at = (xx, yy) => grid[(Math.min(yy, gh - 1) * gw + Math.min(xx, gw - 1)) * 3 + c];
          const top = at(x0, y0) * (1 - fx) + at(x0 + 1, y0) * fx;
          const bottom = at(x0, y0 + 1) * (1 - fx) + at(x0 + 1, y0 + 1) * fx;
          out[(y * WIDTH + x) * 3 + c] += weight * (top * (1 - fy) + bottom * fy);
        }
      }
    }
  }
  const pixels = Buffer.alloc(WIDTH * HEIGHT * 3);
  const shapes = Array.from({ length: 3 + Math.floor(random() * 4) }, () => ({
    cx: random() * WIDTH, cy: random() * HEIGHT, r: 20 + random() * 120, square: random() < 0.5,
    colour: [random() * 255, random() * 255, random() * 255],
  }));
  for (let y = 0; y < HEIGHT; y++) {
    for (let x = 0; x < WIDTH; x++) {
      const shape = shapes.find((s) => (s.square ? Math.max(Math.abs(x - s.cx), Math.abs(y - s.cy)) : Math.hypot(x - s.cx, y - s.cy)) < s.r);
      for (let c = 0; c < 3; c++) {
        const base = 128 + out[(y * WIDTH + x) * 3 + c] * 0.8;
        const value = (shape ? 0.35 * base + 0.65 * shape.colour[c] : base) + (random() - 0.5) * 56;
        pixels[(y * WIDTH + x) * 3 + c] = Math.max(0, Math.min(255, Math.round(value)));
      }
    }
  }
  return pixels;
}

async function makeDataset(count) {
  const cache = process.env.XDG_CACHE_HOME?.startsWith('/') ? process.env.XDG_CACHE_HOME : join(homedir(), '.cache');
  const dir = join(cache, 'pix-workbench', 'bench', `data-pipeline-v1-${count}`);
  if (existsSync(join(dir, 'complete.json'))) return dir;
  const building = `${dir}.partial-${process.pid}`;
  rmSync(building, { recursive: true, force: true });
  let bytes = 0;
  for (let i = 0; i < count + CLASSES; i++) {
    const split = i < count ? 'train' : 'val';
    const folder = join(building, split, `c${String(i % CLASSES).padStart(2, '0')}`);
    mkdirSync(folder, { recursive: true });
    const jpeg = await sharp(syntheticPhoto(i), { raw: { width: WIDTH, height: HEIGHT, channels: 3 } }).jpeg({ quality: 90 }).toBuffer();
    writeFileSync(join(folder, `img_${String(i).padStart(5, '0')}.JPEG`), jpeg);
    bytes += jpeg.length;
    if (i % 200 === 0) process.stderr.write(`\rmaking the benchmark images: ${i}/${count + CLASSES}`);
  }
  writeFileSync(join(building, 'complete.json'), JSON.stringify({ images: count, meanJpegBytes: Math.round(bytes / (count + CLASSES)) }) + '\n');
  rmSync(dir, { recursive: true, force: true });
  renameSync(building, dir);
  process.stderr.write(`\rmade ${count} training images in ${dir}\n`);
  return dir;
}

function runJson(command, args) {
  const result = spawnSync(command, args, { cwd: root, encoding: 'utf8', maxBuffer: 1 << 24, stdio: ['ignore', 'pipe', 'inherit'] });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed with status ${result.status}`);
  return JSON.parse(result.stdout);
}

const dataPath = await makeDataset(Number(values.images));
const common = ['--batch_size', values.batch_size, '--input_size', values.input_size, '--aa', values.aa, '--reprob', values.reprob, '--passes', values.passes];
const median = (xs) => [...xs].sort((a, b) => a - b)[(xs.length - 1) >> 1];
const rows = [];
// The two sides alternate, round after round, so a neighbour's burst of work on a shared machine
// slows both rather than one; each side's figure is the median over every pass of every round.
for (const workers of values.workers.split(',').map((w) => w.trim())) {
  const rounds = [];
  for (let round = 0; round < Number(values.rounds); round++) {
    const load = loadavg()[0];
    const ours = runJson(process.execPath, [join(root, 'bin', 'pix.js'), 'data', 'bench', '--data_path', dataPath, '--num_workers', workers, ...common, '--batch_dtype', values.batch_dtype, '--json']);
    const torch = runJson(process.env.PIX_PYTHON ?? '/usr/bin/python3', [join(root, 'benchmarks', 'data_pipeline_torchvision.py'), '--data_path', dataPath, '--num_workers', workers, ...common]);
    rounds.push({ loadBefore: load, ours, torchvision: torch });
  }
  const rate = (passes) => passes.map((p) => p.images / p.seconds);
  const ours = median(rounds.flatMap((r) => rate(r.ours.passes)));
  const torch = median(rounds.flatMap((r) => rate(r.torchvision.passes)));
  const perCpu = median(rounds.flatMap((r) => r.ours.passes.map((p) => p.images / p.cpuSeconds)));
  rows.push({ workers: Number(workers), oursImagesPerSecond: ours, oursImagesPerCpuSecond: perCpu, torchvisionImagesPerSecond: torch, ratio: ours / torch, rounds });
  console.log(`${workers} workers: ours ${ours.toFixed(1)} images/s (${perCpu.toFixed(1)} per CPU-second), ` +
    `torchvision ${torch.toFixed(1)} images/s: ${(ours / torch).toFixed(2)}x (median of ${rounds.length} rounds x ${values.passes} passes)`);
}
const machine = { cpu: cpus()[0]?.model, cores: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version,
  dataset: JSON.parse(readFileSync(join(dataPath, 'complete.json'), 'utf8')) };
mkdirSync(join(root, 'benchmarks', 'data_pipeline'), { recursive: true });
writeFileSync(join(root, 'benchmarks', 'data_pipeline', 'latest.json'), JSON.stringify({ date: new Date().toISOString(), machine, settings: values, rows }, null, 2) + '\n');
