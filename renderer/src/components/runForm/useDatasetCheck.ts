// Live validation of a dataset path: asks the host (checkDataset) once typing pauses, and keeps
// only the answer for the path currently typed. '' is the embedded demo digits, checked like any path.
// datasetUse then reads the answer as `pix train` will use the folder under the form's --data_set
// (electron/host/data/datasets.ts datasetSplits): the ImageNet layout trains on train/ and evaluates
// on val/; an image folder (class folders directly) is one set of images, the training set of
// --data_set image_folder, evaluated on --eval_data_path; CIFAR-100's files (cifar-100-python/)
// train on its train file and evaluate on its test file; each layout under another --data_set is
// refused, as pix train refuses it. --data_set CIFAR on a folder without CIFAR-100's files offers
// fetching them there (CifarFetch.tsx); the check is asked again when `revision` changes (a fetch done).
import { useEffect, useState } from 'react';
import type { DatasetCheck } from '../../../../shared/api';
import { errorMessage, formatCount } from '../../format';
import { useStores } from '../../store/stores';

export type DatasetCheckState =
  | { status: 'checking'; path: string }
  | { status: 'checked'; check: DatasetCheck }
  | { status: 'failed'; path: string; message: string };

/** Long enough that a typed path is not checked letter by letter. */
const datasetCheckDelayMs = 350;

