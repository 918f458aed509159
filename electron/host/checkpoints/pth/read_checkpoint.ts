// Model weights from either format a user brings: a PyTorch .pth (torch.save, zip or legacy; bare
// state dict or full training checkpoint) or safetensors. The format is told by content, not by
// the file's name, so a misnamed file still loads. A file that is neither, or a damaged or
// unsupported one, is refused with a RequestError (400) naming the file and what is wrong: the
// caller chose the file, so in serve mode it is the caller's error, not the host's 500.
import { readFileSync } from 'node:fs';
import { RequestError } from '../../request_error';
import { modelTensors } from '../model_state';
import { parseSafetensors, SafetensorsError, type StoredTensor } from '../safetensors';
import { extractStateDict, locateStateDict, looksLikePth, parsePth, PthError, pthMetadata } from './read_pth';

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

/** The parsers' refusals (their messages already start with the file's name) as the caller's error. */
function refused(error: unknown): never {
  if (error instanceof SafetensorsError || error instanceof PthError) throw new RequestError(400, error.message, { cause: error });
  throw error;
}

export function readCheckpointTensors(path: string, modelKey = 'model|module'): CheckpointTensors {
  const buffer = readFileSync(path);
  if (looksLikeSafetensors(buffer)) {
    let parsed: ReturnType<typeof parseSafetensors>;
    try {
      parsed = parseSafetensors(buffer, path);
    } catch (error) {
      refused(error);
    }
    return { format: 'safetensors', tensors: modelTensors(parsed.tensors), metadata: parsed.metadata };
  }
  if (!looksLikePth(buffer)) throw new RequestError(400, `${path}: neither a PyTorch checkpoint (.pth) nor a safetensors file`);
  let tree: unknown;
  try {
    tree = parsePth(buffer, path);
  } catch (error) {
    refused(error);
  }
  try {
    const { key } = locateStateDict(tree, modelKey);
    return { format: 'pth', tensors: extractStateDict(tree, modelKey), metadata: { ...pthMetadata(tree) }, ...(key === undefined ? {} : { stateDictKey: key }) };
  } catch (error) {
    // The file holds no state dict where one is looked for (read_pth.ts words what it found).
    throw new RequestError(400, `${path}: ${(error as Error).message}`, { cause: error });
  }
}
