// The training loop on CUDA (--device cuda) against the same run on the CPU: the tiny PiX model on
// a small slice of the demo digits (resized to the 16x16 input, which at input_size <= 32 is taken
// as it is) with the same seed. In f32 the first steps' losses agree within
// 1e-3 (relative) with the recipe's Mixup/CutMix, BCE, LAMB and EMA; with SGD at lr 0.05 the first
// within 1e-4 and the second within 3e-2 (see below);
// checkpoints hold the same tensors as a CPU run's, and a run stopped on CUDA resumes there with
// the uninterrupted run's losses. With --use_amp (bf16 activations) the loss goes down. Every run
// gives its device memory back when it ends, a failed one too. Skips, printing why, where no CUDA
// device is usable.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { defaultRunConfig, type RunConfig } from '../../../shared/config';
import { readSafetensors } from '../../../electron/host/checkpoints/safetensors';
import { loadEngine } from '../../../electron/host/engine/addon';
import { runTraining } from '../../../electron/host/train/trainer';
import { cudaSkipReason } from '../../helpers/cuda';
import { smallDigits, smallDigitsAt } from '../../helpers/small_digits';

const skip = cudaSkipReason();
const FIRST_STEPS = 4;
const LOSS_TOLERANCE = 1e-3;

function config(data: string, overrides: Partial<RunConfig>): RunConfig {
  return { ...defaultRunConfig(), model: 'pix_resnet_tiny_cs', data_path: data, input_size: 16, batch_size: 20, epochs: 1,
    opt: 'momentum', lr: 0.05, warmup_epochs: 0, aa: 'none', reprob: 0, mixup: 0, cutmix: 0, hflip: 0, scale: [0.6, 1],
    test_freq: 1, seed: 3, output_dir: mkdtempSync(join(tmpdir(), 'pix-cuda-run-')), ...overrides };
}

async function losses(run: RunConfig): Promise<number[]> {
  const out: number[] = [];
  const outcome = await runTraining(run, { iteration: (m) => out.push(m.loss) });
  assert.equal(outcome.status, 'completed', JSON.stringify(outcome));
  return out;
}

function assertClose(cuda: number[], cpu: number[], count: number, tolerance: number, what: string): void {
  assert.ok(cuda.length >= count && cpu.length >= count, `${what}: ${cuda.length} and ${cpu.length} steps`);
  for (let i = 0; i < count; i++) {
    const error = Math.abs(cuda[i]! - cpu[i]!) / Math.abs(cpu[i]!);
    assert.ok(error <= tolerance, `${what}, step ${i}: loss ${cuda[i]} on CUDA, ${cpu[i]} on the CPU (relative ${error.toExponential(2)})`);
  }
}

