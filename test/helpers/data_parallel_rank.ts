// One rank of the data-parallel equivalence check, forked by the test: joins the group named by
// its environment, trains STEPS steps on its shard with averaged gradients, and sends its losses
// and final parameters to the parent.
import { joinProcessGroup } from '../../electron/host/distributed/process_group';
import { averageGradients, broadcastState } from '../../electron/host/distributed/model_sync';
import { accumulate, flatParameters, makeModel, optimizerStep, STEPS } from './data_parallel_step';

async function main(): Promise<void> {
  const rank = Number(process.env.PIX_RANK);
  const worldSize = Number(process.env.PIX_WORLD_SIZE);
  const group = await joinProcessGroup({ rank, worldSize, masterAddr: '127.0.0.1', masterPort: Number(process.env.PIX_MASTER_PORT) });
  const { model, optimizer } = makeModel();
  await broadcastState(model, group);
  const losses: number[] = [];
  for (let step = 0; step < STEPS; step++) {
    const loss = await accumulate(model, rank, step, 1);
    const [lossSum] = await averageGradients(model, group, [loss]);
    losses.push(lossSum! / worldSize);
    optimizerStep(model, optimizer);
  }
  group.close();
  process.send!({ losses, parameters: flatParameters(model) }, () => process.exit(0));
}

// Only as a forked rank: `node --test dist/test/` loads every file under it, this one included.
if (process.env.PIX_RANK !== undefined && process.send) {
  main().catch((error: unknown) => {
    process.send!({ error: String(error) }, () => process.exit(1));
  });
}
