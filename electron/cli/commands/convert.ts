// `pix convert IN OUT`: a model's weights between PyTorch .pth and safetensors. IN's format is
// read from its content; OUT's extension picks the format written (host/checkpoints/convert.ts).
import { parseArgs } from 'node:util';
import { convertCheckpoint } from '../../host/checkpoints/convert';
import type { Command } from '../command';

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
    const result = convertCheckpoint(input, output, values.model_key);
    const from = result.stateDictKey === undefined ? '' : ` (the state dict under '${result.stateDictKey}')`;
    console.log(`wrote ${result.tensors} tensors of ${input}${from} to ${output}`);
    return 0;
  },
};
