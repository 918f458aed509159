// Parses `pix train` arguments against the run-config table (shared/config.ts) the way the
// official argparse parser reads them: `--name value` or `--name=value`, str2bool for booleans,
// bare switches, one or more numbers for list flags. An unknown flag names the closest valid one.
import { z } from 'zod';
import { runConfigSchema, runFlags, type FlagSpec, type RunConfig, type RunFlagName } from '../../shared/config';
import { closest } from './command';

const flagNames = Object.keys(runFlags) as RunFlagName[];

/** argparse's str2bool of the official script: true/false, yes/no, t/f, y/n, 1/0. */
export function str2bool(flag: string, text: string): boolean {
  const value = text.toLowerCase();
  if (['true', 'yes', 't', 'y', '1'].includes(value)) return true;
  if (['false', 'no', 'f', 'n', '0'].includes(value)) return false;
  throw new Error(`--${flag} expects a boolean (true/false), got '${text}'`);
}

function number(flag: string, text: string, integer: boolean): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || (integer && !Number.isInteger(value))) {
    throw new Error(`--${flag} expects ${integer ? 'an integer' : 'a number'}, got '${text}'`);
  }
  return value;
}

function isFlag(arg: string | undefined): boolean {
  return arg !== undefined && arg.startsWith('--') && !/^--?\d/.test(arg.slice(1));
}

/** Reads the arguments into a complete, validated RunConfig (unset flags keep their defaults). */
export function parseRunFlags(argv: readonly string[]): RunConfig {
  return parseRunFlagsWithSources(argv).config;
}

/** The config, and which flags the arguments set (the others hold defaults). */
export function parseRunFlagsWithSources(argv: readonly string[]): { config: RunConfig; given: Set<RunFlagName> } {
  const given: Record<string, unknown> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!isFlag(arg)) throw new Error(`unexpected argument '${arg}' (flags look like --name value)`);
    const [rawName, inline] = arg.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
    if (!(rawName in runFlags)) {
      const hint = closest(rawName, flagNames);
      throw new Error(`unknown flag --${rawName}${hint ? ` (did you mean --${hint}?)` : ''}`);
    }
    const name = rawName as RunFlagName;
    const spec: FlagSpec = runFlags[name];
    if (name in given) throw new Error(`--${name} is given twice`);
    if (spec.kind === 'switch') {
      if (inline !== undefined) throw new Error(`--${name} takes no value`);
      given[name] = true;
      continue;
    }
    if (spec.kind === 'floats') {
      const values = inline !== undefined ? [inline] : [];
      while (inline === undefined && i + 1 < argv.length && !isFlag(argv[i + 1])) values.push(argv[++i]!);
      if (values.length === 0) throw new Error(`--${name} expects one or more numbers`);
      given[name] = values.map((v) => number(name, v, false));
      continue;
    }
    const text = inline ?? argv[++i];
    if (text === undefined || (inline === undefined && isFlag(text))) throw new Error(`--${name} expects a value`);
    given[name] = spec.kind === 'bool' ? str2bool(name, text)
      : spec.kind === 'int' ? number(name, text, true)
      : spec.kind === 'float' ? number(name, text, false)
      : text;
  }
  const parsed = runConfigSchema.safeParse(given);
  if (!parsed.success) {
    // The flag alone, not `--scale.1`: the message quotes the value, which says which entry of a list it is.
    throw new Error(parsed.error.issues.map((issue: z.core.$ZodIssue) => `--${String(issue.path[0])}: ${issue.message}`).join('; '));
  }
  return { config: parsed.data, given: new Set(Object.keys(given) as RunFlagName[]) };
}