function epochRecords(dir: string): Record<string, number>[] {
  return readFileSync(join(dir, 'log.txt'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, number>);
}

describe('trainer on CUDA', { skip }, () => {
  const digits = skip ? Promise.resolve('') : smallDigitsAt(16, 20, 6);

  it('follows the CPU run in f32 (label smoothing, SGD with momentum)', async () => {
    const cpu = config(await digits, { device: 'cpu', smoothing: 0.1 });
    const cuda = config(await digits, { device: 'cuda', smoothing: 0.1 });
    // Large SGD steps on this tiny network turn rounding into different runs within a few steps: the
    // CPU's own portable and AVX-512 kernels part by 1% at the second step and 5% at the fourth; on
    // the CUDA emulator the own convolutions stay within that spread and its cuDNN stand-in (summing
    // in another order) parts by 1.03% at the second step. So the first step (the same weights) is
    // held tightly, the second to 3%, and the epoch's mean loss to 5%.
    const [lossesCuda, lossesCpu] = [await losses(cuda), await losses(cpu)];
    assertClose(lossesCuda, lossesCpu, 1, 1e-4, 'label smoothing');
    assertClose(lossesCuda.slice(1), lossesCpu.slice(1), 1, 3e-2, 'label smoothing, after one step');
    const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
    assert.ok(Math.abs(mean(lossesCuda) - mean(lossesCpu)) <= 0.05 * mean(lossesCpu),
      `mean loss ${mean(lossesCuda)} on CUDA, ${mean(lossesCpu)} on the CPU`);
    // The same checkpoint format: every tensor the CPU run saves, with its dtype and shape.
    const onCpu = readSafetensors(join(cpu.output_dir, 'checkpoint-0.safetensors'));
    const onCuda = readSafetensors(join(cuda.output_dir, 'checkpoint-0.safetensors'));
    assert.deepEqual([...onCuda.tensors.keys()].sort(), [...onCpu.tensors.keys()].sort());
    for (const [key, t] of onCpu.tensors) {
      assert.deepEqual([onCuda.tensors.get(key)!.dtype, onCuda.tensors.get(key)!.shape], [t.dtype, t.shape], key);
    }
    const [cudaEpoch] = epochRecords(cuda.output_dir);
    const [cpuEpoch] = epochRecords(cpu.output_dir);
    assert.ok(Math.abs(cudaEpoch!.test_loss! - cpuEpoch!.test_loss!) <= 0.05 * cpuEpoch!.test_loss!,
      `test loss ${cudaEpoch!.test_loss} on CUDA, ${cpuEpoch!.test_loss} on the CPU`);
  });

  it('follows the CPU run with the recipe: Mixup/CutMix, BCE, LAMB, EMA evaluated', async () => {
    const recipe: Partial<RunConfig> = { opt: 'lamb', lr: 3.5e-3, weight_decay: 0.35, mixup: 0.15, cutmix: 1.0, bce_loss: true,
      model_ema: true, model_ema_eval: true, model_ema_decay: 0.9 };
    // The digits at their own 28x28, where the 1e-3 agreement was measured: on the 16x16 copies LAMB's
    // trust ratio carries the kernels' different rounding to 1.2e-3 by the third step.
    const full = { ...recipe, data_path: smallDigits(20, 6), input_size: 28 };
    const cpu = config('', { ...full, device: 'cpu' });
    const cuda = config('', { ...full, device: 'cuda:0' });
    assertClose(await losses(cuda), await losses(cpu), FIRST_STEPS, LOSS_TOLERANCE, 'recipe');
    assert.ok('ema_test_acc1' in epochRecords(cuda.output_dir)[0]!);
    assert.ok(readSafetensors(join(cuda.output_dir, 'checkpoint-0.safetensors')).tensors.has('model_ema.conv_stem.weight'));
  });

  it('resumes a stopped CUDA run at the same step with the uninterrupted run\'s losses', async () => {
    const recipe: Partial<RunConfig> = { opt: 'adamw', lr: 2e-3, weight_decay: 0.05, model_ema: true, model_ema_decay: 0.9, device: 'cuda' };
    const straight = await losses(config(await digits, { ...recipe, epochs: 2 }));
    const run = config(await digits, { ...recipe, epochs: 2 });
    const stop = { requested: false };
    const resumed: number[] = [];
    const first = await runTraining(run, { iteration: (m) => { resumed.push(m.loss); if (m.step === 3) stop.requested = true; } }, stop);
    assert.deepEqual(first, { status: 'stopped', epoch: 0 });
    resumed.push(...await losses({ ...run, auto_resume: true }));
    // The CUDA backend sums in a fixed order (PiX's gate gradients too), so a run and its resumption
    // agree to the bit; lost state would differ far more.
    assertClose(resumed, straight, straight.length, LOSS_TOLERANCE, 'resumed');
  });

  it('trains with --use_amp (bf16 activations): the loss goes down', async () => {
    // 8x8 digits, which RandomCrop(16, padding=4) takes whole and centred (nothing to draw): the
    // small-input crop's random shifts of a quarter of a 16x16 digit would slow 4 epochs' learning
    // too much to see. Not evaluated: at input_size 16 evaluation takes only 16x16 images.
    const run = config(await smallDigitsAt(8, 20, 6), { device: 'cuda', use_amp: true, epochs: 4, lr: 0.1, disable_eval: true });
    const messages: string[] = [];
    const outcome = await runTraining(run, { message: (m) => messages.push(m) });
    assert.equal(outcome.status, 'completed');
    assert.ok(messages.includes('training on cuda:0 with bf16 activations'), messages.join('\n'));
    const records = epochRecords(run.output_dir);
    assert.ok(records.every((r) => Number.isFinite(r.train_loss)));
    assert.ok(records.at(-1)!.train_loss! < 0.8 * records[0]!.train_loss!,
      `train loss ${records.map((r) => r.train_loss!.toFixed(3)).join(' -> ')}`);
  });

  it('gives the device memory back when a run ends, completed or failed', async () => {
    // Model, optimizer, EMAs and the step's tensors are disposed by runTraining, not left to the
    // garbage collector: the allocator's count of bytes in live tensors is back where it was.
    const allocated = () => loadEngine().cudaMemoryStats(0).allocatedBytes;
    const before = allocated();
    const completed = await runTraining(config(await digits, { device: 'cuda', model_ema: true, model_ema_eval: true, model_ema_decay: 0.9 }));
    assert.equal(completed.status, 'completed');
    assert.equal(allocated(), before, 'after a completed run');
    const diverged = await runTraining(config(await digits, { device: 'cuda', lr: 1e30 }));
    assert.equal(diverged.status, 'failed');
    assert.equal(allocated(), before, 'after a run stopped by a non-finite loss in mid-step');
  });
});
