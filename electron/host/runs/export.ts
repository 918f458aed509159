// exportRuns: runs' data as one file for a spreadsheet or a notebook. CSV: one row per iteration
// of every run, with the run id first, columns as metrics.jsonl names them (empty where a value is
// missing). JSON: per run its id, name, config, epoch records (log.txt) and iterations. Reads the
// files, not the columns held for charts, so an export holds exactly what the trainer wrote.
import { join } from 'node:path';
import { iterationMetricNames, type EpochRecord, type IterationPoint } from '../../../shared/api';
import { JsonLinesReader } from './jsonl_reader';
import type { RunRecord } from './run_store';

const CSV_COLUMNS = ['epoch', 'step', 'time', ...iterationMetricNames] as const;

function iterations(record: RunRecord): IterationPoint[] {
  return new JsonLinesReader<IterationPoint>(join(record.config.output_dir, 'metrics.jsonl')).read().lines;
}

function epochs(record: RunRecord): EpochRecord[] {
  return new JsonLinesReader<EpochRecord>(join(record.config.output_dir, 'log.txt')).read().lines;
}

function csvField(value: unknown): string {
  if (value === null || value === undefined) return '';
  const text = String(value);
  return /[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function exportRuns(records: RunRecord[], format: 'csv' | 'json'): { fileName: string; mimeType: string; text: string } {
  const base = records.length === 1 ? `run-${records[0]!.id}` : `runs-${records.length}`;
  if (format === 'json') {
    const runs = records.map((r) => ({ id: r.id, name: r.name, config: r.config, epochs: epochs(r), iterations: iterations(r) }));
    return { fileName: `${base}.json`, mimeType: 'application/json', text: JSON.stringify({ runs }, null, 1) };
  }
  const rows = [['run_id', ...CSV_COLUMNS].join(',')];
  for (const record of records) {
    for (const point of iterations(record)) {
      rows.push([record.id, ...CSV_COLUMNS.map((c) => point[c])].map(csvField).join(','));
    }
  }
  return { fileName: `${base}.csv`, mimeType: 'text/csv', text: rows.join('\n') + '\n' };
}
