// `pix data`: the dataset side of a run, before the run. `check` decodes every image of a data
// folder and names each bad file with its reason; `bench` measures the training loader's images/s;
// `preview` draws augmented training samples into a PNG grid; `fetch-cifar` downloads and unpacks
// CIFAR-100 for --data_set CIFAR. The work lives in electron/host/data/; this file parses flags and
// prints.
// --data_path takes either layout of pix train, detected rather than flagged (datasets.ts's
// detectDataSet): a folder with train/ and val/ is the ImageNet layout (--data_set IMNET), whose
// train/ is benched and previewed; a folder of class folders is an image folder (--data_set
// image_folder), itself the training split; a folder holding cifar-100-python/ is CIFAR-100 (--data_set
// CIFAR). An image_folder run's evaluation folder is another image folder: check it with a second
// `pix data check --data_path <eval_data_path>`.
import { writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { runFlags } from '../../../shared/config';
import { formatBadFile } from '../../host/data/bad_files';
import { fetchCifar100 } from '../../host/data/cifar_fetch';
import { checkDataset, type DatasetReport } from '../../host/data/dataset_check';
import { dataFolderSplits } from '../../host/data/datasets';
import { benchLoader } from '../../host/data/loader_throughput';
import { previewGrid } from '../../host/data/preview_grid';
import { trainTransformFromFlags, type TrainTransform } from '../../host/data/transforms';
import { closest, type Command } from '../command';
import { str2bool } from '../run_flags';
import { formatTable } from '../table';

type FlagOptions = Record<string, { type: 'string'; default?: string } | { type: 'boolean'; default?: boolean }>;

const USAGE = {
  check: 'pix data check --data_path D [--num_workers K] [--json]',
  bench: 'pix data bench --data_path D [--num_workers K] [--batch_size 64] [--input_size 224] [--aa rand-m9-mstd0.5-inc1] [--reprob 0.25] [--batch_dtype u8|f32] [--passes 3] [--seed 0] [--json]',
  preview: 'pix data preview --data_path D --output grid.png [--count 16] [--seed 0] [--input_size 224] [--aa rand-m9-mstd0.5-inc1] [--reprob 0.25] ' +
    '[--imagenet_default_mean_and_std true|false]',
  'fetch-cifar': 'pix data fetch-cifar --data_path D [--url U] [--md5 M]',
} as const;
type Subcommand = keyof typeof USAGE;

/** parseArgs, with the closest valid flag named for an unknown one. */
function parseFlags<O extends FlagOptions>(sub: Subcommand, args: string[], options: O) {
  for (const arg of args) {
    if (!arg.startsWith('--')) continue;
    const name = arg.slice(2).split('=')[0]!;
    if (!(name in options)) {
      const hint = closest(name, Object.keys(options));
      throw new Error(`unknown flag --${name} for pix data ${sub}${hint ? ` (did you mean --${hint}?)` : ''}; usage: ${USAGE[sub]}`);
    }
  }
  return parseArgs({ args, options, strict: true, allowPositionals: false }).values;
}

function integer(name: string, text: string | undefined, min: number): number {
  const value = Number(text);
  if (text === undefined || text.trim() === '' || !Number.isInteger(value) || value < min) {
    throw new Error(`--${name} must be an integer >= ${min}, got '${text}'`);
  }
  return value;
}

function required(sub: Subcommand, name: string, value: string | boolean | undefined): string {
  if (typeof value !== 'string' || value === '') throw new Error(`--${name} is required; usage: ${USAGE[sub]}`);
  return value;
}

/** The training transform of `pix train` (timm's create_transform) at this size, the other flags at their defaults. */
function trainTransform(inputSize: number, aa: string, reprob: number, imagenetDefaultMeanAndStd = runFlags.imagenet_default_mean_and_std.default): TrainTransform {
  const [scaleMin, scaleMax] = runFlags.scale.default;
  return trainTransformFromFlags({ input_size: inputSize, scale: [scaleMin!, scaleMax!], hflip: runFlags.hflip.default,
    train_interpolation: runFlags.train_interpolation.default, aa, color_jitter: runFlags.color_jitter.default, reprob,
    remode: runFlags.remode.default, recount: runFlags.recount.default, imagenet_default_mean_and_std: imagenetDefaultMeanAndStd });
}

function probability(name: string, text: string): number {
  const value = Number(text);
  if (text.trim() === '' || !(value >= 0 && value <= 1)) throw new Error(`--${name} must be a number in [0, 1], got '${text}'`);
  return value;
}

/** A progress line on stderr: rewritten in place on a terminal, every tenth otherwise. */
function progressLine(label: string): (done: number, total: number) => void {
  const tty = process.stderr.isTTY;
  const started = performance.now();
  let lastTenth = -1;
  let lastDraw = 0;
  return (done, total) => {
    const now = performance.now();
    const tenth = Math.floor((10 * done) / total);
    if (tty ? now - lastDraw < 100 && done < total : tenth === lastTenth) return;
    lastTenth = tenth;
    lastDraw = now;
    const rate = done / Math.max(1e-3, (now - started) / 1000);
    process.stderr.write(`${tty ? '\r' : ''}${label} ${done}/${total} images (${rate.toFixed(0)}/s)${tty && done < total ? '' : '\n'}`);
  };
}

function printReport(report: DatasetReport): void {
  const { val } = report;
  if (val) {
    const [train, evaluation] = report.dataSet === 'CIFAR' ? ['train', 'test'] : ['train/', 'val/'];
    console.log(`${report.dataPath}: ${report.dataSet === 'CIFAR' ? 'CIFAR-100, ' : ''}${report.train.classes.length} classes; ` +
      `${train} ${report.train.images} images, ${evaluation} ${val.images} images`);
    const rows = [['class', train.replace('/', ''), evaluation.replace('/', '')], ...report.train.classes.map((c, i) => [c.name, String(c.images), String(val.classes[i]!.images)])];
    for (const line of formatTable(rows, new Set([1, 2]))) console.log(line);
  } else {
    console.log(`${report.dataPath}: image folder, ${report.train.classes.length} classes, ${report.train.images} images`);
    const rows = [['class', 'images'], ...report.train.classes.map((c) => [c.name, String(c.images)])];
    for (const line of formatTable(rows, new Set([1]))) console.log(line);
  }
  if (report.bad.length === 0) {
    console.log('every image decodes');
    return;
  }
  console.log(`${report.bad.length} bad file${report.bad.length > 1 ? 's' : ''} (path, reason):`);
  for (const file of report.bad) console.log(formatBadFile(file));
}

async function check(args: string[]): Promise<number> {
  const values = parseFlags('check', args, {
    data_path: { type: 'string' }, num_workers: { type: 'string', default: String(availableParallelism()) }, json: { type: 'boolean', default: false },
  });
  const report = await checkDataset(required('check', 'data_path', values.data_path), {
    numWorkers: integer('num_workers', values.num_workers as string, 0), progress: progressLine('decoded'),
  });
  if (values.json) console.log(JSON.stringify(report, null, 2));
  else printReport(report);
  return report.bad.length === 0 ? 0 : 1;
}

async function bench(args: string[]): Promise<number> {
  const values = parseFlags('bench', args, {
    data_path: { type: 'string' }, num_workers: { type: 'string', default: String(availableParallelism()) },
    batch_size: { type: 'string', default: '64' }, input_size: { type: 'string', default: '224' }, aa: { type: 'string', default: runFlags.aa.default },
    reprob: { type: 'string', default: String(runFlags.reprob.default) }, passes: { type: 'string', default: '3' }, seed: { type: 'string', default: '0' },
    batch_dtype: { type: 'string', default: 'u8' }, json: { type: 'boolean', default: false },
  });
  const dataPath = required('bench', 'data_path', values.data_path);
  // u8 (as pix train loads): pixels and erasing draws, normalised on the training device; f32: normalised by the workers.
  const dtype = values.batch_dtype as string;
  if (dtype !== 'u8' && dtype !== 'f32') throw new Error(`--batch_dtype must be u8 or f32, got '${dtype}'`);
  const batches: 'u8' | 'f32' = dtype;
  const settings = {
    numWorkers: integer('num_workers', values.num_workers as string, 0), batchSize: integer('batch_size', values.batch_size as string, 1),
    inputSize: integer('input_size', values.input_size as string, 1), aa: values.aa as string, reprob: probability('reprob', values.reprob as string),
    passes: integer('passes', values.passes as string, 1), seed: integer('seed', values.seed as string, 0), output: batches,
  };
  const { train } = dataFolderSplits(dataPath, { evaluation: false });
  const result = await benchLoader(train.samples, { ...settings, transform: trainTransform(settings.inputSize, settings.aa, settings.reprob) });
  if (values.json) {
    console.log(JSON.stringify({ dataPath, ...settings, cores: availableParallelism(), ...result }, null, 2));
  } else {
    console.log(`train transform at ${settings.inputSize}px (aa ${settings.aa}, reprob ${settings.reprob}), ${batches} batches of ${settings.batchSize}, ` +
      `${settings.numWorkers} workers: ${result.imagesPerSecond.toFixed(1)} images/s, ${result.imagesPerCpuSecond.toFixed(1)} per CPU-second ` +
      `(median of ${settings.passes} passes over ${train.samples.length} images, ${availableParallelism()} cores)`);
  }
  return 0;
}

async function preview(args: string[]): Promise<number> {
  const values = parseFlags('preview', args, {
    data_path: { type: 'string' }, output: { type: 'string' }, count: { type: 'string', default: '16' }, seed: { type: 'string', default: '0' },
    input_size: { type: 'string', default: '224' }, aa: { type: 'string', default: runFlags.aa.default },
    reprob: { type: 'string', default: String(runFlags.reprob.default) },
    imagenet_default_mean_and_std: { type: 'string', default: String(runFlags.imagenet_default_mean_and_std.default) },
  });
  const output = required('preview', 'output', values.output);
  const { train } = dataFolderSplits(required('preview', 'data_path', values.data_path), { evaluation: false });
  // The mean also sets RandAugment's fill colour, so it shows in the picture.
  const transform = trainTransform(integer('input_size', values.input_size as string, 1), values.aa as string, probability('reprob', values.reprob as string),
    str2bool('imagenet_default_mean_and_std', values.imagenet_default_mean_and_std as string));
  const grid = await previewGrid(train.samples, { transform, count: integer('count', values.count as string, 1), seed: integer('seed', values.seed as string, 0) });
  writeFileSync(output, grid.png);
  for (const file of grid.bad) console.error(`pix: left a grey tile for ${formatBadFile(file)}`);
  console.log(`wrote ${output}: ${grid.indices.length} training samples`);
  return 0;
}

async function fetchCifar(args: string[]): Promise<number> {
  const values = parseFlags('fetch-cifar', args, { data_path: { type: 'string' }, url: { type: 'string' }, md5: { type: 'string' } });
  const dataPath = required('fetch-cifar', 'data_path', values.data_path);
  const tty = process.stderr.isTTY;
  let lastTenth = -1;
  const result = await fetchCifar100(dataPath, {
    ...(values.url ? { url: values.url as string } : {}),
    ...(values.md5 ? { md5: values.md5 as string } : {}),
    progress: (received, total) => {
      const tenth = total ? Math.floor((10 * received) / total) : Math.floor(received / 2 ** 24);
      if (tenth === lastTenth) return;
      lastTenth = tenth;
      const mib = (n: number) => (n / 2 ** 20).toFixed(1);
      process.stderr.write(`${tty ? '\r' : ''}downloaded ${mib(received)}${total ? ` of ${mib(total)}` : ''} MiB${tty ? '' : '\n'}`);
    },
    phase: (phase) => {
      if (tty && lastTenth >= 0) process.stderr.write('\n');
      lastTenth = -1;
      process.stderr.write(phase === 'verifying' ? 'checking the MD5\n' : 'unpacking\n');
    },
  });
  console.log(result.fetched ? `fetched and unpacked CIFAR-100 into ${result.folder}` : `${result.folder} already holds CIFAR-100's train, test and meta`);
  console.log(`train on it with: pix train --data_set CIFAR --data_path ${dataPath} --input_size 32`);
  return 0;
}

const subcommands: Record<Subcommand, (args: string[]) => Promise<number>> = { check, bench, preview, 'fetch-cifar': fetchCifar };

export const dataCommand: Command = {
  name: 'data',
  summary: 'Check a dataset (decode every image), measure the loader, preview augmented samples, fetch CIFAR-100',
  usage: Object.values(USAGE).join('\n       '),
  async run(args) {
    const [sub, ...rest] = args;
    if (sub === undefined || !(sub in subcommands)) {
      const hint = sub === undefined ? undefined : closest(sub, Object.keys(subcommands));
      throw new Error(`${sub === undefined ? 'pix data needs a subcommand' : `unknown subcommand '${sub}'${hint ? ` (did you mean '${hint}'?)` : ''}`}: ` +
        Object.keys(subcommands).join(', '));
    }
    return subcommands[sub as Subcommand](rest);
  },
};
