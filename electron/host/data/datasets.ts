// Which folders a run trains and evaluates on, from its --data_set, --data_path, --eval_data_path
// and --nb_classes: the official datasets.py's build_dataset, with its mistakes caught up front.
//   IMNET         data_path/train and data_path/val (the ImageNet layout); eval_data_path is unused.
//                 The official script fixes 1000 classes for the head; here the head has one output
//                 per class folder, so small ImageNet-layout sets train too.
//   image_folder  data_path itself for training and eval_data_path for evaluation, each a folder of
//                 class folders whose count must equal nb_classes (the official script asserts it).
//                 Here the two must also name the same classes: labels are indices into each
//                 folder's sorted list, so a missing class would silently shift the others' labels.
//   CIFAR         CIFAR-100's published pickles in data_path/cifar-100-python (cifar.ts): train for
//                 training, test for evaluation, its 100 classes whatever nb_classes says (the
//                 official script sets it to 100); eval_data_path is unused. The official script
//                 downloads them; this build does not, and says where to fetch them.
// Without evaluation (--disable_eval true, no --eval) the evaluation folder is not opened, as the
// official script does not build it. Every mistake throws a DatasetFlagError naming its flag.
// The data tools (pix data, the host API's checkDataset, evaluateCheckpoint, gateStatistics) take
// one folder without --data_set: dataFolderSplits detects which of the two layouts it is and
// resolves it through datasetSplits, so both paths share one resolution.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import type { RunConfig } from '../../../shared/config';
import { CIFAR100_FOLDER, CifarError, isCifarFolder, readCifar100 } from './cifar';
import { checkSameClasses, IMAGE_EXTENSIONS, listNames, scanImageFolder, scanImageNetLayout, scanImageNetTrain, type ImageFolder, type ScanOptions } from './image_folder';

export type DatasetFlags = Pick<RunConfig, 'data_set' | 'data_path' | 'eval_data_path' | 'nb_classes'>;
export type DatasetFlag = keyof DatasetFlags;

/** A dataset flag whose value cannot work; `flag` names it (a run config's field). */
export class DatasetFlagError extends Error {
  constructor(readonly flag: DatasetFlag, message: string) {
    super(message);
  }
}

export interface DatasetSplits<V extends ImageFolder | null = ImageFolder> {
  train: ImageFolder;
  /** The evaluation folder; null when it was not asked for. */
  val: V;
  /** Lines for the run's log about the data as found (CIFAR files that are not the published ones). */
  notes?: string[];
}

export interface SplitOptions extends ScanOptions {
  /** Resolve the evaluation folder too (default true). */
  evaluation?: boolean;
  /** Keep CIFAR-100's decoded images in this process for the next read (default true; checks that only count pass false). */
  keepInMemory?: boolean;
}

/** The run evaluates at some point: during training, or only (--eval). */
export function runEvaluates(config: Pick<RunConfig, 'eval' | 'disable_eval'>): boolean {
  return config.eval || !config.disable_eval;
}

function scanned<T>(flag: DatasetFlag, scan: () => T, hint = ''): T {
  try {
    return scan();
  } catch (error) {
    if (error instanceof DatasetFlagError) throw error;
    throw new DatasetFlagError(flag, (error as Error).message + hint);
  }
}

/** For a folder in the ImageNet layout given to image_folder: what to pass instead. */
function imagenetLayoutHint(root: string): string {
  if (!existsSync(join(root, 'train')) || !existsSync(join(root, 'val'))) return '';
  return `; ${root} looks like the ImageNet layout (train/ and val/): pass --data_set IMNET, or --data_path ${join(root, 'train')} ` +
    `--eval_data_path ${join(root, 'val')}`;
}

