// From the partial config a client sends to the complete config a worker trains with, refusing
// everything that would fail after the run started: unknown flags, values the run-config schema
// rejects, flags this build cannot honour (the trainer's own unsupportedFlags), an unknown model,
// dataset folders that do not fit --data_set and --nb_classes (data/datasets.ts, as the trainer
// resolves them), a --real_labels file that does not fit the evaluation folder, fewer images than
// one batch. Errors name the field. data_path '' means the embedded demo digits with the demo
// preset over every flag not given, as `pix train` does; output_dir '' means the run's own folder.
// Not the trainer: it checks, it does not train.
import { isAbsolute, resolve } from 'node:path';
import { runConfigSchema, runFlags, type RunConfig, type RunFlagName } from '../../../shared/config';
import { datasetSplits, DatasetFlagError, runEvaluates } from '../data/datasets';
import { loadEngine } from '../engine/addon';
import { RequestError } from '../request_error';
import { unsupportedFlags } from '../train/components';
import { applyDemoPreset } from '../train/demo_preset';
import { readRealLabels, RealLabels } from '../train/real_labels';

/** A config refused before anything started; `fields` maps each flag to its problem. The client's error (400). */
export class RunConfigError extends RequestError {
  constructor(readonly fields: Record<string, string>) {
    super(400, `the run config has problems: ${Object.entries(fields).map(([field, problem]) => `${field}: ${problem}`).join('; ')}`);
  }
}

export interface ResolvedRunConfig {
  config: RunConfig;
  /** data_path as given ('' = the demo digits). */
  dataset: string;
}

/** `--aa none: ...` lines of unsupportedFlags, keyed by the flag they start with. */
function unsupportedByField(config: RunConfig): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of unsupportedFlags(config)) {
    const match = /^--(\w+)\s*(.*)$/.exec(line);
    const field = match?.[1] ?? 'config';
    out[field] = out[field] ? `${out[field]}; ${line}` : line;
  }
  return out;
}

function knownModel(name: string): boolean {
  const wanted = name.toLowerCase();
  return loadEngine().modelRegistry().some((m) => m.name.toLowerCase() === wanted || m.aliases.some((a) => a.toLowerCase() === wanted));
}

function absolutePath(field: string, value: string, problems: Record<string, string>): string {
  if (value === '' || isAbsolute(value)) return value;
  problems[field] = `'${value}' must be an absolute path (the host's working folder is not the client's)`;
  return value;
}

export function resolveRunConfig(partial: Record<string, unknown>, runFolder: string): ResolvedRunConfig {
  const problems: Record<string, string> = {};
  for (const key of Object.keys(partial)) if (!(key in runFlags)) problems[key] = 'not a run flag';
  const parsed = runConfigSchema.safeParse(partial);
  if (!parsed.success) {
    // Keyed by the flag (a list entry's problem is its flag's, which the form and pix name), the first problem each.
    for (const issue of parsed.error.issues) problems[String(issue.path[0] ?? 'config')] ??= issue.message;
  }
  if (Object.keys(problems).length || !parsed.success) throw new RunConfigError(problems);

  const given = new Set(Object.keys(partial) as RunFlagName[]);
  const dataset = parsed.data.data_path;
  let config: RunConfig;
  try {
    config = dataset ? parsed.data : applyDemoPreset(parsed.data, given);
  } catch (error) {
    if (!(error instanceof DatasetFlagError)) throw error;
    throw new RunConfigError({ [error.flag]: error.message });
  }
  for (const field of ['data_path', 'eval_data_path', 'output_dir', 'finetune', 'resume', 'real_labels'] as const) {
    config = { ...config, [field]: absolutePath(field, config[field], problems) };
  }
  config = { ...config, output_dir: config.output_dir ? resolve(config.output_dir) : runFolder };

  Object.assign(problems, unsupportedByField(config));
  if (!knownModel(config.model)) {
    problems.model = `unknown model '${config.model}' (valid: ${loadEngine().modelRegistry().map((m) => m.name).join(', ')})`;
  }
  if (!problems.data_path && !problems.eval_data_path && !problems.data_set) {
    try {
      // A check: CIFAR-100's decoded images are not kept in the host (the run's worker reads its own).
      const { train, val } = datasetSplits(config, { evaluation: runEvaluates(config), keepInMemory: false });
      const effective = config.batch_size * config.update_freq * config.nproc_per_node;
      if (train.samples.length < effective) {
        problems.batch_size = `${train.samples.length} training images are fewer than one effective batch of ${effective}`;
      }
      if (val && config.real_labels && (config.eval || config.model_ema_eval) && !problems.real_labels) {
        try {
          new RealLabels(readRealLabels(config.real_labels), val.samples, config.real_labels);
        } catch (error) {
          problems.real_labels = (error as Error).message;
        }
      }
    } catch (error) {
      if (!(error instanceof DatasetFlagError)) throw error;
      problems[error.flag] = error.message;
    }
  }
  const [low, high] = config.scale;
  if (config.scale.length !== 2 || !(low! > 0 && low! <= high! && high! <= 1)) {
    problems.scale = `must be two numbers 0 < min <= max <= 1, got ${config.scale.join(' ')}`;
  }
  if (Object.keys(problems).length) throw new RunConfigError(problems);
  return { config, dataset };
}
