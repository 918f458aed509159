// `pix train --nproc_per_node N`: torch.distributed.launch's role. The launcher starts one process
// per local rank, each running the same command with its rank in the environment (PIX_RANK,
// PIX_WORLD_SIZE, PIX_LOCAL_RANK), and the CPU's cores split between them. It forwards Ctrl-C once
// to every rank (the ranks agree on the step to stop at through their all-reduce), and when one
// rank fails it stops the others, as torchrun does, and reports which rank failed first. Ranks
// run in their own process group, so a terminal's Ctrl-C reaches them only through the launcher,
// and each rank exits when the launcher's IPC channel closes, so none outlives a killed launcher.
import { fork, type ChildProcess } from 'node:child_process';
import { availableParallelism } from 'node:os';

export interface RankEnv {
  rank: number;
  worldSize: number;
  localRank: number;
}

/** This process's place in a launched group, or undefined when it was not started by the launcher. */
export function rankFromEnv(env: NodeJS.ProcessEnv = process.env): RankEnv | undefined {
  if (env.PIX_RANK === undefined) return undefined;
  const [rank, worldSize, localRank] = [env.PIX_RANK, env.PIX_WORLD_SIZE, env.PIX_LOCAL_RANK].map(Number) as [number, number, number];
  if (![rank, worldSize, localRank].every(Number.isInteger) || rank < 0 || rank >= worldSize) {
    throw new Error(`inconsistent rank environment: PIX_RANK=${env.PIX_RANK} PIX_WORLD_SIZE=${env.PIX_WORLD_SIZE} PIX_LOCAL_RANK=${env.PIX_LOCAL_RANK}`);
  }
  return { rank, worldSize, localRank };
}

export interface LaunchOptions {
  /** The script every rank runs (the CLI entry) and its arguments. */
  entry: string;
  args: string[];
  nprocPerNode: number;
  nnodes: number;
  nodeRank: number;
  /** Told which rank failed first, or that Ctrl-C was forwarded. */
  message?(text: string): void;
}

/** Runs the ranks of this node to completion; resolves with the exit code the launcher should return. */
export function launchLocalRanks(options: LaunchOptions): Promise<number> {
  const { nprocPerNode, nnodes, nodeRank } = options;
  const worldSize = nprocPerNode * nnodes;
  // Each rank's engine gets its share of the cores, unless the user chose a thread count.
  const threads = process.env.PIX_NUM_THREADS ?? String(Math.max(1, Math.floor(availableParallelism() / nprocPerNode)));
  const children: ChildProcess[] = [];
  return new Promise((resolve) => {
    let running = nprocPerNode;
    let firstFailure: { rank: number; code: number } | undefined;
    let interrupted = false;
    const onSignal = () => {
      if (interrupted) {
        for (const child of children) child.kill('SIGKILL');
        return;
      }
      interrupted = true;
      options.message?.('stopping every rank after this step (Ctrl-C again to kill them)');
      for (const child of children) child.kill('SIGINT');
    };
    process.on('SIGINT', onSignal);
    for (let localRank = 0; localRank < nprocPerNode; localRank++) {
      const rank = nodeRank * nprocPerNode + localRank;
      const child = fork(options.entry, options.args, {
        detached: true,
        stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
        env: { ...process.env, PIX_RANK: String(rank), PIX_WORLD_SIZE: String(worldSize), PIX_LOCAL_RANK: String(localRank), PIX_NUM_THREADS: threads },
      });
      children.push(child);
      child.on('exit', (code, signal) => {
        const status = code ?? (signal ? 128 + signalNumber(signal) : 1);
        if (status !== 0 && status !== 130 && !firstFailure) {
          firstFailure = { rank, code: status };
          options.message?.(`rank ${rank} exited with ${signal ?? `code ${code}`}; stopping the other ranks`);
          for (const other of children) if (other !== child && other.exitCode === null) other.kill('SIGTERM');
        }
        if (--running === 0) {
          process.off('SIGINT', onSignal);
          resolve(firstFailure ? firstFailure.code : interrupted ? 130 : 0);
        }
      });
    }
  });
}

function signalNumber(signal: NodeJS.Signals): number {
  return ({ SIGINT: 2, SIGKILL: 9, SIGTERM: 15, SIGSEGV: 11, SIGABRT: 6 } as Record<string, number>)[signal] ?? 1;
}

/** In a rank: exit when the launcher goes away, so no rank trains on alone. */
export function exitWithLauncher(): void {
  process.on('disconnect', () => process.exit(1));
}
