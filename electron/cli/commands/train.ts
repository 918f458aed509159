// `pix train`: the official training script's flags (shared/config.ts), a progress line with ETA,
// loss and images/s, and Ctrl-C that finishes the step in flight, saves and exits (a second
// Ctrl-C quits at once). Without --data_path it trains a small PiX model on the embedded digits.
// With --nproc_per_node N (and --nnodes) it launches N ranks of itself, which meet at
// --master_addr:--master_port and train data-parallel; rank 0 prints and saves.
import { join } from 'node:path';
import { exitWithLauncher, launchLocalRanks, rankFromEnv } from '../../host/distributed/launch';
import { joinProcessGroup, type ProcessGroup } from '../../host/distributed/process_group';
import { applyDemoPreset } from '../../host/train/demo_preset';
import { runTraining, type StopFlag } from '../../host/train/trainer';
import { epochSummary } from '../../host/train/epoch_summary';
import { parseRunFlagsWithSources } from '../run_flags';
import type { Command } from '../command';

function duration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

export const trainCommand: Command = {
  name: 'train',
  summary: 'Train a network with the official training script\'s flags (no --data_path: the demo digits)',
  usage: 'pix train [--model M] [--data_path D] [--output_dir O] [--epochs N] … (every flag of the official main.py)',
  async run(args) {
    const parsed = parseRunFlagsWithSources(args);
    const config = parsed.config.data_path ? parsed.config : applyDemoPreset(parsed.config, parsed.given);
    const worldSize = config.nproc_per_node * config.nnodes;
    const place = rankFromEnv();
    if (worldSize > 1 && !place) {
      if (config.node_rank >= config.nnodes) throw new Error(`--node_rank ${config.node_rank} must be below --nnodes ${config.nnodes}`);
      console.log(`launching ${config.nproc_per_node} processes on this node (world size ${worldSize}, master ${config.master_addr}:${config.master_port})`);
      return launchLocalRanks({ entry: join(__dirname, '..', '..', '..', '..', 'bin', 'pix.js'), args: ['train', ...args],
        nprocPerNode: config.nproc_per_node, nnodes: config.nnodes, nodeRank: config.node_rank, message: (text) => console.error(`pix: ${text}`) });
    }
    let group: ProcessGroup | undefined;
    if (place) {
      if (place.worldSize !== worldSize) throw new Error(`this rank was launched for world size ${place.worldSize}, but the flags give ${worldSize}`);
      exitWithLauncher();
      group = await joinProcessGroup({ rank: place.rank, worldSize, masterAddr: config.master_addr, masterPort: config.master_port });
    }
    // Rank 0 speaks for the run; the other ranks print only their errors.
    const log = !group || group.rank === 0 ? (text: string) => console.log(text) : () => {};
    const stop: StopFlag = { requested: false };
    const onSignal = () => {
      if (stop.requested) process.exit(130);
      stop.requested = true;
      if (!group) process.stderr.write('\npix: stopping after this step and saving (Ctrl-C again to quit at once)\n');
    };
    process.on('SIGINT', onSignal);
    const tty = process.stderr.isTTY;
    const started = Date.now();
    try {
      log(`training ${config.model} on ${config.data_path} for ${config.epochs} epochs` +
        (group ? ` on ${group.worldSize} processes` : '') +
        (config.output_dir ? `, writing to ${config.output_dir}` : ' (no --output_dir: nothing is saved)'));
      const outcome = await runTraining(config, {
        message: log,
        iteration: (m, { done, total }) => {
          if ((group && group.rank !== 0) || (!tty && done !== total)) return;
          const elapsed = (Date.now() - started) / 1000;
          const stepsLeft = (config.epochs - m.epoch - 1) * total + (total - done);
          const eta = (elapsed / Math.max(1, m.step + 1)) * stepsLeft;
          const width = 20;
          const bar = '#'.repeat(Math.round((done / total) * width)).padEnd(width, '-');
          process.stderr.write(`${tty ? '\r' : ''}epoch ${m.epoch + 1}/${config.epochs} [${bar}] ${done}/${total} loss ${m.loss.toFixed(4)} ` +
            `lr ${m.lr.toPrecision(3)} ${m.images_per_second.toFixed(0)} img/s ETA ${duration(eta)}${tty ? '' : '\n'}`);
        },
        epoch: (record) => {
          if (group && group.rank !== 0) return;
          if (tty) process.stderr.write('\n');
          log(epochSummary(record));
        },
      }, stop, group);
      if (outcome.status === 'failed') {
        // Every rank reaches the same verdict (the loss is all-reduced); rank 0 says it.
        if (!group || group.rank === 0) console.error(`pix: ${outcome.reason}`);
        return 1;
      }
      if (outcome.status === 'stopped') {
        log(`stopped after epoch ${outcome.epoch}; resume with --auto_resume true (same --output_dir)`);
        return 130;
      }
      const best = outcome.best;
      if (best && config.eval) log(`top-1 ${best.acc1.toFixed(2)}%  top-5 ${best.acc5.toFixed(2)}%  loss ${best.loss.toFixed(4)}  (${best.images} images)`);
      else if (best) log(`best test acc1 ${best.acc1.toFixed(2)}% in ${duration((Date.now() - started) / 1000)}`);
      return 0;
    } finally {
      process.off('SIGINT', onSignal);
      group?.close();
    }
  },
};
