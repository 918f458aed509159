// The New-run form as data, generated from the run-config table (shared/config.ts): its groups,
// each field's label, input kind and choices, the text a field shows for a value and back, and
// validation by runConfigSchema itself, so the form checks exactly what the host will. Pure; the
// React form renders this and holds no flag knowledge of its own.
import { z } from 'zod';
import { runConfigSchema, runFlags, type FlagGroup, type FlagSpec, type RunConfig, type RunFlagName } from '../../../../shared/config';

/** The order groups appear in, most-edited first. */
export const groupOrder: readonly FlagGroup[] = [
  'model', 'optimization', 'schedule', 'augmentation', 'regularization', 'ema', 'checkpoints', 'data', 'evaluation', 'runtime',
];

export const groupTitles: Record<FlagGroup, string> = {
  model: 'Model',
  optimization: 'Optimization',
  schedule: 'Schedule',
  augmentation: 'Augmentation',
  regularization: 'Regularization',
  ema: 'EMA',
  checkpoints: 'Checkpoints',
  data: 'Data',
  evaluation: 'Evaluation',
  runtime: 'Runtime',
};

export interface FieldModel {
  name: RunFlagName;
  spec: FlagSpec;
  /** "Peak learning rate (--lr)": the help text's opening naming its flag. */
  label: string;
  /** The rest of the help text (caveats, defaults), shown under the control; null when none. */
  note: string | null;
  /** The allowed values when the flag's check is a fixed choice (opt, remode, …). */
  choices: readonly string[] | null;
}

/** A label longer than this is cut at its first parenthesis; the parenthesis becomes the note. */
const longTitle = 56;

/** Where `text` first has one of `separators` outside parentheses, or -1. */
function topLevelIndexOf(text: string, separators: readonly string[]): number {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    if (depth === 0 && separators.some((s) => text.startsWith(s, i))) return i;
    if (text[i] === '(') depth++;
    else if (text[i] === ')') depth = Math.max(0, depth - 1);
  }
  return -1;
}

/**
 * A flag's help as a short title and a note. Some help texts run to a paragraph ("Number of
 * classes: with --data_set image_folder, …"); as labels they pushed their inputs down out of line
 * with the row. The title is the help up to its first ": " or "; " outside parentheses, cut again
 * at its first parenthesis when still long; the rest is the note, every word kept. A help that
 * opens by naming one of its values ("IMNET: …") has no title of its own: the flag's name is used.
 */
export function splitHelp(name: RunFlagName): { title: string; note: string | null } {
  const spec = runFlags[name];
  const help = spec.help;
  let cut = topLevelIndexOf(help, [': ', '; ']);
  let title = cut < 0 ? help : help.slice(0, cut);
  if (title.length > longTitle && title.includes(' (')) {
    cut = title.indexOf(' (');
    title = title.slice(0, cut);
  }
  if (cut < 0) return { title: help, note: null };
  let note = help.slice(cut).replace(/^(: |; | )/, '');
  // A note that is one parenthesis reads better without it: "(default: weight_decay)".
  if (/^\([^()]*\)$/.test(note)) note = note.slice(1, -1);
  const choices = choicesOf(spec);
  if (choices?.includes(title)) return { title: name.charAt(0).toUpperCase() + name.slice(1).replaceAll('_', ' '), note: help };
  return { title, note };
}

/** The id of a flag's control: one form per page, so the flag's name is unique, and the error list can point at it. */
export function flagControlId(name: RunFlagName): string {
  return `run-flag-${name}`;
}

export function flagLabel(name: RunFlagName): string {
  return `${splitHelp(name).title} (--${name})`;
}

function choicesOf(spec: FlagSpec): readonly string[] | null {
  return spec.check instanceof z.ZodEnum ? (spec.check.options as string[]) : null;
}

