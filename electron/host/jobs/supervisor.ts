// Runs one job in a child process and watches it: forwards its messages and its stdout/stderr
// lines, and settles `exit` with the worker's reported outcome, or with a crash when the process
// ends without one (a fatal error, an OOM kill, SIGKILL) or stops sending heartbeats (hung: it is
// killed). The job's files are the worker's business; whatever it saved before dying stays.
// Not a queue and not a pool: one supervisor per worker process.
import { fork, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { HostToWorker, WorkerOutcome, WorkerToHost } from './worker_protocol';

export type WorkerExit = { outcome: WorkerOutcome } | { crashed: string };

export interface SuperviseOptions {
  /** Compiled worker entry (a .js file). */
  script: string;
  payload: unknown;
  /** The worker is killed as hung when no message arrives for this long. */
  heartbeatTimeoutMs: number;
  /** After an outcome or a kill, how long the process may take to exit before SIGKILL. */
  exitGraceMs?: number;
  env?: NodeJS.ProcessEnv;
  onMessage?(message: WorkerToHost): void;
  onOutput?(line: string, stream: 'stdout' | 'stderr'): void;
}

export interface SupervisedWorker {
  readonly pid: number | undefined;
  /** Asks the worker to finish its step, save and exit (its outcome then says 'stopped'). */
  stop(): void;
  /** Kills the process now. */
  kill(): void;
  readonly exit: Promise<WorkerExit>;
}

function describeExit(code: number | null, signal: NodeJS.Signals | null): string {
  return signal ? `was killed by ${signal}` : `exited with code ${code}`;
}

export function superviseWorker(options: SuperviseOptions): SupervisedWorker {
  const child: ChildProcess = fork(options.script, [], {
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    env: options.env ?? process.env,
  });
  for (const stream of ['stdout', 'stderr'] as const) {
    createInterface({ input: child[stream]! }).on('line', (line) => options.onOutput?.(line, stream));
  }
  let outcome: WorkerOutcome | undefined;
  let hung: string | undefined;
  let lastBeat = Date.now();
  const grace = options.exitGraceMs ?? 10_000;
  let graceTimer: NodeJS.Timeout | undefined;
  const killLater = () => {
    graceTimer ??= setTimeout(() => child.kill('SIGKILL'), grace);
  };

  const watchdog = setInterval(() => {
    if (outcome || hung || Date.now() - lastBeat <= options.heartbeatTimeoutMs) return;
    hung = `the worker sent no heartbeat for ${Math.round(options.heartbeatTimeoutMs / 1000)} s (hung) and was killed`;
    child.kill('SIGKILL');
  }, Math.min(1000, Math.max(20, options.heartbeatTimeoutMs / 4)));

  child.on('message', (message: WorkerToHost) => {
    lastBeat = Date.now();
    if (message.type === 'outcome') {
      outcome ??= message.outcome;
      killLater();
    }
    options.onMessage?.(message);
  });

  const exit = new Promise<WorkerExit>((resolve) => {
    let spawnError: Error | undefined;
    child.once('error', (error) => {
      spawnError = error;
    });
    child.once('exit', (code, signal) => {
      clearInterval(watchdog);
      if (graceTimer) clearTimeout(graceTimer);
      if (outcome) resolve({ outcome });
      else if (hung) resolve({ crashed: hung });
      else if (spawnError) resolve({ crashed: `the worker could not run: ${spawnError.message}` });
      else resolve({ crashed: `the worker process ${describeExit(code, signal)} before reporting an outcome` });
    });
  });

  const send = (message: HostToWorker) => {
    if (child.connected) child.send(message);
  };
  send({ type: 'start', payload: options.payload });
  return {
    pid: child.pid,
    stop: () => send({ type: 'stop' }),
    kill: () => {
      child.kill('SIGKILL');
    },
    exit,
  };
}
