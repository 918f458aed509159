// A model's weights between PyTorch .pth and safetensors: the input's format is read from its
// content, the output's extension picks the format written. Only the model's state dict travels (a
// training checkpoint's optimizer and EMA state stay behind), under the official key names and
// PyTorch layouts, with the epoch; args go into safetensors metadata, and into a .pth only the
// recorded --imagenet_default_mean_and_std, which inference needs (see write_pth.ts).
// Shared by `pix convert` and the workbench's convertCheckpoint.
import { statSync } from 'node:fs';
import { extname } from 'node:path';
import { RequestError } from '../request_error';
import { readCheckpointTensors } from './pth/read_checkpoint';
import { writePth, type PthWriteOptions } from './pth/write_pth';
import { savedRunConfig } from './saved_config';
import { writeSafetensors } from './safetensors';

export const CONVERT_EXTENSIONS = ['.safetensors', '.pth', '.pt'];

/** safetensors metadata is a string map: numbers and objects (args) become JSON. */
function stringMetadata(metadata: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = { format: 'pt' };  // safetensors' tag for PyTorch layouts
  for (const [key, value] of Object.entries(metadata)) {
    out[key] = typeof value === 'string' ? value : JSON.stringify(value, (_, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
  }
  return out;
}

function epochOf(metadata: Record<string, unknown>): number | undefined {
  const { epoch } = metadata;
  if (typeof epoch === 'number' && Number.isSafeInteger(epoch)) return epoch;
  if (typeof epoch === 'string' && /^-?\d+$/.test(epoch)) return Number(epoch);
  return undefined;
}

export interface ConvertResult {
  path: string;
  bytes: number;
  tensors: number;
  /** pth: the top-level key the state dict was under. */
  stateDictKey?: string;
}

export function convertCheckpoint(input: string, output: string, modelKey = 'model|module'): ConvertResult {
  const extension = extname(output).toLowerCase();
  if (!CONVERT_EXTENSIONS.includes(extension)) {
    throw new RequestError(400, `${output}: the output must end in .safetensors, .pth or .pt, which picks its format`);
  }
  const { tensors, metadata, stateDictKey } = readCheckpointTensors(input, modelKey);
  if (extension === '.safetensors') {
    writeSafetensors(output, tensors, stringMetadata(metadata));
  } else {
    const epoch = epochOf(metadata);
    const options: PthWriteOptions = epoch === undefined ? {} : { epoch };
    const meanAndStd = savedRunConfig(metadata)?.imagenet_default_mean_and_std;
    if (typeof meanAndStd === 'boolean') options.args = { imagenet_default_mean_and_std: meanAndStd };
    writePth(output, tensors, options);
  }
  return { path: output, bytes: statSync(output).size, tensors: tensors.size, ...(stateDictKey === undefined ? {} : { stateDictKey }) };
}
