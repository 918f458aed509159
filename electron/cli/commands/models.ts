// `pix models [--json]`: every network the engine builds, with aliases, parameter count and
// multiply-accumulates at 224x224.
import { parseArgs } from 'node:util';
import { loadEngine } from '../../host/engine/addon';
import type { Command } from '../command';
import { formatTable } from '../table';

export interface ModelSummary {
  name: string;
  aliases: string[];
  description: string;
  parameters: number;
  macs224: number;
}

export function listModels(): ModelSummary[] {
  const engine = loadEngine();
  return engine.modelRegistry().map((entry) => {
    const model = new engine.Model(entry.name);
    return { ...entry, parameters: model.parameterCount, macs224: model.macs(224) };
  });
}

function modelTable(rows: ModelSummary[]): string {
  const header = ['model', 'aliases', 'parameters', 'GMACs@224', 'description'];
  const body = rows.map((r) => [r.name, r.aliases.join(', ') || '-', r.parameters.toLocaleString('en-US'),
    (r.macs224 / 1e9).toFixed(3), r.description]);
  return formatTable([header, ...body], new Set([2, 3])).join('\n');
}

export const modelsCommand: Command = {
  name: 'models',
  summary: 'List the networks: names, aliases, parameter counts and MACs at 224x224',
  usage: 'pix models [--json]',
  async run(args) {
    const { values } = parseArgs({ args, options: { json: { type: 'boolean', default: false } }, strict: true });
    const rows = listModels();
    console.log(values.json ? JSON.stringify(rows, null, 2) : modelTable(rows));
    return 0;
  },
};
