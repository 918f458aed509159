// Model weights from either format a user brings: a PyTorch .pth (torch.save, zip or legacy; bare
// state dict or full training checkpoint) or safetensors. The format is told by content, not by
// the file's name, so a misnamed file still loads.
import { readFileSync } from 'node:fs';
import { modelTensors } from '../model_state';
import { parseSafetensors, type StoredTensor } from '../safetensors';
import { extractStateDict, locateStateDict, looksLikePth, parsePth, pthMetadata } from './read_pth';

export interface CheckpointTensors {
  format: 'pth' | 'safetensors';
  /** The model's state dict: a training checkpoint's model part, without DataParallel's `module.` prefix. */
  tensors: Map<string, StoredTensor>;
  /** pth: `epoch` and `args` when the checkpoint has them; safetensors: its string metadata. */
  metadata: Record<string, unknown>;
  /** pth: the top-level key the state dict was under ('model', 'module'); absent for a bare state dict. */
  stateDictKey?: string;
}

/** safetensors opens with an 8-byte header length and then the JSON header's '{'. */
function looksLikeSafetensors(buffer: Buffer): boolean {
  return buffer.length >= 9 && buffer[8] === 0x7b;
}

export function readCheckpointTensors(path: string, modelKey = 'model|module'): CheckpointTensors {
  const buffer = readFileSync(path);
  if (looksLikeSafetensors(buffer)) {
    const { tensors, metadata } = parseSafetensors(buffer, path);
    return { format: 'safetensors', tensors: modelTensors(tensors), metadata };
  }
  if (!looksLikePth(buffer)) throw new Error(`${path}: neither a PyTorch checkpoint (.pth) nor a safetensors file`);
  const tree = parsePth(buffer, path);
  try {
    const { key } = locateStateDict(tree, modelKey);
    return { format: 'pth', tensors: extractStateDict(tree, modelKey), metadata: { ...pthMetadata(tree) }, ...(key === undefined ? {} : { stateDictKey: key }) };
  } catch (error) {
    throw new Error(`${path}: ${(error as Error).message}`);
  }
}
