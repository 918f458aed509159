// `pix models [--json]`: every network the engine builds, with aliases, parameter count and
// multiply-accumulates at 224x224.
import { parseArgs } from 'node:util';
import { buildModelCatalog, type CatalogEntry } from '../../host/engine/model_catalog';
import type { Command } from '../command';
import { formatTable } from '../table';

function modelTable(rows: CatalogEntry[]): string {
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
    const rows = buildModelCatalog();
    console.log(values.json ? JSON.stringify(rows.map(({ name, aliases, description, parameters, macs224 }) =>
      ({ name, aliases, description, parameters, macs224 })), null, 2) : modelTable(rows));
    return 0;
  },
};
