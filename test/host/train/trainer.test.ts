// The training loop on a small slice of the demo digits: the output folder's files in the
// official formats, checkpoint retention, determinism (same seed and data, same losses), a stop
// request that saves a resumable checkpoint, and refusals of flags this build cannot honour.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { defaultRunConfig, type RunConfig } from '../../../shared/config';
import { readSafetensors } from '../../../electron/host/checkpoints/safetensors';
import { runTraining } from '../../../electron/host/train/trainer';
import { smallDigits } from '../../helpers/small_digits';

const data = smallDigits();

function config(overrides: Partial<RunConfig>): RunConfig {
  return { ...defaultRunConfig(), model: 'pix_resnet_tiny_cs', data_path: data, input_size: 16, batch_size: 25, epochs: 2,
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
    await assert.rejects(runTraining(config({ aa: 'augmix-m5-w4' })), /--aa augmix-m5-w4: AugMix is not available in this build/);
    await assert.rejects(runTraining(config({ aa: 'rand-m9-x3' })), /--aa rand-m9-x3: unknown section 'x3'/);
    await assert.rejects(runTraining(config({ data_path: join(tmpdir(), 'pix-missing') })), /is not a folder/);
    await assert.rejects(runTraining(config({ batch_size: 1000 })), /fewer than one effective batch of 1000/);
    await assert.rejects(runTraining(config({ nproc_per_node: 2 })), /processes need the launcher: run them through `pix train`/);
    await assert.rejects(runTraining(config({ data_set: 'CIFAR' })), /--data_set CIFAR: only IMNET is available .* pass --data_set IMNET/);
    await assert.rejects(runTraining(config({ imagenet_default_mean_and_std: false })), /--imagenet_default_mean_and_std false: only the ImageNet mean and std are available; pass true/);
    await assert.rejects(runTraining(config({ real_labels: '/data/real.json' })), /--real_labels \/data\/real.json: evaluation against ReaL labels is not available/);
  });
});
