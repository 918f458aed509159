// Data parallelism for a run the workbench host started: its training worker is rank 0, and this
// starts ranks 1..N-1 on the same machine as processes of their own (rank_worker.ts), each given
// the run's config over IPC. They print nothing and write nothing (rank 0 reports and saves); each
// exits when its parent goes away, so a killed training worker leaves no rank behind.
import { fork, type ChildProcess } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { RunConfig } from '../../../shared/config';

/** The engine threads each of `processes` ranks on this machine gets (PIX_NUM_THREADS wins). */
export function threadsPerRank(processes: number): string {
  return process.env.PIX_NUM_THREADS ?? String(Math.max(1, Math.floor(availableParallelism() / processes)));
}

export interface PeerRanks {
  /** Resolves when every peer has exited: the first failure's words, or null when all ended cleanly. */
  exited: Promise<string | null>;
  kill(): void;
}

export function startPeerRanks(config: RunConfig): PeerRanks {
  const worldSize = config.nproc_per_node;
  const children: ChildProcess[] = [];
  const exits: Promise<string | null>[] = [];
  for (let rank = 1; rank < worldSize; rank++) {
    const child = fork(join(__dirname, 'rank_worker.js'), [], {
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      env: { ...process.env, PIX_RANK: String(rank), PIX_WORLD_SIZE: String(worldSize), PIX_LOCAL_RANK: String(rank),
        PIX_NUM_THREADS: threadsPerRank(worldSize) },
    });
    let stderr = '';
    child.stderr!.on('data', (data: Buffer) => { stderr = (stderr + data.toString()).slice(-2000); });
    exits.push(new Promise((resolve) => child.on('exit', (code, signal) => resolve(code === 0 || code === 130 ? null
      : `rank ${rank} exited with ${signal ?? `code ${code}`}${stderr.trim() ? `: ${stderr.trim()}` : ''}`))));
    child.send({ config });
    children.push(child);
  }
  return {
    exited: Promise.all(exits).then((reasons) => reasons.find((r) => r !== null) ?? null),
    kill: () => { for (const child of children) if (child.exitCode === null) child.kill('SIGKILL'); },
  };
}
