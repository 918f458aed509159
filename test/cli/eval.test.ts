// `pix eval` on a checkpoint and an ImageFolder: JSON output that agrees with the host's
// evaluate(), and a clear refusal when the class counts differ.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { saveModelCheckpoint } from '../../electron/host/checkpoints/model_checkpoint';
import { scanImageNetLayout } from '../../electron/host/data/image_folder';
import { Loader } from '../../electron/host/data/loader';
import { loadEngine } from '../../electron/host/engine/addon';
import { evaluate } from '../../electron/host/train/evaluate';
import { DEMO_DATASET } from '../../electron/host/train/demo_preset';

const pix = join(__dirname, '..', '..', '..', 'bin', 'pix.js');

function digits(classes: number): string {
  const root = mkdtempSync(join(tmpdir(), 'pix-eval-'));
  for (const split of ['train', 'val']) {
    for (let d = 0; d < classes; d++) {
      mkdirSync(join(root, split, String(d)), { recursive: true });
      const from = join(DEMO_DATASET, 'val', String(d));
      for (const f of readdirSync(from).sort().slice(0, 6)) copyFileSync(join(from, f), join(root, split, String(d), f));
    }
  }
  return root;
}

describe('pix eval', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pix-eval-ckpt-'));
  const checkpoint = join(dir, 'model.safetensors');
  const model = new (loadEngine().Model)('resnet_tiny', { seed: 3 });
  saveModelCheckpoint(model, checkpoint);

  it('reports what evaluate() computes', async () => {
    const data = digits(10);
    const result = spawnSync(process.execPath, [pix, 'eval', '--model', 'resnet_tiny', '--checkpoint', checkpoint,
      '--data_path', data, '--input_size', '16', '--json'], { encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
    const reported = JSON.parse(result.stdout) as { acc1: number; acc5: number; loss: number; images: number };
    assert.equal(reported.images, 60);
    const loader = new Loader(scanImageNetLayout(data).val.samples, { batchSize: 64, shuffle: false, dropLast: false, seed: 0,
      transform: { kind: 'eval', size: 16, cropPct: 0.875, interpolation: 'bicubic' } });
    assert.deepEqual(reported, await evaluate(model, loader, 16));
  });

  it('refuses a dataset with another class count', () => {
    const result = spawnSync(process.execPath, [pix, 'eval', '--model', 'resnet_tiny', '--checkpoint', checkpoint,
      '--data_path', digits(4), '--input_size', '16'], { encoding: 'utf8' });
    assert.equal(result.status, 1);
    assert.match(result.stderr, /the checkpoint has 10 classes but .* has 4/);
  });
});
