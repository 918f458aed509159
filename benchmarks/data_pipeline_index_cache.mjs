#!/usr/bin/env node
// What the ImageFolder index cache (electron/host/data/index_cache.ts) saves: the scan of a split
// without the cache against one that reads a valid cache entry, median of 5 each, on synthetic
// trees of empty .JPEG files (ImageNet's class count with few files, and fewer classes with
// ImageNet's ~1300 files each). The trees are made in a temporary folder and aged an hour so the
// cache accepts them; the file system's caches are warm, so a cold disk or a network file system
// saves more than this shows. Needs the compiled TypeScript (npm run build:ts).
//
//   node benchmarks/data_pipeline_index_cache.mjs
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
process.env.XDG_CACHE_HOME = mkdtempSync(join(tmpdir(), 'pix-index-cache-bench-'));
const { scanImageFolder } = createRequire(import.meta.url)(join(root, 'dist', 'electron', 'host', 'data', 'image_folder.js'));

function tree(classes, perClass) {
  const split = mkdtempSync(join(tmpdir(), 'pix-index-tree-'));
  const hourAgo = new Date(Date.now() - 3_600_000);
  for (let c = 0; c < classes; c++) {
    const folder = join(split, `n${String(c).padStart(8, '0')}`);
    mkdirSync(folder);
    for (let i = 0; i < perClass; i++) writeFileSync(join(folder, `n${String(c).padStart(8, '0')}_${i}.JPEG`), '');
    utimesSync(folder, hourAgo, hourAgo);
  }
  utimesSync(split, hourAgo, hourAgo);
  return split;
}

function medianMs(f) {
  const times = Array.from({ length: 5 }, () => {
    const start = performance.now();
    f();
    return performance.now() - start;
  }).sort((a, b) => a - b);
  return times[2];
}

for (const [classes, perClass] of [[1000, 20], [100, 1300]]) {
  const split = tree(classes, perClass);
  const uncached = medianMs(() => scanImageFolder(split, { cache: false }));
  scanImageFolder(split);  // writes the entry
  const cached = medianMs(() => scanImageFolder(split));
  console.log(`${classes} classes x ${perClass} files: scan ${uncached.toFixed(1)} ms, from the cache ${cached.toFixed(1)} ms (${(uncached / cached).toFixed(1)}x)`);
  rmSync(split, { recursive: true, force: true });
}
rmSync(process.env.XDG_CACHE_HOME, { recursive: true, force: true });
