// `pix train --nproc_per_node 2` on the CPU: the launcher starts two ranks that train one run
// together (rank 0 alone writes the log and checkpoints), a Ctrl-C to the launcher stops both
// ranks at the same step with a resumable checkpoint, and --auto_resume finishes the run.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { readSafetensors } from '../../electron/host/checkpoints/safetensors';
import { smallDigits } from '../helpers/small_digits';
import { freePort } from '../helpers/free_port';

const pix = join(__dirname, '..', '..', '..', 'bin', 'pix.js');
const data = smallDigits(30, 10);

interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs pix train; `interruptWhen`, polled, sends the launcher a Ctrl-C once it holds. */
function train(args: string[], interruptWhen?: () => boolean): Promise<Finished> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [pix, 'train', ...args], { env: { ...process.env, PIX_NUM_THREADS: '1' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d; });
    child.stderr.on('data', (d: Buffer) => { stderr += d; });
    const poll = interruptWhen && setInterval(() => {
      if (!interruptWhen()) return;
      clearInterval(poll);
      child.kill('SIGINT');
    }, 20);
    child.on('exit', (code) => {
      if (poll) clearInterval(poll);
      resolve({ code, stdout, stderr });
    });
  });
}

async function flags(out: string, extra: string[] = []): Promise<string[]> {
  return ['--data_path', data, '--output_dir', out, '--model', 'pix_resnet_tiny_cs', '--input_size', '28', '--batch_size', '10',
    '--epochs', '2', '--opt', 'momentum', '--lr', '0.05', '--warmup_epochs', '0', '--aa', 'none', '--reprob', '0', '--mixup', '0',
    '--cutmix', '0', '--hflip', '0', '--test_freq', '1', '--num_workers', '0', '--nproc_per_node', '2',
    '--master_port', String(await freePort()), ...extra];
}

function lines(path: string): Record<string, number>[] {
  return readFileSync(path, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, number>);
}

describe('pix train --nproc_per_node 2 (CPU data parallelism)', () => {
  it('trains one run on two ranks, with rank 0 writing the log and checkpoints', async () => {
    const out = mkdtempSync(join(tmpdir(), 'pix-ddp-'));
    const run = await train(await flags(out));
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /on 2 processes/);
    assert.equal(run.stdout.match(/^training /gm)?.length, 1, 'only rank 0 prints');
    // 300 images / (2 ranks x 10) = 15 steps per epoch.
    const metrics = lines(join(out, 'metrics.jsonl'));
    assert.deepEqual(metrics.map((m) => m.step), Array.from({ length: 30 }, (_, i) => i));
    const epochs = lines(join(out, 'log.txt'));
    assert.equal(epochs.length, 2);
    for (const e of epochs) assert.ok(Number.isFinite(e.train_loss) && e.test_acc1! >= 0 && e.test_acc1! <= 100);
    assert.ok(readdirSync(out).includes('checkpoint-1.safetensors'));
  });

  it('stops both ranks at the same step on Ctrl-C, and --auto_resume finishes the run', async () => {
    const out = mkdtempSync(join(tmpdir(), 'pix-ddp-'));
    const metrics = join(out, 'metrics.jsonl');
    const stopped = await train(await flags(out), () => existsSync(metrics) && readFileSync(metrics, 'utf8').split('\n').length > 3);
    assert.equal(stopped.code, 130, stopped.stderr);
    const saved = readSafetensors(join(out, 'checkpoint-0.safetensors'));
    const nextStep = Number(saved.metadata.next_step);
    assert.ok(nextStep >= 3 && nextStep < 15, `stopped at step ${nextStep}`);

    const resumed = await train(await flags(out, ['--auto_resume', 'true']));
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.match(resumed.stdout, new RegExp(`continuing at epoch 0, step ${nextStep}`));
    const steps = lines(join(out, 'metrics.jsonl')).map((m) => m.step);
    assert.equal(steps.at(-1), 29);
    assert.ok(readdirSync(out).includes('checkpoint-1.safetensors'));
  });
});