export function useDatasetCheck(path: string, revision: unknown = null): DatasetCheckState {
  const { client } = useStores();
  const [state, setState] = useState<DatasetCheckState>({ status: 'checking', path });
  useEffect(() => {
    let current = true;
    setState({ status: 'checking', path });
    const timer = setTimeout(() => {
      client.api.checkDataset({ path }).then(
        (check) => current && setState({ status: 'checked', check }),
        (error) => current && setState({ status: 'failed', path, message: errorMessage(error) }),
      );
    }, datasetCheckDelayMs);
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [client, path, revision]);
  return state;
}

/** The run flags that decide how pix train reads the data folder. */
export interface DatasetFlagsInForm {
  data_set: string;
  eval_data_path: string;
  /** null while the field does not parse (its own error is shown). */
  nb_classes: number | null;
  /** The run evaluates at some point (--eval, or not --disable_eval). */
  evaluates: boolean;
}

export interface DatasetUse {
  /** What the folder holds and what the run uses it as; null when there is a problem instead. */
  hint: string | null;
  /** Why the run cannot use the data as the flags say, by the flag to change. */
  problems: Partial<Record<'data_path' | 'eval_data_path' | 'nb_classes', string>>;
  /** Images the run trains on (for iterations per epoch); null when unknown or unusable. */
  trainImages: number | null;
  /** The folder to offer fetching CIFAR-100 into: --data_set CIFAR on a folder that does not hold it. */
  cifarFetch?: string;
}

const plural = (n: number, word: string) => `${formatCount(n)} ${word}${n === 1 ? '' : word.endsWith('s') ? 'es' : 's'}`;

/** The dataset check read under the form's --data_set, as pix train resolves the folder. */
export function datasetUse(state: DatasetCheckState, flags: DatasetFlagsInForm): DatasetUse {
  if (state.status === 'checking') return { hint: 'Checking…', problems: {}, trainImages: null };
  if (state.status === 'failed') return { hint: null, problems: { data_path: `Could not check the dataset: ${state.message}` }, trainImages: null };
  const { check } = state;
  if (!check.ok) {
    // Training never downloads; the command that does is the fix for a folder without CIFAR-100's files.
    if (flags.data_set !== 'CIFAR' || check.path === '') return { hint: null, problems: { data_path: check.problem }, trainImages: null };
    const command = `pix data fetch-cifar --data_path ${check.path}`;
    return { hint: null, problems: { data_path: `${check.problem}. To download CIFAR-100 there: ${command}` }, trainImages: null, cifarFetch: check.path };
  }

  const demo = check.path === '';
  const where = demo ? 'the embedded demo digits' : check.path;
  const classes = plural(check.classes, 'class');
  const layout = check.dataSet ?? 'IMNET';  // a host from before dataSet was reported checked the ImageNet layout only
  if (layout === 'CIFAR' || flags.data_set === 'CIFAR') return cifarUse(check, flags, where, classes, demo);
  if (layout === 'IMNET') {
    const counts = `${classes} · ${formatCount(check.trainImages)} train / ${formatCount(check.valImages)} val images`;
    if (flags.data_set === 'image_folder') {
      const problem = demo
        ? '--data_set image_folder needs --data_path: without it the run trains on the embedded demo digits, which are in the ' +
          'ImageNet layout (train/ and val/) of --data_set IMNET'
        : `${where} is in the ImageNet layout (train/ and val/, ${counts}), not an image folder: set --data_set IMNET, or pass its ` +
          'train/ folder as --data_path and its val/ folder as --eval_data_path';
      return { hint: null, problems: { data_path: problem }, trainImages: null };
    }
    return { hint: `${counts}${demo ? ' (embedded demo digits)' : ''}`, problems: {}, trainImages: check.trainImages };
  }

  // An image folder: one set of images (the host counts it as both its train and its val).
  const images = plural(check.trainImages, 'image');
  if (flags.data_set !== 'image_folder') {
    return {
      hint: null,
      problems: {
        data_path: `${where} is an image folder (${classes}, ${images}, no train/ and val/): --data_set ${flags.data_set} needs ` +
          'the ImageNet layout; set --data_set image_folder to train on it, with the evaluation class folders as --eval_data_path',
      },
      trainImages: null,
    };
  }
  const problems: DatasetUse['problems'] = {};
  if (flags.nb_classes !== null && flags.nb_classes !== check.classes) {
    problems.nb_classes = `--nb_classes is ${flags.nb_classes} but ${where} holds ${plural(check.classes, 'class folder')}: with ` +
      `--data_set image_folder they must agree; pass ${check.classes}`;
  }
  if (flags.evaluates && flags.eval_data_path.trim() === '') {
    problems.eval_data_path = '--data_set image_folder evaluates on --eval_data_path, which is empty: pass the folder of evaluation ' +
      'class folders, or --disable_eval true to train without evaluating';
  }
  const evaluation = !flags.evaluates ? 'no evaluation (--disable_eval)' : 'evaluated on --eval_data_path';
  return { hint: `Image folder: ${classes} · ${images}, all used as the training set; ${evaluation}`, problems, trainImages: check.trainImages };
}

/** --data_set CIFAR, or a folder of CIFAR-100's files: usable only together. */
function cifarUse(check: Extract<DatasetCheck, { ok: true }>, flags: DatasetFlagsInForm, where: string, classes: string, demo: boolean): DatasetUse {
  if (check.dataSet === 'CIFAR') {
    const counts = `CIFAR-100: ${classes} · ${formatCount(check.trainImages)} train / ${formatCount(check.valImages)} test images`;
    if (flags.data_set === 'CIFAR') return { hint: counts, problems: {}, trainImages: check.trainImages };
    return { hint: null, problems: { data_path: `${where} holds CIFAR-100's files (${counts}): set --data_set CIFAR to train on them` }, trainImages: null };
  }
  const problem = demo
    ? '--data_set CIFAR needs --data_path: the folder holding cifar-100-python/ (without it the run trains on the embedded demo digits)'
    : `--data_set CIFAR reads CIFAR-100 from ${where}/cifar-100-python/ (train, test, meta), and ${where} is ` +
      `${check.dataSet === 'image_folder' ? 'an image folder' : 'in the ImageNet layout'}: set --data_set ` +
      `${check.dataSet === 'image_folder' ? 'image_folder' : 'IMNET'}, or pass the folder holding cifar-100-python/ ` +
      '(pix data fetch-cifar --data_path DIR downloads it)';
  return { hint: null, problems: { data_path: problem }, trainImages: null };
}
