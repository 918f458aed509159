// Decodes a list of samples into one NHWC float32 buffer, slot by slot: the unit of work of a loader
// worker (loader_worker.ts) and of the in-thread loader alike, so both produce the same bytes. Each
// sample's randomness is keyed by (seed, epoch, index), never by the slot or the thread. A file that
// cannot be decoded (BadImageError) leaves its slot empty and is reported; choosing a replacement is
// the loader's job, not this file's. Any other error propagates.
import { BadImageError } from './bad_image';
import { sampleRandom } from './sample_random';
import { loadImageInto, type Transform } from './transforms';

export interface DecodeItem {
  /** Dataset index: keys the sample's randomness. */
  index: number;
  path: string;
}

export interface DecodeTask {
  seed: number;
  epoch: number;
  transform: Transform;
  items: DecodeItem[];
}

export interface BadSlot {
  slot: number;
  reason: string;
}

export interface DecodeResult {
  /** (items, size, size, 3); the slots of bad files hold zeros. */
  images: Float32Array;
  bad: BadSlot[];
}

/**
 * Samples of one batch decoding at once. Two per batch, with a few batches per worker, keep the
 * cores busy (one decodes on libuv's pool while another augments on this thread); a whole batch at
 * once gave the same images/s for about 10% more CPU per image (thread hand-offs, allocation, page
 * faults: 153-181 against 176-201 images per CPU-second, 224 px RandAugment on ~500x375 JPEGs,
 * 2 workers, 2 cores).
 */
const IN_FLIGHT = 2;

export function samplePixels(transform: Transform): number {
  return transform.size * transform.size * 3;
}

export async function decodeBatch(task: DecodeTask): Promise<DecodeResult> {
  const { transform, seed, epoch, items } = task;
  const pixels = samplePixels(transform);
  const images = new Float32Array(items.length * pixels);
  const bad: BadSlot[] = [];
  const decode = async (slot: number) => {
    const { index, path } = items[slot]!;
    const random = transform.kind === 'train' ? sampleRandom(seed, epoch, index) : undefined;
    try {
      await loadImageInto(path, transform, random, images, slot * pixels);
    } catch (error) {
      if (!(error instanceof BadImageError)) throw error;
      bad.push({ slot, reason: error.reason });
    }
  };
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(IN_FLIGHT, items.length) }, async () => {
    for (let slot = next++; slot < items.length; slot = next++) await decode(slot);
  }));
  bad.sort((a, b) => a.slot - b.slot);
  return { images, bad };
}
