// How fast the loader turns files into training batches: whole epochs through Loader, timed from
// the first batch's arrival (so thread start-up and first-use costs stay out) to the last. Besides
// wall-clock images/s it reports images per CPU-second of the whole process (every thread,
// decoding included), which is the throughput of one fully used core. It measures; it trains
// nothing and keeps no batch.
import { cpuUsage } from 'node:process';
import type { BatchOutput } from './batch_decode';
import type { Sample } from './image_folder';
import { Loader } from './loader';
import type { TrainTransform } from './transforms';

export interface LoaderBenchOptions {
  transform: TrainTransform;
  batchSize: number;
  numWorkers: number;
  /** Epochs timed; the median is reported. */
  passes: number;
  seed: number;
  /** What the batches hold (LoaderOptions.output); default 'f32'. 'u8' leaves normalisation to the training device, untimed here. */
  output?: BatchOutput;
}

export interface PassTiming {
  images: number;
  seconds: number;
  cpuSeconds: number;
}

export interface LoaderBenchResult {
  /** Medians over the passes. */
  imagesPerSecond: number;
  imagesPerCpuSecond: number;
  passes: PassTiming[];
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export async function benchLoader(samples: readonly Sample[], options: LoaderBenchOptions): Promise<LoaderBenchResult> {
  const { transform, batchSize, numWorkers, passes, seed, output } = options;
  if (!Number.isInteger(passes) || passes < 1) throw new Error(`passes must be a positive integer, got ${passes}`);
  const loader = new Loader<BatchOutput>(samples, { batchSize, transform, shuffle: true, dropLast: true, seed, numWorkers, maxBadFraction: 1, output: output ?? 'f32' });
  if (loader.batchesPerEpoch() < 2) throw new Error(`${samples.length} images make fewer than two batches of ${batchSize}: nothing to time after the first`);
  const timings: PassTiming[] = [];
  for (let pass = 0; pass < passes; pass++) {
    let images = 0;
    let start = 0;
    let cpuStart: NodeJS.CpuUsage | undefined;
    for await (const batch of loader.epoch(pass)) {
      if (!cpuStart) {
        start = performance.now();
        cpuStart = cpuUsage();
        continue;
      }
      images += batch.size;
    }
    const cpu = cpuUsage(cpuStart);
    timings.push({ images, seconds: (performance.now() - start) / 1000, cpuSeconds: (cpu.user + cpu.system) / 1e6 });
  }
  return {
    imagesPerSecond: median(timings.map((t) => t.images / t.seconds)),
    imagesPerCpuSecond: median(timings.map((t) => t.images / t.cpuSeconds)),
    passes: timings,
  };
}