export function formGroups(): { group: FlagGroup; title: string; fields: FieldModel[] }[] {
  const entries = Object.entries(runFlags) as [RunFlagName, FlagSpec][];
  return groupOrder.map((group) => ({
    group,
    title: groupTitles[group],
    fields: entries
      .filter(([, spec]) => spec.group === group)
      .map(([name, spec]) => ({ name, spec, label: flagLabel(name), note: splitHelp(name).note, choices: choicesOf(spec) })),
  }));
}

/** What a field holds while being edited: text for values typed, a boolean for a checkbox. */
export type FieldValue = string | boolean;
export type FormValues = Record<RunFlagName, FieldValue>;

export function fieldValueOf(spec: FlagSpec, value: unknown): FieldValue {
  if (spec.kind === 'bool' || spec.kind === 'switch') return value === true;
  if (value === null || value === undefined) return '';
  if (Array.isArray(value)) return value.join(' ');
  return String(value);
}

export function formValuesOf(config: Partial<RunConfig>): FormValues {
  const entries = Object.entries(runFlags) as [RunFlagName, FlagSpec][];
  return Object.fromEntries(
    entries.map(([name, spec]) => [name, fieldValueOf(spec, name in config ? config[name] : spec.default)]),
  ) as FormValues;
}

type Parsed = { ok: true; value: unknown } | { ok: false; problem: string };

/** A field's text as the flag's value, or why it is not one (before the schema's own checks). */
export function parseField(spec: FlagSpec, field: FieldValue): Parsed {
  if (typeof field === 'boolean') return { ok: true, value: field };
  const text = field.trim();
  switch (spec.kind) {
    case 'string':
      return { ok: true, value: field };
    case 'int':
    case 'float': {
      if (text === '') return spec.default === null ? { ok: true, value: null } : { ok: false, problem: 'a number is needed' };
      const n = Number(text);
      if (!Number.isFinite(n)) return { ok: false, problem: `"${text}" is not a number` };
      if (spec.kind === 'int' && !Number.isInteger(n)) return { ok: false, problem: `${text} is not a whole number` };
      return { ok: true, value: n };
    }
    case 'floats': {
      if (text === '') return spec.default === null ? { ok: true, value: null } : { ok: false, problem: 'one or more numbers are needed' };
      const parts = text.split(/[\s,]+/);
      const numbers = parts.map(Number);
      const bad = parts.find((_, i) => !Number.isFinite(numbers[i]));
      return bad === undefined ? { ok: true, value: numbers } : { ok: false, problem: `"${bad}" is not a number` };
    }
    default:
      return { ok: false, problem: `a ${spec.kind} flag takes a checkbox, not text` };
  }
}

export type FormErrors = Partial<Record<RunFlagName, string>>;

/** The complete config the form describes, or the reason each wrong field is wrong. */
export function validateForm(values: FormValues): { config: RunConfig | null; errors: FormErrors } {
  const errors: FormErrors = {};
  const raw: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(runFlags) as [RunFlagName, FlagSpec][]) {
    const parsed = parseField(spec, values[name]);
    if (parsed.ok) raw[name] = parsed.value;
    else errors[name] = parsed.problem;
  }
  const result = runConfigSchema.safeParse(raw);
  if (!result.success) {
    for (const issue of result.error.issues) {
      const name = issue.path[0] as RunFlagName | undefined;
      if (name && !errors[name]) errors[name] = issue.message;
    }
  }
  const valid = result.success && Object.keys(errors).length === 0;
  return { config: valid ? result.data : null, errors };
}

/** Images per optimizer step: per-process batch × accumulation × processes. */
export function effectiveBatch(config: Pick<RunConfig, 'batch_size' | 'update_freq' | 'nproc_per_node'>): number {
  return config.batch_size * config.update_freq * config.nproc_per_node;
}

/** As the official schedule counts them: len(train_set) // effective batch. */
export function iterationsPerEpoch(trainImages: number, batch: number): number {
  return batch > 0 ? Math.floor(trainImages / batch) : 0;
}
