// Running out of device memory in the middle of a CUDA run, for real: `pix train` trains an epoch
// and saves its checkpoint; resumed with a batch too large for the device, it fails with advice on
// --batch_size, recorded in failure.json, leaving the checkpoint untouched; resumed again with the
// old batch size, it finishes. Each run is its own process, as in the workbench's train workers.
// The device is the CUDA emulator's with 40 MiB of memory (PIX_CUDA_EMULATOR_MEMORY_MIB): a training
// step of this tiny network peaks at 14 MiB at batch 20 and 63 MiB at batch 100 with convolutions on
// the emulator's cuDNN stand-in (more on the own im2col path, whose column buffers cost more). On a
// GPU this skips: filling a real card would take long and disturb other work on it.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadEngine } from '../../../electron/host/engine/addon';
import { cudaSkipReason } from '../../helpers/cuda';
import { smallDigitsAt } from '../../helpers/small_digits';

const pix = join(__dirname, '..', '..', '..', '..', 'bin', 'pix.js');

function skipReason(): string | false {
  const noCuda = cudaSkipReason();
  if (noCuda) return noCuda;
  const name = loadEngine().engineInfo().backends.cuda.devices[0]?.name ?? '';
  return name.includes('emulator') ? false : `needs the CUDA emulator's small device memory, not ${name}`;
}

describe('out of device memory during a CUDA run', { skip: skipReason() }, () => {
  it('fails with advice, keeps the checkpoint, and resumes with a smaller batch', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pix-oom-'));
    const digits = await smallDigitsAt(16, 20, 6);  // the 16x16 input's own size: at input_size <= 32 nothing is resized
    const train = (...flags: string[]) => spawnSync(process.execPath, [pix, 'train', '--model', 'pix_resnet_tiny_cs',
      '--data_path', digits, '--input_size', '16', '--opt', 'momentum', '--lr', '0.05', '--warmup_epochs', '0',
      '--aa', 'none', '--reprob', '0', '--mixup', '0', '--cutmix', '0', '--device', 'cuda', '--output_dir', dir, ...flags],
    { encoding: 'utf8', env: { ...process.env, PIX_CUDA_EMULATOR_MEMORY_MIB: '40' } });

    const first = train('--epochs', '1', '--batch_size', '20');
    assert.equal(first.status, 0, first.stderr);
    const checkpoint = join(dir, 'checkpoint-0.safetensors');
    const saved = readFileSync(checkpoint);

    const tooLarge = train('--epochs', '2', '--batch_size', '100', '--auto_resume', 'true');
    assert.equal(tooLarge.status, 1, tooLarge.stdout + tooLarge.stderr);
    assert.match(tooLarge.stderr, /cuda:0 ran out of memory at epoch 1, step \d+ with --batch_size 100: try a smaller --batch_size/);
    assert.match(tooLarge.stderr, /the last checkpoint is kept/);
    const failure = JSON.parse(readFileSync(join(dir, 'failure.json'), 'utf8')) as { kind: string; epoch: number };
    assert.deepEqual([failure.kind, failure.epoch], ['out_of_memory', 1]);
    assert.ok(readFileSync(checkpoint).equals(saved), 'the checkpoint is unchanged');

    const again = train('--epochs', '2', '--batch_size', '20', '--auto_resume', 'true');
    assert.equal(again.status, 0, again.stdout + again.stderr);
    assert.match(again.stdout, /resumed from .*checkpoint-0\.safetensors: continuing at epoch 1/);
    assert.equal((JSON.parse(readFileSync(join(dir, 'log.txt'), 'utf8').trim().split('\n').at(-1)!) as { epoch: number }).epoch, 1);
  });
});
