// Which dataset indices one process visits in an epoch, with the semantics of torch's
// DistributedSampler: the order is shuffled by (seed, epoch) or kept; it is padded to a multiple of
// the world size by repeating indices from its start (or, with dropLast, cut to one), and rank r
// takes every worldSize-th index starting at r. The permutation itself is ours (shuffledIndices),
// not torch.randperm's, so index lists do not match PyTorch's draw for draw. Batching is the
// loader's business, not this file's.
import { shuffledIndices } from './sample_random';

export interface SamplerOptions {
  shuffle: boolean;
  seed: number;
  /** This process's rank in [0, worldSize). Default 0. */
  rank?: number;
  /** Processes sharing the dataset. Default 1. */
  worldSize?: number;
  /** Cut the tail instead of padding, so every rank has the same count (DistributedSampler's drop_last). */
  dropLast?: boolean;
}

/** DistributedSampler.num_samples: how many indices each rank gets. */
export function samplesPerRank(datasetSize: number, options: Pick<SamplerOptions, 'worldSize' | 'dropLast'>): number {
  const world = options.worldSize ?? 1;
  if (options.dropLast && datasetSize % world !== 0) return Math.ceil((datasetSize - world) / world);
  return Math.ceil(datasetSize / world);
}

export function checkSamplerOptions(datasetSize: number, options: SamplerOptions): void {
  const world = options.worldSize ?? 1;
  const rank = options.rank ?? 0;
  if (!Number.isInteger(world) || world < 1) throw new Error(`world size must be a positive integer, got ${world}`);
  if (!Number.isInteger(rank) || rank < 0 || rank >= world) throw new Error(`rank must be an integer in [0, ${world}), got ${rank}`);
  if (samplesPerRank(datasetSize, options) < 1) {
    throw new Error(`${datasetSize} samples cannot give each of ${world} processes at least one`);
  }
}

/** The indices rank `rank` visits in `epoch`, in order. */
export function epochIndices(datasetSize: number, epoch: number, options: SamplerOptions): Uint32Array {
  checkSamplerOptions(datasetSize, options);
  const world = options.worldSize ?? 1;
  const rank = options.rank ?? 0;
  const order = options.shuffle ? shuffledIndices(datasetSize, options.seed, epoch) : Uint32Array.from({ length: datasetSize }, (_, i) => i);
  const perRank = samplesPerRank(datasetSize, options);
  const out = new Uint32Array(perRank);
  // Position rank + k*world of the padded (or cut) order; padding repeats the order from its start,
  // as many times as needed when the dataset is smaller than the padding.
  for (let k = 0; k < perRank; k++) out[k] = order[(rank + k * world) % datasetSize]!;
  return out;
}
