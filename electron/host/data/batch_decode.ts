// Decodes a list of samples into one NHWC buffer, slot by slot: the unit of work of a loader worker
// (loader_worker.ts) and of the in-thread loader alike, so both produce the same bytes. The buffer
// holds normalised float32 (output 'f32'), or the 8-bit pixels with each slot's RandomErasing draw
// (output 'u8'), which the engine's normalizeEraseBatch turns into the same floats on the training
// device, as timm's PrefetchLoader normalises and erases on the GPU: a quarter of the bytes to
// move and no float work on the loader's threads. Each
// sample's randomness is keyed by (seed, epoch, index), never by the slot or the thread. A file that
// cannot be decoded (BadImageError) leaves its slot empty and is reported; choosing a replacement is
// the loader's job, not this file's. Any other error propagates.
import { BadImageError } from './bad_image';
import { packedPixels, type PackedImage, type Sample } from './image_folder';
import { sampleRandom, type Random } from './sample_random';
import type { SampleErase } from '../engine/addon';
import { loadImageInto, loadPixelsInto, transformNormalization, type ImageSource, type Normalization, type Transform } from './transforms';

/** What a batch holds: normalised floats, or 8-bit pixels to normalise on the device. */
export type BatchOutput = 'f32' | 'u8';

export interface DecodeItem {
  /** Dataset index: keys the sample's randomness. */
  index: number;
  path: string;
  /** The image itself, held in memory (a Sample's): its shared pixels reach worker threads without a copy. */
  packed?: PackedImage;
}

/** The item that decodes `sample`, keyed by its dataset index. */
export function decodeItem(index: number, { path, packed }: Sample): DecodeItem {
  return packed ? { index, path, packed } : { index, path };
}

export interface DecodeTask {
  seed: number;
  epoch: number;
  transform: Transform;
  items: DecodeItem[];
  /** Default 'f32'. */
  output?: BatchOutput;
}

export interface BadSlot {
  slot: number;
  reason: string;
}

/** (items, size, size, 3) images as a batch output holds them; the slots of bad files hold zeros (and no erasing). */
export type DecodedImages =
  | { output: 'f32'; images: Float32Array }
  | {
    output: 'u8'; images: Uint8Array;
    /** Each slot's RandomErasing (null: none), for normalizeEraseBatch. */ erase: (SampleErase | null)[];
    /** The transform's mean and std, which normalizeEraseBatch applies. */ normalization: Normalization;
  };

export type DecodeResult = DecodedImages & { bad: BadSlot[] };

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
  const bad: BadSlot[] = [];
  let decoded: DecodedImages;
  let decodeSlot: (slot: number, source: ImageSource, random: Random | undefined) => Promise<void>;
  if ((task.output ?? 'f32') === 'u8') {
    const images = new Uint8Array(items.length * pixels);
    const erase: (SampleErase | null)[] = new Array<SampleErase | null>(items.length).fill(null);
    decoded = { output: 'u8', images, erase, normalization: transformNormalization(transform) };
    decodeSlot = async (slot, source, random) => {
      const out = images.subarray(slot * pixels, (slot + 1) * pixels);
      try {
        erase[slot] = await loadPixelsInto(source, transform, random, out);
      } catch (error) {
        out.fill(0);  // a JPEG may have been partly decoded into the slot
        throw error;
      }
    };
  } else {
    const images = new Float32Array(items.length * pixels);
    decoded = { output: 'f32', images };
    decodeSlot = (slot, source, random) => loadImageInto(source, transform, random, images, slot * pixels);
  }
  const decode = async (slot: number) => {
    const { index, path, packed } = items[slot]!;
    const random = transform.kind === 'train' ? sampleRandom(seed, epoch, index) : undefined;
    const source: ImageSource = packed
      ? { name: path, pixels: packedPixels(packed), width: packed.images.width, height: packed.images.height }
      : path;
    try {
      await decodeSlot(slot, source, random);
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
  return { ...decoded, bad };
}
