// Batches for training and evaluation: the order (sampler.ts: shuffled by seed and epoch or kept,
// split between ranks like torch's DistributedSampler), the per-sample transform, decoding on
// num_workers worker threads (0: on this thread, with sharp on libuv's pool), prefetching a bounded
// number of batches ahead and delivering them in order. Every sample's randomness is keyed by
// (seed, epoch, index), so the batches are the same bytes whatever the worker count. A batch holds
// normalised floats, or (output 'u8') the 8-bit pixels and each image's RandomErasing draw for the
// engine's normalizeEraseBatch on the training device (batch_input.ts), which gives the same floats.
//
// A file that cannot be decoded (BadImageError) is listed and replaced by the next index of the
// epoch's order whose file decodes, so batch shapes stay fixed and the choice is deterministic.
// The run fails once the distinct bad files exceed maxBadFraction of the dataset; any other error
// fails it at once.
import type { Sample } from './image_folder';
import { decodeBatch, decodeItem, samplePixels, type BatchOutput, type DecodeItem, type DecodeResult, type DecodedImages } from './batch_decode';
import { checkSamplerOptions, epochIndices, samplesPerRank } from './sampler';
import type { Transform } from './transforms';
import { DecodePool } from './worker_pool';

/** The workbench's default for --max_bad_fraction (shared/config.ts). */
export const DEFAULT_MAX_BAD_FRACTION = 0.001;

export interface LoaderOptions<O extends BatchOutput = 'f32'> {
  batchSize: number;
  /** What the batches hold: normalised floats (default), or 8-bit pixels plus each image's erasing. */
  output?: O;
  transform: Transform;
  shuffle: boolean;
  /** Drop the last partial batch (training), or keep it (evaluation). */
  dropLast: boolean;
  seed: number;
  /** Batches decoded ahead of the one being consumed. Default 2 per worker (2 with no workers). */
  prefetch?: number;
  /** Decoding threads; 0 (the default) decodes on the calling thread. */
  numWorkers?: number;
  /** This process's rank and the process count (DistributedSampler); defaults 0 and 1. */
  rank?: number;
  worldSize?: number;
  /** The run fails when more than this fraction of the dataset turns out undecodable. */
  maxBadFraction?: number;
  /** Called once per undecodable file, when the first batch that met it is delivered (before the limit is checked). */
  onBadFile?: (file: BadFile) => void;
}

/** A batch of the loader's output O: images (N, size, size, 3), normalised floats or u8 pixels with their erasing. */
export type Batch<O extends BatchOutput = 'f32'> = Extract<DecodedImages, { output: O }> & {
  labels: Int32Array;
  /** Dataset index of each image (a bad file's slot holds its replacement's). */
  indices: Uint32Array;
  size: number;
};

export interface BadFile {
  path: string;
  reason: string;
}

type Decode = (items: DecodeItem[]) => Promise<DecodeResult>;

interface Loaded<O extends BatchOutput> {
  batch: Batch<O>;
  /** Dataset indices of the bad files this batch met (found, or known and passed over). */
  passedOver: number[];
}

function ignore(): void {}

export class Loader<O extends BatchOutput = 'f32'> {
  /** Every bad file met by any batch, as decoding finds them (a cache: known-bad files are not decoded again). */
  private readonly known = new Map<number, string>();
  /** The bad files of the batches delivered so far, in delivery order. */
  private readonly listed = new Map<number, string>();

  constructor(private readonly samples: readonly Sample[], private readonly options: LoaderOptions<O>) {
    if (options.output !== undefined && options.output !== 'f32' && options.output !== 'u8') throw new Error(`the loader's output must be 'f32' or 'u8', got '${String(options.output)}'`);
    if (!Number.isInteger(options.batchSize) || options.batchSize < 1) throw new Error(`batch size must be a positive integer, got ${options.batchSize}`);
    if (samples.length === 0) throw new Error('the dataset has no samples');
    const workers = options.numWorkers ?? 0;
    if (!Number.isInteger(workers) || workers < 0) throw new Error(`the worker count must be a non-negative integer, got ${workers}`);
    if (options.prefetch !== undefined && !(Number.isInteger(options.prefetch) && options.prefetch >= 0)) {
      throw new Error(`prefetch must be a non-negative integer, got ${options.prefetch}`);
    }
    const fraction = options.maxBadFraction ?? DEFAULT_MAX_BAD_FRACTION;
    if (!(fraction >= 0 && fraction <= 1)) throw new Error(`the bad-file fraction must be in [0, 1], got ${fraction}`);
    checkSamplerOptions(samples.length, this.samplerOptions());
  }

  private samplerOptions() {
    const { shuffle, seed, rank, worldSize } = this.options;
    return { shuffle, seed, rank: rank ?? 0, worldSize: worldSize ?? 1 };
  }

  /** Samples this rank visits per epoch. */
  samplesPerEpoch(): number {
    return samplesPerRank(this.samples.length, this.samplerOptions());
  }

