// --finetune: start from a checkpoint's weights (.pth or safetensors; the state dict under
// --model_key), as the official script does: a classifier head whose shape differs from the new
// model's (another class count) is dropped and keeps its fresh initialisation, and the rest loads
// non-strictly, with what did not load reported.
import { applyState, type StateLoadReport } from '../checkpoints/model_state';
import { readCheckpointTensors } from '../checkpoints/pth/read_checkpoint';
import type { Model } from '../engine/addon';

const HEAD_KEYS = ['classifier.weight', 'classifier.bias', 'fc.weight', 'fc.bias'];

export interface FinetuneReport extends StateLoadReport {
  droppedHead: string[];
}

export function loadFinetuneWeights(model: Model, path: string, modelKey: string): FinetuneReport {
  const { tensors } = readCheckpointTensors(path, modelKey);
  const shapes = new Map(model.stateEntries().map((e) => [e.key, e.shape]));
  const droppedHead: string[] = [];
  for (const key of HEAD_KEYS) {
    const stored = tensors.get(key);
    const expected = shapes.get(key);
    if (stored && expected && stored.shape.join(',') !== expected.join(',')) {
      tensors.delete(key);
      droppedHead.push(key);
    }
  }
  return { ...applyState(model, tensors, { strict: false }), droppedHead };
}
