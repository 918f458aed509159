// The training loop on a small slice of the demo digits (at their own 28x28, which the official
// script at input_size <= 32 takes without resizing): the output folder's files in the official
// formats, checkpoint retention, determinism (same seed and data, same losses), a stop request that
// saves a resumable checkpoint, the official dataset kinds (IMNET, image_folder) and
// normalisations, checkpoint-best-ema holding the best-scoring EMA of several decays, ReaL labels
// where the official script scores them, refusals of flags this build cannot honour, and of
// evaluation images of another size than an --input_size <= 32 before anything trains.
import assert from 'node:assert/strict';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { defaultRunConfig, type RunConfig } from '../../../shared/config';
import { readSafetensors } from '../../../electron/host/checkpoints/safetensors';
import { realLabelFileName } from '../../../electron/host/train/real_labels';
import { resumePosition, runTraining } from '../../../electron/host/train/trainer';
import { fixturesDir } from '../../helpers/fixtures';
import { smallDigits } from '../../helpers/small_digits';

const data = smallDigits();

function config(overrides: Partial<RunConfig>): RunConfig {
  return { ...defaultRunConfig(), model: 'pix_resnet_tiny_cs', data_path: data, input_size: 28, batch_size: 25, epochs: 2,
    opt: 'momentum', lr: 0.05, warmup_epochs: 1, aa: 'none', reprob: 0, mixup: 0, cutmix: 0, hflip: 0, scale: [0.6, 1],
    test_freq: 1, seed: 1, ...overrides };
}

