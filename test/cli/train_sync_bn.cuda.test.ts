// `pix train --nproc_per_node 2 --device cuda --sync_bn true`: the ranks train with SyncBatchNorm
// through NCCL and say so. What the synchronised statistics compute is model_sync.cuda.test.ts's
// check; this one is the trainer's wiring. Runs on the CUDA emulator with its NCCL stand-in
// (PIX_CUDA_EMULATOR_DEVICES=2) or with two GPUs and NCCL; skips, printing why, elsewhere.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { twoRankNcclSkipReason } from '../helpers/cuda';
import { freePort } from '../helpers/free_port';
import { pixTrain } from '../helpers/pix_train';
import { smallDigits } from '../helpers/small_digits';

describe('pix train --sync_bn on CUDA (NCCL)', { skip: twoRankNcclSkipReason() }, () => {
  it('trains two ranks with their BatchNorm statistics combined', { timeout: 10 * 60_000 }, async () => {
    const out = mkdtempSync(join(tmpdir(), 'pix-sync-bn-cuda-'));
    const run = await pixTrain(['--data_path', smallDigits(4, 9), '--output_dir', out, '--model', 'pix_resnet_tiny_cs',
      '--input_size', '28', '--batch_size', '10', '--epochs', '1', '--aa', 'none', '--reprob', '0', '--mixup', '0', '--cutmix', '0',
      '--num_workers', '0', '--disable_eval', 'true', '--warmup_epochs', '0', '--device', 'cuda', '--nproc_per_node', '2', '--master_port', String(await freePort()),
      '--sync_bn', 'true'], { PIX_CUDA_EMULATOR_DEVICES: '2' });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /SyncBatchNorm: BatchNorm statistics over all 2 processes' batches/);
    const steps = readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { loss: number });
    assert.equal(steps.length, 2);  // 40 images / (2 ranks x 10)
    assert.ok(steps.every((s) => Number.isFinite(s.loss)));
  });
});
