// A checkpoint made ready to run: its state dict read (either format), the network it belongs to
// (the one asked for, else the one its metadata names, else the engine model it fits exactly), built
// with the checkpoint's class count and loaded strictly; plus what the checkpoint says about its
// input size, input normalisation and class names. Used by the evaluation, gate and classification tasks, which run in
// worker processes; it does no forward pass itself. A checkpoint that cannot be read or does not fit
// the model, and an unknown model name, are refused with a RequestError (400) naming them.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadEngine, type Model } from '../engine/addon';
import { canonicalModelName, matchModel, type CatalogEntry } from '../engine/model_catalog';
import type { Normalization } from '../data/transforms';
import { RequestError } from '../request_error';
import { applyState } from './model_state';
import { readCheckpointTensors } from './pth/read_checkpoint';
import { checkpointNormalization, savedRunConfig } from './saved_config';

export interface InferenceModel {
  model: Model;
  /** The run config saved with a workbench checkpoint (or the official script's args), when there is one. */
  config: Record<string, unknown> | null;
  /** The mean and std the network was trained with (the ImageNet default unless the checkpoint says otherwise). */
  normalization: Normalization;
  classNames: string[] | null;
}

/** Where the training classes' folders are: data_path itself with --data_set image_folder, else data_path/val. */
function classFolderRoot(config: Record<string, unknown>): string | null {
  const dataPath = config.data_path;
  if (typeof dataPath !== 'string' || !dataPath) return null;
  return config.data_set === 'image_folder' ? dataPath : join(dataPath, 'val');
}

/** Class names: metadata class_names (a JSON list), else the class folders of the training data when their count fits. */
function classNamesOf(metadata: Record<string, unknown>, config: Record<string, unknown> | null, classes: number): string[] | null {
  if (typeof metadata.class_names === 'string') {
    try {
      const names = JSON.parse(metadata.class_names) as unknown;
      if (Array.isArray(names) && names.length === classes) return names.map(String);
    } catch {
      // fall through to the data folder
    }
  }
  const root = config && classFolderRoot(config);
  if (!root) return null;
  try {
    const names = readdirSync(root, { withFileTypes: true }).filter((e) => e.isDirectory() && !e.name.startsWith('.'))
      .map((e) => e.name).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    return names.length === classes ? names : null;
  } catch {
    return null;
  }
}

export function loadInferenceModel(path: string, requested: string | undefined, catalog: CatalogEntry[]): InferenceModel {
  const { tensors, metadata } = readCheckpointTensors(path);
  const matched = matchModel(catalog, tensors);
  const named = requested ?? (typeof metadata.model === 'string' ? metadata.model : undefined);
  const name = named === undefined ? matched.model : canonicalModelName(catalog, named);
  if (!name) {
    throw new RequestError(400, named === undefined
      ? `${path} fits none of the engine's models exactly: pass the model name`
      : `unknown model '${named}' (valid: ${catalog.map((e) => e.name).join(', ')})`);
  }
  const model = new (loadEngine().Model)(name, { numClasses: matched.classes ?? 0 });
  try {
    applyState(model, tensors, { strict: true });
  } catch (error) {
    if (error instanceof RequestError) throw new RequestError(error.status, `${path}: ${error.message}`, { cause: error });
    throw error;
  }
  const config = savedRunConfig(metadata);
  return { model, config, normalization: checkpointNormalization(metadata).normalization, classNames: classNamesOf(metadata, config, model.numClasses) };
}

/** The requested input size, else the one the checkpoint was trained at, else 224. */
export function inputSizeFor(requested: number | undefined, loaded: InferenceModel): number {
  const trained = loaded.config?.input_size;
  return requested ?? (typeof trained === 'number' && Number.isInteger(trained) && trained > 0 ? trained : 224);
}
