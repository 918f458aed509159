// Model checkpoints in safetensors: the state dict under its official keys and PyTorch layouts
// (loadable by `safetensors.torch.load_file` + `model.load_state_dict`), with metadata naming
// the model and its class count, so a checkpoint alone is enough to rebuild its network.
import { loadEngine, type Model } from '../engine/addon';
import { applyState, classCountOf, stripModulePrefix, type StateLoadReport } from './model_state';
import { readSafetensors, writeSafetensors, type TensorToWrite } from './safetensors';

export interface CheckpointMetadata {
  /** Free-form string entries kept beside the weights (epoch, run config as JSON, …). */
  [key: string]: string;
}

/** Writes the model's full state dict atomically, with `model` and `num_classes` metadata added. */
export function saveModelCheckpoint(model: Model, path: string, metadata: CheckpointMetadata = {}): void {
  const tensors = new Map<string, TensorToWrite>();
  for (const entry of model.stateEntries()) {
    const value = model.getState(entry.key);
    const data = value.toArray();
    tensors.set(entry.key, { dtype: entry.dtype === 'i64' ? 'I64' : 'F32', shape: entry.shape, data });
    value.dispose();
  }
  writeSafetensors(path, tensors, { ...metadata, model: model.name, num_classes: String(model.numClasses), format: 'pt' });
}

export interface LoadedCheckpoint {
  model: Model;
  report: StateLoadReport;
  metadata: Record<string, string>;
}

/**
 * Builds the network a checkpoint holds and loads it. The model name comes from `modelName` or
 * else from the checkpoint's metadata; the class count from the checkpoint's head.
 */
export function loadModelCheckpoint(path: string, options: { modelName?: string; strict?: boolean } = {}): LoadedCheckpoint {
  const { tensors: stored, metadata } = readSafetensors(path);
  const tensors = stripModulePrefix(stored);
  const name = options.modelName ?? metadata.model;
  if (!name) throw new Error(`${path} does not say which model it holds: pass the model name`);
  const model = new (loadEngine().Model)(name, { numClasses: classCountOf(tensors) ?? 0 });
  const report = applyState(model, tensors, { strict: options.strict ?? true });
  return { model, report, metadata };
}
