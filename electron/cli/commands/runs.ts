// `pix runs`: the job queue from the command line, through a running `pix serve` (found by
// serve_client.ts): list the runs with their queue positions, start one with `pix train`'s flags,
// stop one (a queued run is cancelled, a running one saves and stops), resume or delete one. The
// host decides everything else (defaults, the demo preset, devices, the queue's order); this file
// parses arguments and prints. Usage errors exit 2, as main.ts's do; the server's refusals exit 1.
import type { RunSummary, WorkbenchApi } from '../../../shared/api';
import { closest, type Command } from '../command';
import { parseRunFlagsWithSources } from '../run_flags';
import { locateServer, serverApi } from '../serve_client';
import { formatTable } from '../table';

const SERVER_USAGE = '[--server URL#token=… | --home DIR]';

const USAGE = {
  list: `pix runs [list] [--json] ${SERVER_USAGE}`,
  start: `pix runs start [--name NAME] [--json] ${SERVER_USAGE} [pix train flags…]`,
  stop: `pix runs stop|cancel ID [--json] ${SERVER_USAGE}`,
  resume: `pix runs resume ID [--json] ${SERVER_USAGE}`,
  delete: `pix runs delete ID ${SERVER_USAGE}`,
} as const;
type Subcommand = keyof typeof USAGE;

/** A mistake in the arguments: printed without a stack and exits 2. */
class UsageError extends Error {}

type Options = { server?: string; home?: string; name?: string; json?: boolean };
type OptionName = keyof Options;

const SUBCOMMAND_OPTIONS: Record<Subcommand, readonly OptionName[]> = {
  list: ['json', 'server', 'home'],
  start: ['name', 'json', 'server', 'home'],
  stop: ['json', 'server', 'home'],
  resume: ['json', 'server', 'home'],
  delete: ['server', 'home'],
};

/**
 * Takes the subcommand's own options (`--home DIR` or `--home=DIR`, `--json`) out of `args`.
 * What is left: for start, `pix train`'s flags; for the others, the positional arguments.
 */
function takeOptions(sub: Subcommand, args: readonly string[]): { options: Options; rest: string[] } {
  const allowed = SUBCOMMAND_OPTIONS[sub];
  const options: Record<string, string | boolean> = {};
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const [name, inline] = arg.startsWith('--') ? arg.slice(2).split(/=(.*)/s, 2) as [string, string | undefined] : [undefined, undefined];
    if (name === undefined || !(allowed as readonly string[]).includes(name)) {
      rest.push(arg);
      continue;
    }
    if (name in options) throw new UsageError(`--${name} is given twice`);
    if (name === 'json') {
      if (inline !== undefined) throw new UsageError('--json takes no value');
      options.json = true;
      continue;
    }
    const value = inline ?? args[++i];
    if (value === undefined || value === '' || (inline === undefined && value.startsWith('--'))) throw new UsageError(`--${name} expects a value; usage: ${USAGE[sub]}`);
    options[name] = value;
  }
  if (sub !== 'start') {
    const unknown = rest.find((arg) => arg.startsWith('-'));
    if (unknown !== undefined) {
      const name = unknown.replace(/^-+/, '').split('=')[0]!;
      const hint = closest(name, allowed);
      throw new UsageError(`unknown flag ${unknown} for pix runs ${sub}${hint ? ` (did you mean --${hint}?)` : ''}; usage: ${USAGE[sub]}`);
    }
  }
  return { options: options as Options, rest };
}

/** The one run id a subcommand takes. */
function runId(sub: Subcommand, rest: string[]): string {
  if (rest.length !== 1) throw new UsageError(`${sub} takes one run id${rest.length ? ` (got ${rest.length} arguments)` : ''}; usage: ${USAGE[sub]}`);
  return rest[0]!;
}

function api(options: Options): WorkbenchApi {
  return serverApi(locateServer(options));
}

/** The table of `pix runs`; the device column already counts GPUs ('cuda ×2' queued, 'cuda:0,1' running). */
function runsTable(runs: RunSummary[]): string[] {
  const rows = [['ID', 'NAME', 'STATUS', 'DEVICE', 'QUEUE', 'EPOCH', 'BEST ACC1', 'IMAGES/S', 'ERROR']];
  for (const run of runs) {
    rows.push([
      run.id, run.name, run.status, run.device, run.queuePosition === null ? '' : `#${run.queuePosition}`, `${run.epoch}/${run.epochs}`,
      run.bestAcc1 === null ? '' : `${run.bestAcc1.toFixed(2)}%`, run.imagesPerSecond === null ? '' : run.imagesPerSecond.toFixed(0),
      run.error ?? '',
    ]);
  }
  return formatTable(rows, new Set([4, 5, 6, 7]));
}

