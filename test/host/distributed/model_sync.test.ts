import { fork } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { assertFollowsOneProcess } from '../../helpers/data_parallel_check';
import { accumulate, makeModel } from '../../helpers/data_parallel_step';
import { freePort } from '../../helpers/free_port';

type RankReport = { losses: number[]; parameters: number[] } | { error: string };

function runRank(rank: number, worldSize: number, masterPort: number): Promise<{ losses: number[]; parameters: number[] }> {
  return new Promise((resolve, reject) => {
    const child = fork(join(__dirname, '..', '..', 'helpers', 'data_parallel_rank.js'), [], {
      env: { ...process.env, PIX_RANK: String(rank), PIX_WORLD_SIZE: String(worldSize), PIX_MASTER_PORT: String(masterPort), PIX_NUM_THREADS: '1' },
    });
    child.once('message', (report: RankReport) => ('error' in report ? reject(new Error(report.error)) : resolve(report)));
    child.once('exit', (code) => { if (code !== 0) reject(new Error(`rank ${rank} exited with code ${code}`)); });
  });
}

describe('data parallelism on the CPU', () => {
  it('two processes with batch B follow one process with batch 2B and per-process BatchNorm statistics', async () => {
    const port = await freePort();
    const ranks = await Promise.all([runRank(0, 2, port), runRank(1, 2, port)]);

    await assertFollowsOneProcess(ranks, { make: makeModel, accumulate });
  });
});
