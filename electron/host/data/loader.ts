// Batches for training and evaluation: order (shuffled by seed and epoch, or in file order), the
// per-sample transform, and assembly into one NHWC float32 batch. The next batches decode while
// the caller trains on the current one (sharp decodes on libuv's thread pool).
import type { Sample } from './image_folder';
import { sampleRandom, shuffledIndices } from './sample_random';
import { loadImage, type Transform } from './transforms';

export interface LoaderOptions {
  batchSize: number;
  transform: Transform;
  shuffle: boolean;
  /** Drop the last partial batch (training), or keep it (evaluation). */
  dropLast: boolean;
  seed: number;
  /** Batches decoded ahead of the one being consumed. */
  prefetch?: number;
}

export interface Batch {
  /** (N, size, size, 3), normalised. */
  images: Float32Array;
  labels: Int32Array;
  size: number;
}

export class Loader {
  constructor(private readonly samples: readonly Sample[], private readonly options: LoaderOptions) {
    if (!Number.isInteger(options.batchSize) || options.batchSize < 1) throw new Error(`batch size must be a positive integer, got ${options.batchSize}`);
    if (samples.length === 0) throw new Error('the dataset has no samples');
  }

  batchesPerEpoch(): number {
    const { batchSize, dropLast } = this.options;
    return dropLast ? Math.floor(this.samples.length / batchSize) : Math.ceil(this.samples.length / batchSize);
  }

  async *epoch(epoch: number): AsyncGenerator<Batch> {
    const { shuffle, seed } = this.options;
    const order = shuffle ? shuffledIndices(this.samples.length, seed, epoch) : Uint32Array.from(this.samples.keys());
    const batches = this.batchesPerEpoch();
    const pending: Promise<Batch>[] = [];
    const depth = 1 + (this.options.prefetch ?? 2);
    for (let b = 0; b < Math.min(depth, batches); b++) pending.push(this.load(order, b, epoch));
    for (let b = 0; b < batches; b++) {
      const batch = await pending.shift()!;
      if (b + depth < batches) pending.push(this.load(order, b + depth, epoch));
      yield batch;
    }
  }

  private async load(order: Uint32Array, batch: number, epoch: number): Promise<Batch> {
    const { batchSize, transform, seed } = this.options;
    const indices = order.subarray(batch * batchSize, Math.min((batch + 1) * batchSize, order.length));
    const pixels = transform.size * transform.size * 3;
    const images = new Float32Array(indices.length * pixels);
    const labels = new Int32Array(indices.length);
    await Promise.all(Array.from(indices, async (index, i) => {
      const sample = this.samples[index]!;
      const random = transform.kind === 'train' ? sampleRandom(seed, epoch, index) : undefined;
      images.set(await loadImage(sample.path, transform, random), i * pixels);
      labels[i] = sample.label;
    }));
    return { images, labels, size: indices.length };
  }
}
