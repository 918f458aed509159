// `pix train --sync_bn`: SyncBatchNorm runs through NCCL, as PyTorch's does, so processes on the CPU
// refuse it by name before training, and one process says it changes nothing. The synchronised
// run itself is train_sync_bn.cuda.test.ts (the statistics: model_sync.cuda.test.ts).
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { freePort } from '../helpers/free_port';
import { pixTrain } from '../helpers/pix_train';
import { smallDigits } from '../helpers/small_digits';

const data = smallDigits(4, 9);

function flags(extra: string[]): string[] {
  return ['--data_path', data, '--output_dir', mkdtempSync(join(tmpdir(), 'pix-sync-bn-')), '--model', 'pix_resnet_tiny_cs',
    '--input_size', '28', '--batch_size', '10', '--epochs', '1', '--aa', 'none', '--reprob', '0', '--mixup', '0', '--cutmix', '0',
    '--num_workers', '0', '--disable_eval', 'true', '--warmup_epochs', '0', '--sync_bn', 'true', ...extra];
}

describe('pix train --sync_bn', () => {
  it('refuses processes on the CPU, naming the flag and what it needs', async () => {
    const run = await pixTrain(flags(['--nproc_per_node', '2', '--master_port', String(await freePort())]));
    assert.notEqual(run.code, 0);
    assert.match(run.stderr, /--sync_bn needs --device cuda: SyncBatchNorm runs through NCCL/);
  });

  it('trains one process as without it, saying so', async () => {
    const run = await pixTrain(flags([]));
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout + run.stderr, /--sync_bn has no effect on one process/);
  });
});
