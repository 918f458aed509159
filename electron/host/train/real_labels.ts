// ReaL labels (Beyer et al. 2020, "Are we done with ImageNet?") scored as the official script scores
// them, through timm's RealLabelsImagenet: real.json lists, for the n-th image of the ImageNet
// validation set (ILSVRC2012_val_{n:08d}.JPEG, n from 1), the classes judged correct for it, possibly
// none; images with none are left out. An image counts as correct at k when any of its k highest
// logits is one of its classes (ties ranked by the lower class index, as evaluate.ts ranks them);
// ReaL top-1 and top-5 are the percentages over the images that have classes. As timm asserts, the
// evaluation folder must hold exactly as many images as real.json has entries.
// Pairing: the official script pairs the outputs, in the evaluation loader's order, by position
// with the files of data_path's val/ split in timm's sorted order; with --data_set IMNET that is the
// evaluation folder itself, and on the ImageNet validation set in class folders both orders are
// the same (zero-padded synsets and file numbers sort alike). Here each output is paired with its
// own file's name, which gives the same pairs there and cannot mispair a folder whose orders
// differ (or, with image_folder, the eval_data_path it evaluates); a file whose name has no entry
// is refused up front.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { RunConfig } from '../../../shared/config';
import type { Sample } from '../data/image_folder';

export interface RealScore {
  /** Percent of the images with ReaL classes whose top-1 / top-5 holds one of them. */
  acc1: number;
  acc5: number;
  /** Images scored: those with at least one ReaL class. */
  images: number;
}

/** The file name real.json's entry `i` belongs to (timm's RealLabelsImagenet). */
export function realLabelFileName(i: number): string {
  return `ILSVRC2012_val_${String(i + 1).padStart(8, '0')}.JPEG`;
}

/** real.json: one list of class indices per validation image. Throws naming what is wrong. */
export function readRealLabels(path: string): number[][] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(`--real_labels ${path}: cannot be read (${(error as Error).message})`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new Error(`--real_labels ${path}: not JSON (${(error as Error).message})`);
  }
  if (!Array.isArray(parsed) || parsed.length === 0) {
    throw new Error(`--real_labels ${path}: must be a JSON list with one list of class indices per validation image, as real.json is`);
  }
  parsed.forEach((entry, i) => {
    if (!Array.isArray(entry) || !entry.every((c) => Number.isSafeInteger(c) && (c as number) >= 0)) {
      throw new Error(`--real_labels ${path}: entry ${i} (${realLabelFileName(i)}) must be a list of class indices, got ${JSON.stringify(entry)}`);
    }
  });
  return parsed as number[][];
}

/** Tallies one evaluation pass: add() every batch's logits, then score(). */
export interface RealScorer {
  /** One batch's logits (N, classes), row i belonging to dataset index indices[i]. */
  add(logits: Float32Array, classes: number, indices: Uint32Array): void;
  score(): RealScore;
}

/** The ReaL classes of each evaluation sample, paired once; each evaluation pass takes a scorer(). */
export class RealLabels {
  private readonly perSample: (readonly number[])[];

  /** Pairs every sample with its entry by file name; throws when the folder is not the set real.json describes. */
  constructor(labels: readonly (readonly number[])[], samples: readonly Sample[], source: string) {
    if (labels.length !== samples.length) {
      throw new Error(`--real_labels ${source} has entries for ${labels.length} images but the evaluation folder has ${samples.length}: ` +
        'ReaL labels cover the whole ImageNet validation set, one entry per image, and the official script asserts the counts agree');
    }
    const entryOf = new Map<string, number>();
    for (let i = 0; i < labels.length; i++) entryOf.set(realLabelFileName(i), i);
    const used = new Map<number, string>();
    this.perSample = samples.map((sample) => {
      const name = basename(sample.path);
      const entry = entryOf.get(name);
      if (entry === undefined) {
        throw new Error(`--real_labels ${source}: the evaluation image ${sample.path} has no entry; entries are named ` +
          `${realLabelFileName(0)} to ${realLabelFileName(labels.length - 1)}, as in the ImageNet validation set`);
      }
      const twin = used.get(entry);
      if (twin !== undefined) throw new Error(`--real_labels ${source}: ${twin} and ${sample.path} have the same name, so one entry would score both`);
      used.set(entry, sample.path);
      return labels[entry]!;
    });
  }

  scorer(): RealScorer {
    let correct1 = 0, correct5 = 0, scored = 0;
    return {
      add: (logits, classes, indices) => {
        for (let i = 0; i < indices.length; i++) {
          const real = this.perSample[indices[i]!]!;
          if (real.length === 0) continue;  // no class judged correct: left out, as timm does
          const row = logits.subarray(i * classes, (i + 1) * classes);
          let best = Infinity;  // the best rank among the image's classes
          for (const c of real) {
            if (c >= classes) continue;  // a class the network cannot predict is never in its top k
            let above = 0;
            for (let j = 0; j < classes; j++) if (row[j]! > row[c]! || (row[j] === row[c] && j < c)) above++;
            best = Math.min(best, above);
          }
          if (best < 1) correct1++;
          if (best < Math.min(5, classes)) correct5++;
          scored++;
        }
      },
      score: () => ({ acc1: (100 * correct1) / scored, acc5: (100 * correct5) / scored, images: scored }),
    };
  }
}

type RealLabelFlags = Pick<RunConfig, 'real_labels' | 'eval' | 'model_ema' | 'model_ema_eval' | 'disable_eval' | 'output_dir' | 'save_ckpt'>;

/**
 * The official script scores ReaL labels in two places: with --eval true, on the evaluated weights;
 * and after training with --model_ema_eval true, on checkpoint-best-ema's EMA weights, read back
 * from --output_dir. What that second one needs and this config lacks, one `--real_labels` line
 * each (the official script would fail only after training, when the file is missing).
 */
export function realLabelsProblems(config: RealLabelFlags): string[] {
  if (!config.real_labels || config.eval || !config.model_ema_eval) return [];
  const needs = 'after training the official script scores checkpoint-best-ema with them, which';
  const out: string[] = [];
  if (!config.model_ema) out.push(`--real_labels ${config.real_labels}: ${needs} needs --model_ema true`);
  if (config.disable_eval) out.push(`--real_labels ${config.real_labels}: ${needs} is saved by the evaluations that --disable_eval true turns off`);
  if (!config.output_dir || !config.save_ckpt) out.push(`--real_labels ${config.real_labels}: ${needs} needs --output_dir and --save_ckpt true`);
  return out;
}

/** A line saying --real_labels has no effect with this config (as in the official script), or null. */
export function realLabelsUnused(config: RealLabelFlags): string | null {
  if (!config.real_labels || config.eval || config.model_ema_eval) return null;
  return `--real_labels ${config.real_labels} has no effect here: the official script scores ReaL labels with --eval true, ` +
    'or after training with --model_ema true --model_ema_eval true (on checkpoint-best-ema)';
}
