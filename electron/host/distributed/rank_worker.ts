// One of ranks 1..N-1 of a run started by the workbench host (peer_ranks.ts): waits for the run's
// config, joins the process group named by its environment, and trains silently beside rank 0.
// Errors go to stderr, which rank 0's worker quotes if this rank fails.
import type { RunConfig } from '../../../shared/config';
import { runTraining } from '../train/trainer';
import { exitWithLauncher, rankFromEnv } from './launch';
import { joinProcessGroup } from './process_group';

async function train(config: RunConfig): Promise<number> {
  const place = rankFromEnv();
  if (!place) throw new Error('rank_worker needs PIX_RANK and PIX_WORLD_SIZE');
  const group = await joinProcessGroup({ rank: place.rank, worldSize: place.worldSize, masterAddr: config.master_addr, masterPort: config.master_port });
  try {
    const outcome = await runTraining(config, {}, { requested: false }, group);
    return outcome.status === 'failed' ? 1 : 0;
  } finally {
    group.close();
  }
}

exitWithLauncher();
process.once('message', ({ config }: { config: RunConfig }) => {
  train(config).then((code) => process.exit(code), (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
});