/** The official assertion len(dataset.class_to_idx) == nb_classes, with the fix in the message. */
function checkClassCount(folder: ImageFolder, flag: 'data_path' | 'eval_data_path', nbClasses: number): void {
  const found = folder.classes.length;
  if (found === nbClasses) return;
  throw new DatasetFlagError('nb_classes', `--nb_classes is ${nbClasses} but --${flag} ${folder.root} holds ${found} class ` +
    `folder${found === 1 ? '' : 's'} (${listNames(folder.classes)}); with --data_set image_folder they must agree, as the official ` +
    `script asserts: pass --nb_classes ${found}${imagenetLayoutHint(folder.root)}`);
}

export function datasetSplits(flags: DatasetFlags, options?: Omit<SplitOptions, 'evaluation'> & { evaluation?: true }): DatasetSplits;
export function datasetSplits(flags: DatasetFlags, options: SplitOptions): DatasetSplits<ImageFolder | null>;
export function datasetSplits(flags: DatasetFlags, options: SplitOptions = {}): DatasetSplits<ImageFolder | null> {
  const { evaluation = true, keepInMemory = true, ...scan } = options;
  switch (flags.data_set) {
    case 'IMNET': {
      if (!flags.data_path) throw new DatasetFlagError('data_path', '--data_path is empty: pass the folder that holds train/ and val/');
      if (!evaluation) return { train: scanned('data_path', () => scanImageNetTrain(flags.data_path, scan)), val: null };
      return scanned('data_path', () => scanImageNetLayout(flags.data_path, scan));
    }
    case 'image_folder': {
      if (!flags.data_path) {
        throw new DatasetFlagError('data_path', '--data_set image_folder trains on --data_path, which is empty: pass the folder whose class folders hold the training images');
      }
      const train = scanned('data_path', () => scanImageFolder(flags.data_path, scan), imagenetLayoutHint(flags.data_path));
      checkClassCount(train, 'data_path', flags.nb_classes);
      if (!evaluation) return { train, val: null };
      if (!flags.eval_data_path) {
        throw new DatasetFlagError('eval_data_path', '--data_set image_folder evaluates on --eval_data_path, which is empty: pass the folder ' +
          'whose class folders hold the evaluation images, or --disable_eval true to train without evaluating');
      }
      const val = scanned('eval_data_path', () => scanImageFolder(flags.eval_data_path, scan), imagenetLayoutHint(flags.eval_data_path));
      checkClassCount(val, 'eval_data_path', flags.nb_classes);
      scanned('eval_data_path', () => checkSameClasses(train, val, { train: `--data_path ${train.root}`, val: `--eval_data_path ${val.root}` }));
      return { train, val };
    }
    case 'CIFAR': {
      if (!flags.data_path) throw new DatasetFlagError('data_path', '--data_set CIFAR reads CIFAR-100 from --data_path/cifar-100-python, and --data_path is empty');
      const read = (split: 'train' | 'test') => {
        try {
          return readCifar100(flags.data_path, split, { keep: keepInMemory });
        } catch (error) {
          if (error instanceof CifarError) throw new DatasetFlagError('data_path', error.message);
          throw error;
        }
      };
      const train = read('train');
      const val = evaluation ? read('test') : null;
      const notes = [...new Set([...train.notes, ...(val?.notes ?? [])])];
      return { train, val, ...(notes.length ? { notes } : {}) };
    }
    default:
      throw new DatasetFlagError('data_set', `--data_set ${flags.data_set}: must be IMNET, image_folder or CIFAR`);
  }
}

/** Dataset flags that are set but have no effect, as in the official script; one line each. */
export function unusedDatasetFlags(flags: DatasetFlags): string[] {
  if (flags.data_set === 'CIFAR' && flags.eval_data_path) {
    return [`--eval_data_path ${flags.eval_data_path} is unused with --data_set CIFAR, which evaluates on CIFAR-100's test file as the official script does`];
  }
  if (flags.data_set === 'IMNET' && flags.eval_data_path) {
    return [`--eval_data_path ${flags.eval_data_path} is unused with --data_set IMNET, which evaluates on --data_path's val/ as the ` +
      'official script does; to evaluate on another folder pass --data_set image_folder with the training class folders as --data_path'];
  }
  return [];
}

