// `pix convert IN OUT`: a model's weights between PyTorch .pth and safetensors. IN's format is
// read from its content; OUT's extension picks the format written. Only the model's state dict
// travels (a training checkpoint's optimizer and EMA state stay behind), under the official key
// names and PyTorch layouts, with the epoch; args go into safetensors metadata only (see write_pth.ts).
import { extname } from 'node:path';
import { parseArgs } from 'node:util';
import { readCheckpointTensors } from '../../host/checkpoints/pth/read_checkpoint';
import { writePth } from '../../host/checkpoints/pth/write_pth';
import { writeSafetensors } from '../../host/checkpoints/safetensors';
import type { Command } from '../command';

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

export const convertCommand: Command = {
  name: 'convert',
  summary: 'Convert model weights between PyTorch .pth and .safetensors (the output extension picks the format)',
  usage: 'pix convert IN OUT  (OUT ending in .safetensors, .pth or .pt) [--model_key model|module]',
  async run(args) {
    const { values, positionals } = parseArgs({
      args, strict: true, allowPositionals: true,
      options: { model_key: { type: 'string', default: 'model|module' } },
    });
    if (positionals.length !== 2) throw new Error(`give an input and an output file; usage: ${convertCommand.usage}`);
    const [input, output] = positionals as [string, string];
    const extension = extname(output).toLowerCase();
    if (!['.safetensors', '.pth', '.pt'].includes(extension)) {
      throw new Error(`${output}: the output must end in .safetensors, .pth or .pt, which picks its format`);
    }
    const { tensors, metadata, stateDictKey } = readCheckpointTensors(input, values.model_key);
    if (extension === '.safetensors') {
      writeSafetensors(output, tensors, stringMetadata(metadata));
    } else {
      const epoch = epochOf(metadata);
      writePth(output, tensors, epoch === undefined ? {} : { epoch });
    }
    const from = stateDictKey === undefined ? '' : ` (the state dict under '${stateDictKey}')`;
    console.log(`wrote ${tensors.size} tensors of ${input}${from} to ${output}`);
    return 0;
  },
};
