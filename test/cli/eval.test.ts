// `pix eval` on a checkpoint and an ImageFolder: JSON output that agrees with the host's
// evaluate(), the normalisation the checkpoint records (or the flag's), --data_set image_folder and CIFAR,
// ReaL labels, and a clear refusal when the class counts differ.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { saveModelCheckpoint } from '../../electron/host/checkpoints/model_checkpoint';
import { scanImageNetLayout } from '../../electron/host/data/image_folder';
import { Loader } from '../../electron/host/data/loader';
import { evalTransformFromFlags, IMAGENET_DEFAULT, IMAGENET_INCEPTION, type Normalization } from '../../electron/host/data/transforms';
import { loadEngine, type Model } from '../../electron/host/engine/addon';
import { evaluate } from '../../electron/host/train/evaluate';
import { DEMO_DATASET } from '../../electron/host/train/demo_preset';
import { realLabelFileName } from '../../electron/host/train/real_labels';
import { runTraining } from '../../electron/host/train/trainer';
import { defaultRunConfig } from '../../shared/config';
import { fixturesDir } from '../helpers/fixtures';

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

interface EvalJson {
  acc1: number;
  acc5: number;
  loss: number;
  images: number;
  normalization: Normalization;
  real?: { acc1: number; acc5: number; images: number };
}

async function evaluateWith(model: Model, data: string, normalization: Normalization) {
  const loader = new Loader(scanImageNetLayout(data).val.samples, { batchSize: 64, shuffle: false, dropLast: false, seed: 0,
    transform: { ...evalTransformFromFlags({ input_size: 28 }), normalization } });  // the digits' own size: not resized
  return evaluate(model, loader, 28);
}

describe('pix eval', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pix-eval-ckpt-'));
  const checkpoint = join(dir, 'model.safetensors');
  const model = new (loadEngine().Model)('resnet_tiny', { seed: 3 });
  saveModelCheckpoint(model, checkpoint);

  it('reports what evaluate() computes', async () => {
    const data = digits(10);
    const result = spawnSync(process.execPath, [pix, 'eval', '--model', 'resnet_tiny', '--checkpoint', checkpoint,
      '--data_path', data, '--input_size', '28', '--json'], { encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
    const { normalization, ...reported } = JSON.parse(result.stdout) as EvalJson;
    assert.equal(reported.images, 60);
    assert.deepEqual(normalization, IMAGENET_DEFAULT);
    // The checkpoint does not record its normalisation: the ImageNet default, said on stderr.
    assert.match(result.stderr, /does not record --imagenet_default_mean_and_std: normalising with the ImageNet mean and std/);
    assert.deepEqual(reported, await evaluateWith(model, data, IMAGENET_DEFAULT));
  });

  it('normalises as the checkpoint records it, unless the flag says otherwise; --data_set image_folder evaluates data_path itself', async () => {
    const data = digits(10);
    const inceptionCheckpoint = join(dir, 'inception.safetensors');
    saveModelCheckpoint(model, inceptionCheckpoint, { config: JSON.stringify({ model: 'resnet_tiny', imagenet_default_mean_and_std: false }) });
    const run = (...extra: string[]) => {
      const result = spawnSync(process.execPath, [pix, 'eval', '--model', 'resnet_tiny', '--checkpoint', inceptionCheckpoint,
        '--input_size', '28', '--json', ...extra], { encoding: 'utf8' });
      assert.equal(result.status, 0, result.stderr);
      assert.equal(result.stderr, '');
      return JSON.parse(result.stdout) as EvalJson;
    };
    const inception = await evaluateWith(model, data, IMAGENET_INCEPTION);
    const imagenet = await evaluateWith(model, data, IMAGENET_DEFAULT);
    assert.notDeepEqual(inception.loss, imagenet.loss);
    const { normalization, ...reported } = run('--data_path', data);
    assert.deepEqual(normalization, IMAGENET_INCEPTION);
    assert.deepEqual(reported, inception);
    const { normalization: overridden, ...asImagenet } = run('--data_path', data, '--imagenet_default_mean_and_std', 'true');
    assert.deepEqual(overridden, IMAGENET_DEFAULT);
    assert.deepEqual(asImagenet, imagenet);
    const { normalization: _, ...folder } = run('--data_path', join(data, 'val'), '--data_set', 'image_folder');
    assert.deepEqual(folder, inception);
  });

  it('scores ReaL labels, paired with the images by name', () => {
    const data = digits(10);
    const named = mkdtempSync(join(tmpdir(), 'pix-eval-real-'));
    const labels: number[][] = [];
    for (const digit of readdirSync(join(data, 'val')).sort()) {
      mkdirSync(join(named, digit));
      for (const file of readdirSync(join(data, 'val', digit)).sort()) {
        copyFileSync(join(data, 'val', digit, file), join(named, digit, realLabelFileName(labels.length)));
        labels.push([Number(digit)]);
      }
    }
    const real = join(mkdtempSync(join(tmpdir(), 'pix-eval-real-json-')), 'real.json');
    writeFileSync(real, JSON.stringify(labels));
    const result = spawnSync(process.execPath, [pix, 'eval', '--model', 'resnet_tiny', '--checkpoint', checkpoint, '--data_path', named,
      '--data_set', 'image_folder', '--input_size', '28', '--real_labels', real, '--json'], { encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
    const reported = JSON.parse(result.stdout) as EvalJson;
    // ReaL classes equal to the folder labels: the ReaL score is the plain accuracy.
    assert.deepEqual(reported.real, { acc1: reported.acc1, acc5: reported.acc5, images: 60 });
  });

  it('--data_set CIFAR evaluates CIFAR-100\'s test file, as the run that trained on it did', async () => {
    const out = mkdtempSync(join(tmpdir(), 'pix-eval-cifar-'));
    const data = join(fixturesDir, 'cifar', 'py2');
    const outcome = await runTraining({ ...defaultRunConfig(), model: 'resnet_tiny', data_set: 'CIFAR', data_path: data, input_size: 32,
      batch_size: 8, epochs: 1, warmup_epochs: 0, aa: 'none', reprob: 0, mixup: 0, cutmix: 0, output_dir: out, num_workers: 0 });
    assert.equal(outcome.status, 'completed');
    const result = spawnSync(process.execPath, [pix, 'eval', '--model', 'resnet_tiny', '--checkpoint', join(out, 'checkpoint-0.safetensors'),
      '--data_set', 'CIFAR', '--data_path', data, '--input_size', '32', '--json'], { encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
    const reported = JSON.parse(result.stdout) as EvalJson;
    assert.equal(reported.images, 20);
    assert.equal(reported.acc1, outcome.best!.acc1);
    assert.ok(Math.abs(reported.loss - outcome.best!.loss) < 1e-6, `${reported.loss} vs ${outcome.best!.loss}`);
  });

  it('refuses a dataset with another class count', () => {
    const result = spawnSync(process.execPath, [pix, 'eval', '--model', 'resnet_tiny', '--checkpoint', checkpoint,
      '--data_path', digits(4), '--input_size', '28'], { encoding: 'utf8' });
    assert.equal(result.status, 1);
    assert.match(result.stderr, /the checkpoint has 10 classes but .* has 4/);
  });
});