/** The folder's entries (following symbolic links) as sorted folder and file names; [] for no folder. */
function folderEntries(path: string): { folders: string[]; files: string[] } {
  let names: string[];
  try {
    names = readdirSync(path).filter((n) => !n.startsWith('.')).sort();
  } catch {
    return { folders: [], files: [] };
  }
  const folders: string[] = [];
  const files: string[] = [];
  for (const name of names) {
    try {
      const stat = statSync(join(path, name));
      if (stat.isDirectory()) folders.push(name);
      else if (stat.isFile()) files.push(name);
    } catch {
      // a dangling link is neither
    }
  }
  return { folders, files };
}

const isImage = (name: string) => IMAGE_EXTENSIONS.includes(extname(name).toLowerCase());

export type DetectedDataSet = 'IMNET' | 'image_folder' | 'CIFAR';

/** The layouts a data folder given without --data_set may have, for messages. */
export function acceptedLayouts(root: string): string {
  return `the ImageNet layout (${join(root, 'train', '<class>', '<image>')} and ${join(root, 'val', '<class>', '<image>')}, as --data_set IMNET), ` +
    `an image folder (${join(root, '<class>', '<image>')}, as --data_set image_folder) or CIFAR-100's files ` +
    `(${join(root, CIFAR100_FOLDER, '{train,test,meta}')}, as --data_set CIFAR)`;
}

/**
 * The layout of a data folder given without --data_set. The rule: a folder holding both train/
 * and val/ folders is the ImageNet layout (IMNET); otherwise one holding CIFAR-100's files (or
 * being their folder) is CIFAR; otherwise a folder with at least one subfolder holding images
 * directly is an image folder (image_folder: its subfolders are the classes). IMNET and an image
 * folder at once cannot happen unless classes are named train and val, and then IMNET wins, as the
 * default of pix train. Anything else throws a DatasetFlagError naming every layout.
 */
export function detectDataSet(root: string): DetectedDataSet {
  if (!existsSync(root) || !statSync(root).isDirectory()) {
    throw new DatasetFlagError('data_path', `${root} is not a folder; a data folder has ${acceptedLayouts(root)}`);
  }
  const { folders, files } = folderEntries(root);
  if (folders.includes('train') && folders.includes('val')) return 'IMNET';
  if (isCifarFolder(root)) return 'CIFAR';
  if (folders.some((f) => folderEntries(join(root, f)).files.some(isImage))) return 'image_folder';
  const held = [...folders.map((f) => `${f}/`), ...files];
  throw new DatasetFlagError('data_path', `${root} is in none of the layouts a data folder may have: ${acceptedLayouts(root)}` +
    (held.length ? `; it holds ${listNames(held)}` : '; it is empty') +
    (files.some(isImage) && folders.length === 0 ? ' (images need one folder per class)' : ''));
}

export interface DataFolderSplits extends DatasetSplits<ImageFolder | null> {
  data_set: DetectedDataSet;
}

/**
 * A data folder's splits, its layout detected (detectDataSet) and resolved by datasetSplits: the
 * ImageNet layout gives train/ and val/, CIFAR-100 its train and test files; an image folder is
 * both its own training and its own evaluation split (the same object, scanned once). No model is
 * named, so an image folder's class count is taken as it is; a caller with a model checks the
 * count against its head.
 */
export function dataFolderSplits(root: string, options: SplitOptions = {}): DataFolderSplits {
  const { evaluation = true, ...scan } = options;
  const data_set = detectDataSet(root);
  if (data_set === 'IMNET' || data_set === 'CIFAR') {
    return { data_set, ...datasetSplits({ data_set, data_path: root, eval_data_path: '', nb_classes: 0 }, { ...scan, evaluation }) };
  }
  const flags = { data_set, data_path: root, eval_data_path: root, nb_classes: folderEntries(root).folders.length };
  const { train } = datasetSplits(flags, { ...scan, evaluation: false });
  return { data_set, train, val: evaluation ? train : null };
}
