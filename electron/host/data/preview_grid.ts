// A PNG contact sheet of training samples as the network sees them (crop, flip, augmentation),
// un-normalised back to 0..255 so a person can judge the augmentation. The samples are drawn by
// seed from the whole split and decoded with their usual (seed, epoch 0, index) randomness, so a
// preview shows exactly what epoch 0 of a run with that seed feeds those images. It is a picture,
// not a check: an undecodable file leaves a grey tile and is reported.
import type { Sample } from './image_folder';
import type { BadFile } from './loader';
import { decodeBatch, decodeItem } from './batch_decode';
import { shuffledIndices } from './sample_random';
import { transformNormalization, type TrainTransform } from './transforms';

export interface PreviewOptions {
  transform: TrainTransform;
  count: number;
  seed: number;
}

export interface Preview {
  png: Buffer;
  /** Dataset index of each tile, row by row. */
  indices: number[];
  bad: BadFile[];
}

/** Pixels between tiles. */
const GAP = 2;
const GREY = 128;

export async function previewGrid(samples: readonly Sample[], options: PreviewOptions): Promise<Preview> {
  const { transform, count, seed } = options;
  if (!Number.isInteger(count) || count < 1) throw new Error(`the tile count must be a positive integer, got ${count}`);
  const indices = [...shuffledIndices(samples.length, seed, 0).subarray(0, count)];
  const { images, bad } = await decodeBatch({ seed, epoch: 0, transform, items: indices.map((index) => decodeItem(index, samples[index]!)) });
  const size = transform.size;
  const columns = Math.ceil(Math.sqrt(indices.length));
  const rows = Math.ceil(indices.length / columns);
  const width = columns * size + (columns - 1) * GAP;
  const height = rows * size + (rows - 1) * GAP;
  const grid = Buffer.alloc(width * height * 3, GREY);
  const badSlots = new Set(bad.map((b) => b.slot));
  const { mean, std } = transformNormalization(transform);
  indices.forEach((_, tile) => {
    if (badSlots.has(tile)) return;
    const left = (tile % columns) * (size + GAP);
    const top = Math.floor(tile / columns) * (size + GAP);
    const base = tile * size * size * 3;
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size * 3; x++) {
        const c = x % 3;
        const value = (images[base + y * size * 3 + x]! * std[c]! + mean[c]!) * 255;
        grid[((top + y) * width + left) * 3 + x] = Math.max(0, Math.min(255, Math.round(value)));
      }
    }
  });
  const sharp = (await import('sharp')).default;  // loaded on use, like transforms.ts
  const png = await sharp(grid, { raw: { width, height, channels: 3 } }).png().toBuffer();
  return { png, indices, bad: bad.map(({ slot, reason }) => ({ path: samples[indices[slot]!]!.path, reason })) };
}