function lines(path: string): Record<string, unknown>[] {
  return readFileSync(path, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('trainer', () => {
  it('writes log.txt, metrics.jsonl and checkpoints, keeping the newest save_ckpt_num', async () => {
    const out = mkdtempSync(join(tmpdir(), 'pix-run-'));
    const outcome = await runTraining(config({ output_dir: out, epochs: 3, save_ckpt_num: 2 }));
    assert.equal(outcome.status, 'completed');
    const log = lines(join(out, 'log.txt'));
    assert.equal(log.length, 3);
    for (const key of ['train_loss', 'train_lr', 'train_min_lr', 'train_weight_decay', 'test_acc1', 'test_acc5', 'test_loss', 'epoch', 'n_parameters']) {
      assert.ok(key in log[0]!, key);
    }
    const metrics = lines(join(out, 'metrics.jsonl'));
    assert.equal(metrics.length, 3 * 12);  // 300 images // 25 = 12 steps per epoch
    assert.deepEqual(Object.keys(metrics[0]!).sort(), ['data_seconds', 'epoch', 'grad_norm', 'images_per_second', 'loss', 'lr',
      'step', 'step_seconds', 'time', 'weight_decay']);
    assert.equal(metrics[0]!.lr, 0);  // warm-up starts at 0
    const files = readdirSync(out).filter((f) => f.endsWith('.safetensors')).sort();
    assert.deepEqual(files, ['checkpoint-1.safetensors', 'checkpoint-2.safetensors', 'checkpoint-best.safetensors']);
    const { metadata, tensors } = readSafetensors(join(out, 'checkpoint-2.safetensors'));
    assert.equal(metadata.epoch, '2');
    assert.equal(metadata.next_step, '36');
    assert.equal((JSON.parse(metadata.config!) as RunConfig).lr, 0.05);
    assert.ok(tensors.has('model.conv_stem.weight'));
  });

  it('gives the same losses for the same seed and data', async () => {
    const losses = async () => {
      const out = mkdtempSync(join(tmpdir(), 'pix-run-'));
      await runTraining(config({ output_dir: out, epochs: 1 }));
      return lines(join(out, 'metrics.jsonl')).map((m) => m.loss);
    };
    assert.deepEqual(await losses(), await losses());
  });

  it('stops on request, and resumes at the same step with the same losses as an uninterrupted run', async () => {
    const recipe = { opt: 'adamw', lr: 2e-3, weight_decay: 0.05, model_ema: true, model_ema_decay: 0.9, model_ema_decays: [0.5] };
    const straight: number[] = [];
    await runTraining(config({ ...recipe, output_dir: mkdtempSync(join(tmpdir(), 'pix-run-')) }), { iteration: (m) => straight.push(m.loss) });

    const out = mkdtempSync(join(tmpdir(), 'pix-run-'));
    const stop = { requested: false };
    const losses: number[] = [];
    const outcome = await runTraining(config({ ...recipe, output_dir: out }),
      { iteration: (m) => { losses.push(m.loss); if (m.step === 4) stop.requested = true; } }, stop);
    assert.deepEqual(outcome, { status: 'stopped', epoch: 0 });
    const saved = readSafetensors(join(out, 'checkpoint-0.safetensors'));
    assert.equal(saved.metadata.next_step, '5');
    assert.ok(saved.tensors.has('optimizer.step') && saved.tensors.has('model_ema.conv_stem.weight') && saved.tensors.has('model_ema_0.5.conv_stem.weight'));
    const steps: number[] = [];
    const again = await runTraining(config({ ...recipe, output_dir: out, auto_resume: true }),
      { iteration: (m) => { steps.push(m.step); losses.push(m.loss); } });
    assert.equal(again.status, 'completed');
    assert.equal(steps[0], 5);
    assert.equal(steps.at(-1), 23);
    assert.deepEqual(losses, straight);
  });

  it('trains with the recipe\'s parts: LAMB, Mixup/CutMix with BCE, clipping, EMA evaluated', async () => {
    const out = mkdtempSync(join(tmpdir(), 'pix-run-'));
    const outcome = await runTraining(config({ output_dir: out, epochs: 1, opt: 'lamb', lr: 3.5e-3, weight_decay: 0.35, drop: 0.05,
      mixup: 0.15, cutmix: 1.0, bce_loss: true, clip_grad: 5, model_ema: true, model_ema_eval: true, model_ema_decay: 0.99,
      model_ema_decays: [0, 0.9], batch_size: 20 }));
    assert.equal(outcome.status, 'completed');
    const [epoch] = lines(join(out, 'log.txt'));
    for (const key of ['ema_test_acc1', 'ema_test_acc5', 'ema_test_loss', 'ema_0.9_test_acc1', 'ema_0.9_test_loss']) assert.ok(key in epoch!, key);
    // Decay 0 keeps an exact copy of the weights and BN buffers: it must evaluate as the model does.
    assert.equal(epoch!['ema_0_test_acc1'], epoch!.test_acc1);
    assert.equal(epoch!['ema_0_test_loss'], epoch!.test_loss);
    assert.ok(readdirSync(out).includes('checkpoint-best-ema.safetensors'));
    assert.ok(lines(join(out, 'metrics.jsonl')).every((m) => typeof m.grad_norm === 'number' && Number.isFinite(m.loss)));
  });

  it('with several EMA decays, checkpoint-best-ema holds the best-scoring EMA under model_ema. and names its decay', async () => {
    // Decay 0.9999 barely leaves the initial weights; decay 0 is the model itself, which learns.
    const root = ilsvrcNamedDigits();
    const same = writeJson(realLabelsOf(root).map(({ label }) => [label]));
    const out = mkdtempSync(join(tmpdir(), 'pix-run-'));
    const messages: string[] = [];
    const outcome = await runTraining(config({ data_path: root, output_dir: out, epochs: 2, model_ema: true, model_ema_eval: true,
      model_ema_decay: 0.9999, model_ema_decays: [0], real_labels: same }), { message: (text) => messages.push(text) });
    assert.ok(outcome.status === 'completed' && outcome.real);
    const log = lines(join(out, 'log.txt'));
    const scores = log.flatMap((r) => [{ decay: 0.9999, epoch: r.epoch, acc1: r.ema_test_acc1 as number, acc5: r.ema_test_acc5 as number },
      { decay: 0, epoch: r.epoch, acc1: r.ema_0_test_acc1 as number, acc5: r.ema_0_test_acc5 as number }]);
    const best = scores.reduce((a, b) => (b.acc1 > a.acc1 ? b : a));
    assert.equal(best.decay, 0, `the test needs decay 0 to win: ${JSON.stringify(scores)}`);
    assert.ok(best.acc1 > Math.max(...scores.filter((s) => s.decay === 0.9999).map((s) => s.acc1)));

    const saved = readSafetensors(join(out, 'checkpoint-best-ema.safetensors'));
    assert.equal(saved.metadata.model_ema_decay, '0');
    assert.equal(saved.metadata.epoch, String(best.epoch));
    // model_ema. is decay 0's EMA, an exact copy of the model it was saved with; the main EMA moved to its decay's prefix.
    for (const [key, model] of saved.tensors) {
      if (!key.startsWith('model.') || key.endsWith('num_batches_tracked')) continue;
      assert.deepEqual(saved.tensors.get(`model_ema.${key.slice('model.'.length)}`)!.data, model.data, key);
    }
    const stem = (prefix: string) => saved.tensors.get(`${prefix}conv_stem.weight`)!.data;
    assert.notDeepEqual(stem('model_ema_0.9999.'), stem('model_ema.'));
    assert.equal(saved.tensors.has('model_ema_0.conv_stem.weight'), false);
    // The numbered checkpoints keep the main EMA under model_ema., as the official script's do.
    assert.equal(readSafetensors(join(out, 'checkpoint-1.safetensors')).metadata.model_ema_decay, '0.9999');
    // The ReaL score after training is that EMA's, and the log says which decay it is.
    assert.deepEqual([outcome.real.acc1, outcome.real.acc5], [best.acc1, best.acc5]);
    assert.ok(messages.some((m) => new RegExp(`^Max EMA accuracy: ${best.acc1.toFixed(2)}% \\(EMA decay 0, epoch ${best.epoch}\\)$`).test(m)), messages.join('\n'));
    assert.ok(messages.some((m) => /checkpoint-best-ema\.safetensors \(EMA weights, decay 0\): top-1 /.test(m)), messages.join('\n'));
  });

  it('with --eval, only evaluates the resumed weights', async () => {
    const out = mkdtempSync(join(tmpdir(), 'pix-run-'));
    const trained = await runTraining(config({ output_dir: out, epochs: 1 }));
    assert.equal(trained.status, 'completed');
    let epochs = 0;
    const evaluated = await runTraining(config({ eval: true, resume: join(out, 'checkpoint-0.safetensors') }), { epoch: () => epochs++ });
    assert.equal(epochs, 0);
    assert.ok(evaluated.status === 'completed' && trained.status === 'completed');
    assert.equal(evaluated.best!.images, 100);
    assert.deepEqual(evaluated.best, trained.best);
  });

  it('refuses flags whose features this build lacks, naming what to pass', async () => {
    await assert.rejects(runTraining(config({ mixup: 0.8, batch_size: 25 })), /the batch size must be even/);
    await assert.rejects(runTraining(config({ aa: 'augmix-m5-q4' })), /--aa augmix-m5-q4: unknown section 'q4'/);
    await assert.rejects(runTraining(config({ aa: 'rand-m9-x3' })), /--aa rand-m9-x3: unknown section 'x3'/);
    await assert.rejects(runTraining(config({ data_path: join(tmpdir(), 'pix-missing') })), /is not a folder/);
    await assert.rejects(runTraining(config({ batch_size: 1000 })), /fewer than one effective batch of 1000/);
    await assert.rejects(runTraining(config({ nproc_per_node: 2 })), /processes need the launcher: run them through `pix train`/);
    await assert.rejects(runTraining(config({ data_set: 'CIFAR' })), /holds no cifar-100-python folder\. The official script downloads it; training here downloads nothing: run pix data fetch-cifar --data_path .*, or fetch https:/);
    await assert.rejects(runTraining(config({ data_set: 'image_folder', data_path: join(data, 'train'), nb_classes: 10 })),
      /--data_set image_folder evaluates on --eval_data_path, which is empty/);
    await assert.rejects(runTraining(config({ data_set: 'image_folder', data_path: join(data, 'train'), eval_data_path: join(data, 'val') })),
      /--nb_classes is 1000 but --data_path .*train holds 10 class folders .*pass --nb_classes 10/);
    await assert.rejects(runTraining(config({ model_ema: true, model_ema_decay: 0.9, model_ema_decays: [0.5, 0.9] })),
      /--model_ema_decays 0\.5 0\.9: decay 0\.9 is kept twice \(--model_ema_decay is 0\.9\); give each decay once/);
    await assert.rejects(runTraining(config({ real_labels: '/data/real.json', model_ema_eval: true })),
      /--real_labels \/data\/real.json: after training the official script scores checkpoint-best-ema with them, which needs --model_ema true/);
  });

  it('at --input_size <= 32, refuses evaluation images of another size before any training step, naming the file', async () => {
    // The digits are 28x28: at 16 training crops them (padded RandomCrop), evaluation would take them as they are.
    for (const overrides of [{}, { eval: true }]) {
      const out = mkdtempSync(join(tmpdir(), 'pix-run-'));
      let steps = 0;
      await assert.rejects(runTraining(config({ output_dir: out, input_size: 16, ...overrides }), { iteration: () => steps++ }),
        /val[\\/]0[\\/][^:\s]+\.png: the image is 28x28, but evaluation at --input_size 16 \(<= 32\) takes images as they are, without Resize or CenterCrop.*every evaluation image must be 16x16/s);
      assert.equal(steps, 0);
      assert.ok(!existsSync(join(out, 'metrics.jsonl')) && !existsSync(join(out, 'checkpoint-0.safetensors')));
    }
    // At their own 28 the same folder passes the check (and trains: the first test).
  });

  it('--data_set image_folder trains on data_path and evaluates on eval_data_path: the same run as IMNET on those folders', async () => {
    const run = async (overrides: Partial<RunConfig>) => {
      const out = mkdtempSync(join(tmpdir(), 'pix-run-'));
      const outcome = await runTraining(config({ output_dir: out, epochs: 1, ...overrides }));
      assert.equal(outcome.status, 'completed');
      return { losses: lines(join(out, 'metrics.jsonl')).map((m) => m.loss), log: lines(join(out, 'log.txt')), outcome };
    };
    const imagenet = await run({});
    const folders = await run({ data_set: 'image_folder', data_path: join(data, 'train'), eval_data_path: join(data, 'val'), nb_classes: 10 });
    assert.equal(folders.losses.length, 12);
    assert.deepEqual(folders.losses, imagenet.losses);
    assert.deepEqual(folders.outcome, imagenet.outcome);
    assert.equal(folders.log[0]!.test_acc1, imagenet.log[0]!.test_acc1);
    // Without evaluation the evaluation folder is not needed, as in the official script.
    const messages: string[] = [];
    const unevaluated = await runTraining(config({ data_set: 'image_folder', data_path: join(data, 'train'), nb_classes: 10, epochs: 1, disable_eval: true }),
      { message: (text) => messages.push(text) });
    assert.deepEqual(unevaluated, { status: 'completed', best: null });
    // IMNET evaluates data_path/val whatever --eval_data_path says, as the official script does, and says so.
    await runTraining(config({ epochs: 1, eval_data_path: join(data, 'train'), disable_eval: true }), { message: (text) => messages.push(text) });
    assert.ok(messages.some((m) => /--eval_data_path .* is unused with --data_set IMNET/.test(m)), messages.join('\n'));
  });

  it('--data_set CIFAR trains on CIFAR-100\'s train file and evaluates on its test file, with the same losses on worker threads', async () => {
    const cifar = join(fixturesDir, 'cifar', 'py2');
    const run = async (overrides: Partial<RunConfig>) => {
      const out = mkdtempSync(join(tmpdir(), 'pix-run-'));
      const messages: string[] = [];
      const outcome = await runTraining(config({ data_set: 'CIFAR', data_path: cifar, output_dir: out, epochs: 1, batch_size: 8, ...overrides }),
        { message: (text) => messages.push(text) });
      assert.equal(outcome.status, 'completed');
      return { losses: lines(join(out, 'metrics.jsonl')).map((m) => m.loss), log: lines(join(out, 'log.txt')), out, messages };
    };
    const small = await run({ input_size: 32, num_workers: 0 });
    assert.equal(small.losses.length, 5);  // 40 images // 8
    assert.ok(small.losses.every((l) => Number.isFinite(l)));
    assert.equal(typeof small.log[0]!.test_acc1, 'number');
    assert.ok(small.messages.some((m) => /cifar-100-python\/train is not the published CIFAR-100 file/.test(m)), small.messages.join('\n'));
    // One output per CIFAR-100 class, whatever --nb_classes says (the official script sets 100).
    assert.equal(readSafetensors(join(small.out, 'checkpoint-0.safetensors')).tensors.get('model.classifier.weight')?.shape[0], 100);
    assert.deepEqual((await run({ input_size: 32, num_workers: 2 })).losses, small.losses);
    // Above 32: RandomResizedCrop and the resize of the 32x32 images.
    assert.equal((await run({ input_size: 40, num_workers: 2 })).losses.length, 5);
  });

  it('--imagenet_default_mean_and_std false trains on Inception-normalised images and records it in the checkpoints', async () => {
    const out = mkdtempSync(join(tmpdir(), 'pix-run-'));
    const inception = await runTraining(config({ output_dir: out, epochs: 1, imagenet_default_mean_and_std: false }));
    const imagenetOut = mkdtempSync(join(tmpdir(), 'pix-run-'));
    await runTraining(config({ output_dir: imagenetOut, epochs: 1 }));
    const losses = (dir: string) => lines(join(dir, 'metrics.jsonl')).map((m) => m.loss as number);
    assert.notDeepEqual(losses(out), losses(imagenetOut));
    const saved = JSON.parse(readSafetensors(join(out, 'checkpoint-0.safetensors')).metadata.config!) as RunConfig;
    assert.equal(saved.imagenet_default_mean_and_std, false);
    // --eval of that checkpoint with the same flag reproduces the run's own evaluation.
    const evaluated = await runTraining(config({ eval: true, resume: join(out, 'checkpoint-0.safetensors'), imagenet_default_mean_and_std: false }));
    assert.ok(evaluated.status === 'completed' && inception.status === 'completed');
    assert.deepEqual(evaluated.best, inception.best);
  });

  it('--real_labels: ReaL top-1/top-5 with --eval, and on checkpoint-best-ema after training with --model_ema_eval', async () => {
    const root = ilsvrcNamedDigits();
    const labels = realLabelsOf(root);
    // ReaL classes equal to the folder labels: the ReaL score is the plain accuracy.
    const same = writeJson(labels.map(({ label }) => [label]));
    const out = mkdtempSync(join(tmpdir(), 'pix-run-'));
    const messages: string[] = [];
    const trained = await runTraining(config({ data_path: root, output_dir: out, epochs: 2, model_ema: true, model_ema_eval: true,
      model_ema_decay: 0.5, real_labels: same }), { message: (text) => messages.push(text) });
    assert.equal(trained.status, 'completed');
    assert.ok(trained.status === 'completed' && trained.real);
    const emaAcc = lines(join(out, 'log.txt')).map((r) => [r.ema_test_acc1 as number, r.ema_test_acc5 as number]);
    const best = emaAcc.reduce((a, b) => (b[0]! > a[0]! ? b : a));
    assert.deepEqual([trained.real.acc1, trained.real.acc5, trained.real.images], [best[0], best[1], 100]);
    assert.ok(messages.some((m) => /^ReaL labels, .*checkpoint-best-ema\.safetensors \(EMA weights, decay 0\.5\): top-1 /.test(m)), messages.join('\n'));

    const checkpoint = join(out, 'checkpoint-1.safetensors');
    const plain = await runTraining(config({ data_path: root, eval: true, resume: checkpoint, real_labels: same }));
    assert.ok(plain.status === 'completed' && plain.best?.real);
    assert.deepEqual([plain.best.real.acc1, plain.best.real.acc5, plain.best.real.images], [plain.best.acc1, plain.best.acc5, 100]);
    // Every class judged correct for the first half, none for the second: 100% over the first half only.
    const half = writeJson(labels.map((_, i) => (i < 50 ? [0, 1, 2, 3, 4, 5, 6, 7, 8, 9] : [])));
    const halved = await runTraining(config({ data_path: root, eval: true, resume: checkpoint, real_labels: half }));
    assert.ok(halved.status === 'completed');
    assert.deepEqual(halved.best!.real, { acc1: 100, acc5: 100, images: 50 });
    // A real.json for another set is refused before anything runs.
    await assert.rejects(runTraining(config({ data_path: root, eval: true, resume: checkpoint, real_labels: writeJson([[1], [2]]) })),
      /has entries for 2 images but the evaluation folder has 100/);
  });
});

/** smallDigits' layout with the val/ images named as the ImageNet validation set's, numbered in folder order. */
function ilsvrcNamedDigits(): string {
  const root = mkdtempSync(join(tmpdir(), 'pix-ilsvrc-'));
  cpSync(join(data, 'train'), join(root, 'train'), { recursive: true });
  let n = 0;
  for (const digit of readdirSync(join(data, 'val')).sort()) {
    mkdirSync(join(root, 'val', digit), { recursive: true });
    for (const file of readdirSync(join(data, 'val', digit)).sort()) {
      copyFileSync(join(data, 'val', digit, file), join(root, 'val', digit, realLabelFileName(n++)));
    }
  }
  return root;
}

/** The val/ images in the order real.json lists them, with their folder's label. */
function realLabelsOf(root: string): { name: string; label: number }[] {
  const digits = readdirSync(join(root, 'val')).sort();
  return digits.flatMap((digit, label) => readdirSync(join(root, 'val', digit)).map((name) => ({ name, label })))
    .sort((a, b) => (a.name < b.name ? -1 : 1));
}

function writeJson(value: unknown): string {
  const path = join(mkdtempSync(join(tmpdir(), 'pix-real-')), 'real.json');
  writeFileSync(path, JSON.stringify(value));
  return path;
}

describe('resumePosition', () => {
  it('continues at the saved step when the steps per epoch are unchanged', () => {
    assert.deepEqual(resumePosition({ epoch: '1', next_step: '7', iters_per_epoch: '5' }, 5), { nextStep: 7, note: '' });
    // Checkpoints from before iters_per_epoch was recorded count as this run does.
    assert.deepEqual(resumePosition({ epoch: '1', next_step: '7' }, 5), { nextStep: 7, note: '' });
    // An official checkpoint has only its epoch: the next one starts.
    assert.deepEqual(resumePosition({ epoch: '2' }, 5), { nextStep: 15, note: '' });
  });

  it('carries the epoch and the fraction of it over when the batch changed', () => {
    // Three steps of batch 20 per epoch then; one of batch 60 now: epoch 1 starts at step 1, not epoch 3.
    const atBoundary = resumePosition({ epoch: '0', next_step: '3', iters_per_epoch: '3' }, 1);
    assert.deepEqual(atBoundary, { nextStep: 1, note: ' (the checkpoint counted 3 steps per epoch, this run 1)' });
    // Stopped halfway through epoch 2 at 10 steps per epoch: halfway through epoch 2 at 4.
    assert.equal(resumePosition({ epoch: '2', next_step: '25', iters_per_epoch: '10' }, 4).nextStep, 10);
  });
});
