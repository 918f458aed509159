// `pix train`: the official training script's flags (shared/config.ts), a progress line with ETA,
// loss and images/s, and Ctrl-C that finishes the step in flight, saves and exits (a second
// Ctrl-C quits at once). Without --data_path it trains a small PiX model on the embedded digits.
import { applyDemoPreset } from '../../host/train/demo_preset';
import { runTraining, type StopFlag } from '../../host/train/trainer';
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
    const stop: StopFlag = { requested: false };
    const onSignal = () => {
      if (stop.requested) process.exit(130);
      stop.requested = true;
      process.stderr.write('\npix: stopping after this step and saving (Ctrl-C again to quit at once)\n');
    };
    process.on('SIGINT', onSignal);
    const tty = process.stderr.isTTY;
    const started = Date.now();
    try {
      console.log(`training ${config.model} on ${config.data_path} for ${config.epochs} epochs` +
        (config.output_dir ? `, writing to ${config.output_dir}` : ' (no --output_dir: nothing is saved)'));
      const outcome = await runTraining(config, {
        message: (text) => console.log(text),
        iteration: (m, { done, total }) => {
          if (!tty && done !== total) return;
          const elapsed = (Date.now() - started) / 1000;
          const stepsLeft = (config.epochs - m.epoch - 1) * total + (total - done);
          const eta = (elapsed / Math.max(1, m.step + 1)) * stepsLeft;
          const width = 20;
          const bar = '#'.repeat(Math.round((done / total) * width)).padEnd(width, '-');
          process.stderr.write(`${tty ? '\r' : ''}epoch ${m.epoch + 1}/${config.epochs} [${bar}] ${done}/${total} loss ${m.loss.toFixed(4)} ` +
            `lr ${m.lr.toPrecision(3)} ${m.images_per_second.toFixed(0)} img/s ETA ${duration(eta)}${tty ? '' : '\n'}`);
        },
        epoch: (record) => {
          if (tty) process.stderr.write('\n');
          const test = record.test_acc1 !== undefined
            ? ` test acc1 ${(record.test_acc1 as number).toFixed(2)}% acc5 ${(record.test_acc5 as number).toFixed(2)}% loss ${(record.test_loss as number).toFixed(4)}`
            : '';
          console.log(`epoch ${record.epoch}: train loss ${(record.train_loss as number).toFixed(4)}${test}`);
        },
      }, stop);
      if (outcome.status === 'failed') {
        console.error(`pix: ${outcome.reason}`);
        return 1;
      }
      if (outcome.status === 'stopped') {
        console.log(`stopped after epoch ${outcome.epoch}; resume with --auto_resume true (same --output_dir)`);
        return 130;
      }
      const best = outcome.best;
      if (best && config.eval) console.log(`top-1 ${best.acc1.toFixed(2)}%  top-5 ${best.acc5.toFixed(2)}%  loss ${best.loss.toFixed(4)}  (${best.images} images)`);
      else if (best) console.log(`best test acc1 ${best.acc1.toFixed(2)}% in ${duration((Date.now() - started) / 1000)}`);
      return 0;
    } finally {
      process.off('SIGINT', onSignal);
    }
  },
};
