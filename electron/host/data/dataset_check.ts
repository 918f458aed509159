// A full check of a data folder, in the ImageNet layout, an image folder or CIFAR-100's files
// (datasets.ts detects which): the layout, counts per split and class, and every image decoded once through the
// evaluation transform, in parallel on worker threads, so each undecodable file is named with its
// reason before a long run meets it. It reports; it never moves, fixes or deletes a file.
import type { BadFile } from './loader';
import { decodeBatch, decodeItem, type DecodeItem, type DecodeResult } from './batch_decode';
import { dataFolderSplits, type DetectedDataSet } from './datasets';
import type { ImageFolder } from './image_folder';
import type { EvalTransform } from './transforms';
import { DecodePool } from './worker_pool';

export interface SplitCounts {
  images: number;
  /** Images per class, in label order. */
  classes: { name: string; images: number }[];
}

export interface DatasetReport {
  dataPath: string;
  /** The detected layout: IMNET (train/ and val/), CIFAR (train and test, as val) or image_folder (the folder is the one split, reported as train). */
  dataSet: DetectedDataSet;
  train: SplitCounts;
  /** null for an image folder. */
  val: SplitCounts | null;
  /** Every file that could not be decoded, train/ first, each split in dataset order. */
  bad: BadFile[];
}

export interface CheckOptions {
  /** Decoding threads; 0 decodes on this thread. */
  numWorkers: number;
  /** Side of the decoded evaluation crop: decoding is the test, the size barely matters. */
  inputSize?: number;
  progress?(done: number, total: number): void;
}

/** Files per task: small enough for a smooth progress line, large enough to keep workers busy. */
const CHUNK = 32;

function counts(folder: ImageFolder): SplitCounts {
  const perClass = new Array<number>(folder.classes.length).fill(0);
  for (const s of folder.samples) perClass[s.label]!++;
  return { images: folder.samples.length, classes: folder.classes.map((name, c) => ({ name, images: perClass[c]! })) };
}

export async function checkDataset(dataPath: string, options: CheckOptions): Promise<DatasetReport> {
  const { data_set: dataSet, train, val: evaluated } = dataFolderSplits(dataPath);
  const val = dataSet === 'image_folder' ? null : evaluated;  // an image folder's val is its train: decoded once
  const files = [...train.samples, ...(val?.samples ?? [])];
  const transform: EvalTransform = { kind: 'eval', size: options.inputSize ?? 64, cropPct: 0.875, interpolation: 'bilinear' };
  const pool = options.numWorkers > 0 ? new DecodePool(options.numWorkers) : undefined;
  const decode = (items: DecodeItem[]): Promise<DecodeResult> =>
    pool ? pool.run({ seed: 0, epoch: 0, transform, items }) : decodeBatch({ seed: 0, epoch: 0, transform, items });
  const bad: BadFile[][] = [];
  let done = 0;
  let next = 0;
  // Each lane takes the next chunk when its last one is done: 2 per worker keeps every worker fed
  // while the memory held stays a few chunks.
  const lane = async () => {
    for (let chunk = next++; chunk * CHUNK < files.length; chunk = next++) {
      const samples = files.slice(chunk * CHUNK, (chunk + 1) * CHUNK);
      const result = await decode(samples.map((sample, i) => decodeItem(chunk * CHUNK + i, sample)));
      bad[chunk] = result.bad.map(({ slot, reason }) => ({ path: samples[slot]!.path, reason }));
      done += samples.length;
      options.progress?.(done, files.length);
    }
  };
  try {
    await Promise.all(Array.from({ length: 2 * Math.max(1, options.numWorkers) }, lane));
  } finally {
    await pool?.close();
  }
  return { dataPath, dataSet, train: counts(train), val: val && counts(val), bad: bad.flat() };
}