/** One line on where a run now stands in the queue. */
function placement(run: RunSummary): string {
  if (run.status === 'queued') return `run ${run.id} queued at position ${run.queuePosition}, waiting for ${run.device}`;
  return `run ${run.id} ${run.status} on ${run.device}`;
}

function print(run: RunSummary, json: boolean | undefined, line: string): void {
  console.log(json ? JSON.stringify(run, null, 2) : line);
}

async function list(args: string[]): Promise<number> {
  const { options, rest } = takeOptions('list', args);
  if (rest.length) throw new UsageError(`unexpected argument '${rest[0]}'; usage: ${USAGE.list}`);
  const runs = await api(options).listRuns();
  if (options.json) console.log(JSON.stringify(runs, null, 2));
  else if (runs.length === 0) console.log('no runs yet; start one with pix runs start');
  else for (const line of runsTable(runs)) console.log(line);
  return 0;
}

async function start(args: string[]): Promise<number> {
  const { options, rest } = takeOptions('start', args);
  let config: Record<string, unknown>;
  try {
    const parsed = parseRunFlagsWithSources(rest);
    // Only the flags given: the host fills the defaults (and the demo preset without --data_path).
    config = Object.fromEntries([...parsed.given].map((flag) => [flag, parsed.config[flag]]));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const run = await api(options).startRun({ ...(options.name === undefined ? {} : { name: options.name }), config });
  print(run, options.json, `${placement(run)}: ${run.name}`);
  return 0;
}

async function stop(args: string[]): Promise<number> {
  const { options, rest } = takeOptions('stop', args);
  const id = runId('stop', rest);
  const run = await api(options).stopRun({ id });
  print(run, options.json, run.status === 'stopped'
    ? `run ${run.id} was queued: cancelled (pix runs resume ${run.id} queues it again)`
    : `run ${run.id} is stopping: it finishes the step in flight and saves a checkpoint (pix runs resume ${run.id} continues from it)`);
  return 0;
}

async function resume(args: string[]): Promise<number> {
  const { options, rest } = takeOptions('resume', args);
  const id = runId('resume', rest);
  const run = await api(options).resumeRun({ id });
  print(run, options.json, placement(run));
  return 0;
}

async function remove(args: string[]): Promise<number> {
  const { options, rest } = takeOptions('delete', args);
  const id = runId('delete', rest);
  await api(options).deleteRun({ id });
  console.log(`deleted run ${id}`);
  return 0;
}

/**
 * The subcommand and the other arguments: it may follow --server, --home or --json
 * (`pix runs --home D start …`); without one (`pix runs`, `pix runs --json`) it is list.
 */
function splitSubcommand(args: readonly string[]): [string, string[]] {
  let i = 0;
  for (;;) {
    const arg = args[i];
    if (arg === '--server' || arg === '--home') i += 2;
    else if (arg === '--json' || /^--(server|home)=/.test(arg ?? '')) i += 1;
    else break;
  }
  // Anything else first (an unknown flag too) goes to list, which names it.
  const sub = args[i];
  if (sub === undefined || sub.startsWith('-')) return ['list', [...args]];
  return [sub, [...args.slice(0, i), ...args.slice(i + 1)]];
}

const subcommands: Record<string, (args: string[]) => Promise<number>> = { list, start, stop, cancel: stop, resume, delete: remove };

export const runsCommand: Command = {
  name: 'runs',
  summary: 'The job queue of a running pix serve: list runs, start, stop (cancel a queued run), resume, delete',
  usage: [...Object.values(USAGE), 'without --server: PIX_SERVER, else the serve.json that pix serve writes in --home (default: the workbench home)']
    .join('\n       '),
  async run(args) {
    const [sub, rest] = splitSubcommand(args);
    const handler = Object.hasOwn(subcommands, sub) ? subcommands[sub] : undefined;
    try {
      if (!handler) {
        const hint = closest(sub, Object.keys(subcommands));
        throw new UsageError(`unknown subcommand '${sub}' for pix runs${hint ? ` (did you mean '${hint}'?)` : ''}; ` +
          `subcommands: ${Object.keys(subcommands).join(', ')}`);
      }
      return await handler(rest);
    } catch (error) {
      if (!(error instanceof UsageError)) throw error;
      console.error(`pix: ${error.message}`);
      return 2;
    }
  },
};
