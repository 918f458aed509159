// `pix inspect FILE [--json]`: what a checkpoint holds — its format, the training metadata (epoch,
// args) and every tensor of the model's state dict with shape, dtype and value statistics — for
// PyTorch .pth files (read by the safe unpickler: nothing in them runs) and safetensors.
import { parseArgs } from 'node:util';
import { readCheckpointTensors } from '../../host/checkpoints/pth/read_checkpoint';
import { summarize } from '../../host/checkpoints/tensor_stats';
import type { Command } from '../command';
import { formatTable } from '../table';

// name, shape and dtype read left to right; the statistics line up on their right edge.
const NUMERIC_COLUMNS = new Set([3, 4, 5, 6]);

/** Python ints past 2^53 arrive as bigint, which JSON.stringify refuses. */
function toJson(value: unknown, indent?: number): string {
  return JSON.stringify(value, (_, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), indent);
}

function formatNumber(v: number): string {
  if (Number.isNaN(v)) return '-';
  return Number.isInteger(v) && Math.abs(v) < 1e6 ? String(v) : v.toPrecision(4);
}


export const inspectCommand: Command = {
  name: 'inspect',
  summary: 'Show the metadata and every tensor (shape, dtype, min, max, mean, std) of a .pth or .safetensors checkpoint',
  usage: 'pix inspect FILE [--json] [--model_key model|module]',
  async run(args) {
    const { values, positionals } = parseArgs({
      args, strict: true, allowPositionals: true,
      options: { json: { type: 'boolean', default: false }, model_key: { type: 'string', default: 'model|module' } },
    });
    if (positionals.length !== 1) throw new Error(`give exactly one file; usage: ${inspectCommand.usage}`);
    const file = positionals[0]!;
    const { format, tensors, metadata, stateDictKey } = readCheckpointTensors(file, values.model_key);
    const summaries = [...tensors].map(([name, tensor]) => summarize(name, tensor));
    if (values.json) {
      console.log(toJson({ file, format, stateDictKey: stateDictKey ?? null, metadata, tensors: summaries }, 2));
      return 0;
    }
    const where = stateDictKey === undefined ? '' : `, state dict under '${stateDictKey}'`;
    const lines = [`${file}: ${format === 'pth' ? 'PyTorch checkpoint' : 'safetensors'}${where}`];
    for (const [key, value] of Object.entries(metadata)) {
      if (value !== null && typeof value === 'object') {
        lines.push(`${key}:`);
        for (const [k, v] of Object.entries(value)) lines.push(`  ${k}: ${toJson(v)}`);
      } else {
        lines.push(`${key}: ${typeof value === 'string' ? value : toJson(value)}`);
      }
    }
    const rows = summaries.map((s) => [s.name, `[${s.shape.join(',')}]`, s.dtype, ...[s.min, s.max, s.mean, s.std].map(formatNumber)]);
    lines.push('', ...formatTable([['name', 'shape', 'dtype', 'min', 'max', 'mean', 'std'], ...rows], NUMERIC_COLUMNS));
    const count = summaries.reduce((total, s) => total + s.shape.reduce((a, b) => a * b, 1), 0);
    lines.push('', `${summaries.length} tensors, ${count.toLocaleString('en-US')} values`);
    console.log(lines.join('\n'));
    return 0;
  },
};