  batchesPerEpoch(): number {
    const { batchSize, dropLast } = this.options;
    const n = this.samplesPerEpoch();
    return dropLast ? Math.floor(n / batchSize) : Math.ceil(n / batchSize);
  }

  /** Every undecodable file met by the batches delivered so far (all epochs), in dataset order. */
  badFiles(): BadFile[] {
    return [...this.listed.entries()].sort((a, b) => a[0] - b[0]).map(([index, reason]) => ({ path: this.samples[index]!.path, reason }));
  }

  async *epoch(epoch: number): AsyncGenerator<Batch<O>> {
    const { seed, transform, output } = this.options;
    const workers = this.options.numWorkers ?? 0;
    const order = epochIndices(this.samples.length, epoch, this.samplerOptions());
    const batches = this.batchesPerEpoch();
    const pool = workers > 0 ? new DecodePool(workers) : undefined;
    const task = { seed, epoch, transform, ...(output ? { output } : {}) };
    const decode: Decode = pool ? (items) => pool.run({ ...task, items }) : (items) => decodeBatch({ ...task, items });
    const depth = 1 + (this.options.prefetch ?? 2 * Math.max(1, workers));
    const pending: Promise<Loaded<O>>[] = [];
    const start = (b: number) => {
      const promise = this.load(order, b, decode);
      promise.catch(ignore);  // batches abandoned by an early stop must not surface as unhandled
      pending.push(promise);
    };
    try {
      for (let b = 0; b < Math.min(depth, batches); b++) start(b);
      for (let b = 0; b < batches; b++) {
        const { batch, passedOver } = await pending.shift()!;
        if (b + depth < batches) start(b + depth);
        this.list(passedOver);
        yield batch;
      }
    } finally {
      await pool?.close();
    }
  }

  /** Decodes one batch; also returns every bad index it met, which depends only on which files are bad. */
  private async load(order: Uint32Array, batch: number, decode: Decode): Promise<Loaded<O>> {
    const { batchSize, transform } = this.options;
    const first = batch * batchSize;
    const size = Math.min(batchSize, order.length - first);
    const passedOver: number[] = [];
    const positions = Array.from({ length: size }, (_, i) => this.usablePosition(order, first + i, passedOver));
    const indices = Uint32Array.from(positions, (p) => order[p % order.length]!);
    const { bad, ...decoded } = await decode(Array.from(indices, (index) => decodeItem(index, this.samples[index]!)));
    const pixels = samplePixels(transform);
    for (const { slot, reason } of bad) {
      this.found(indices[slot]!, reason, passedOver);
      // The next position of the order whose file decodes; known-bad files are passed over
      // without decoding, which picks the same replacement as trying them again would.
      for (let p = positions[slot]! + 1; ; p++) {
        p = this.usablePosition(order, p, passedOver);
        const index = order[p % order.length]!;
        const retry = await decode([decodeItem(index, this.samples[index]!)]);
        if (retry.bad.length === 0) {
          decoded.images.set(retry.images, slot * pixels);
          if (decoded.output === 'u8' && retry.output === 'u8') decoded.erase[slot] = retry.erase[0] ?? null;
          indices[slot] = index;
          break;
        }
        this.found(index, retry.bad[0]!.reason, passedOver);
      }
    }
    const labels = Int32Array.from(indices, (index) => this.samples[index]!.label);
    return { batch: { ...(decoded as Extract<DecodedImages, { output: O }>), labels, indices, size }, passedOver };
  }

  /** The first position at or after `p` (wrapping around the order) whose file is not known to be bad. */
  private usablePosition(order: Uint32Array, p: number, passedOver: number[]): number {
    for (let tries = 0; tries < order.length; tries++, p++) {
      const index = order[p % order.length]!;
      if (!this.known.has(index)) return p;
      passedOver.push(index);
    }
    throw new Error('no file of this epoch could be decoded');
  }

  private found(index: number, reason: string, passedOver: number[]): void {
    this.known.set(index, reason);
    passedOver.push(index);
  }

  /**
   * Lists the bad files a delivered batch met and applies the limit. Batches decode out of order,
   * so this runs as each is delivered: the list, the callbacks and the failure come at the same
   * batch with the same count whatever the worker count and timing.
   */
  private list(passedOver: number[]): void {
    for (const index of passedOver) {
      if (this.listed.has(index)) continue;
      const reason = this.known.get(index)!;
      this.listed.set(index, reason);
      this.options.onBadFile?.({ path: this.samples[index]!.path, reason });
    }
    const limit = this.options.maxBadFraction ?? DEFAULT_MAX_BAD_FRACTION;
    if (this.listed.size > limit * this.samples.length) {
      const files = this.badFiles();
      throw new Error(`${files.length} of ${this.samples.length} images could not be decoded, more than the allowed ` +
        `${limit} of the dataset (--max_bad_fraction): ${files.slice(0, 3).map((f) => `${f.path} (${f.reason})`).join('; ')}` +
        `${files.length > 3 ? '; …' : ''}. Run pix data check to list them all, then fix or remove them, or raise --max_bad_fraction`);
    }
  }
}
