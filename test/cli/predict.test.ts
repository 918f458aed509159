// `pix predict` as a new user runs it: a checkpoint saved from PyTorch's state_dict (the fixture's
// tensors, written as safetensors), images in, logits out, PyTorch's logits within 1e-4 in eval
// and train mode, on the CPU and with --device cuda (skipped, saying why, without a CUDA device);
// and the mistakes a user makes, answered by messages that name them.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { readSafetensors, writeSafetensors, type StoredTensor } from '../../electron/host/checkpoints/safetensors';
import { maxRelativeError } from '../helpers/compare';
import { cudaSkipReason } from '../helpers/cuda';
import { readFixture } from '../helpers/fixtures';

const pix = join(__dirname, '..', '..', '..', 'bin', 'pix.js');
const dir = mkdtempSync(join(tmpdir(), 'pix-predict-'));

function run(...args: string[]) {
  return spawnSync(process.execPath, [pix, 'predict', ...args], { encoding: 'utf8' });
}

/** The fixture's PyTorch state dict as a checkpoint file, keys optionally prefixed. */
function checkpointOf(model: string, prefix = ''): string {
  const tensors = new Map<string, StoredTensor>();
  for (const [k, v] of readFixture(`${model}.safetensors`).tensors) if (k.startsWith('state.')) tensors.set(prefix + k.slice(6), v);
  const path = join(dir, `${model}${prefix ? '-prefixed' : ''}.safetensors`);
  writeSafetensors(path, tensors, { format: 'pt' });
  return path;
}

function inputOf(model: string): string {
  const path = join(dir, `${model}-input.safetensors`);
  writeSafetensors(path, new Map([['input', readFixture(`${model}.safetensors`).tensors.get('input')!]]));
  return path;
}

describe('pix predict', () => {
  const noCuda = cudaSkipReason();
  for (const [model, device] of [['pix_resnet_tiny_cs', 'cpu'], ['resnet_small', 'cpu'], ['pix_resnet_small_cs', 'cuda'], ['resnet_small', 'cuda:0']]) {
    for (const mode of ['eval', 'train'] as const) {
      it(`gives PyTorch's ${mode}-mode logits for ${model} on ${device}`, { skip: device !== 'cpu' && noCuda }, () => {
        const output = join(dir, `${model}-${mode}-${device}-out.safetensors`);
        const args = ['--model', model, '--checkpoint', checkpointOf(model), '--input', inputOf(model), '--output', output, '--device', device];
        const result = run(...args, ...(mode === 'train' ? ['--train-mode'] : []));
        assert.equal(result.status, 0, result.stderr);
        const logits = readSafetensors(output).tensors.get('logits')!;
        const expected = readFixture(`${model}.safetensors`).tensors.get(`logits.${mode}`)!;
        assert.deepEqual(logits.shape, expected.shape);
        assert.ok(maxRelativeError(logits.data as Float32Array, expected.data as Float32Array) <= 1e-4);
      });
    }
  }

  it('accepts the module. prefix of DataParallel checkpoints and the official alias', () => {
    const output = join(dir, 'prefixed-out.safetensors');
    const result = run('--model', 'PIX_RESNET_TINY_CS', '--checkpoint', checkpointOf('pix_resnet_tiny_cs', 'module.'),
      '--input', inputOf('pix_resnet_tiny_cs'), '--output', output);
    assert.equal(result.status, 0, result.stderr);
  });

  it('names the keys when the checkpoint belongs to another model', () => {
    const result = run('--model', 'resnet_tiny', '--checkpoint', checkpointOf('pix_resnet_tiny_cs'),
      '--input', inputOf('resnet_tiny'), '--output', join(dir, 'x.safetensors'));
    assert.equal(result.status, 1);
    assert.match(result.stderr, /the checkpoint does not fit resnet_tiny/);
    assert.match(result.stderr, /missing keys: conv1\.weight/);
    assert.match(result.stderr, /unexpected keys: .*conv_stem\.weight/);
  });

  it('names a shape mismatch', () => {
    const result = run('--model', 'pix_resnet_small_cs', '--checkpoint', checkpointOf('pix_resnet_tiny_cs'),
      '--input', inputOf('pix_resnet_small_cs'), '--output', join(dir, 'x.safetensors'));
    assert.equal(result.status, 1);
    assert.match(result.stderr, /'conv_stem\.weight': checkpoint has shape \[16,3,3,3\], the model expects \[16,3,7,7\]/);
  });

  it('refuses a truncated checkpoint without crashing', () => {
    const path = join(dir, 'truncated.safetensors');
    const bytes = readFileSync(checkpointOf('resnet_tiny'));
    writeFileSync(path, bytes.subarray(0, bytes.length - 100));
    const result = run('--model', 'resnet_tiny', '--checkpoint', path, '--input', inputOf('resnet_tiny'), '--output', join(dir, 'x.safetensors'));
    assert.equal(result.status, 1);
    assert.match(result.stderr, /truncated\.safetensors: not a valid safetensors file/);
  });

  it('refuses input of the wrong rank or channel count', () => {
    const path = join(dir, 'bad-input.safetensors');
    writeSafetensors(path, new Map([['input', { dtype: 'F32', shape: [1, 4, 8, 8], data: new Float32Array(256) }]]));
    const result = run('--model', 'resnet_tiny', '--checkpoint', checkpointOf('resnet_tiny'), '--input', path, '--output', join(dir, 'x.safetensors'));
    assert.equal(result.status, 1);
    assert.match(result.stderr, /'input' must be \(N,3,H,W\) images, got shape \[1,4,8,8\]/);
  });

  it('names a device it cannot use', () => {
    const args = ['--model', 'resnet_tiny', '--checkpoint', checkpointOf('resnet_tiny'), '--input', inputOf('resnet_tiny'), '--output', join(dir, 'x.safetensors')];
    const tpu = run(...args, '--device', 'tpu');
    assert.equal(tpu.status, 1);
    assert.match(tpu.stderr, /--device tpu: 'tpu' is not cpu, cuda or cuda:N/);
    const absent = run(...args, '--device', 'cuda:7');
    assert.equal(absent.status, 1);
    assert.match(absent.stderr, /--device cuda:7: (cuda:7 does not exist|this build of the engine has no CUDA backend|.*use --device cpu)/);
  });

  it('says which flag is missing', () => {
    const result = run('--model', 'resnet_tiny');
    assert.equal(result.status, 1);
    assert.match(result.stderr, /--checkpoint is required/);
  });

  it('says with which mean and std the checkpoint was trained: in the output\'s metadata, and on stderr when not ImageNet\'s', () => {
    const plain = checkpointOf('resnet_tiny');
    const inception = join(dir, 'resnet_tiny-inception.safetensors');
    const { tensors } = readSafetensors(plain);
    writeSafetensors(inception, tensors, { format: 'pt', config: JSON.stringify({ imagenet_default_mean_and_std: false }) });
    for (const [checkpoint, mean, std, note] of [[plain, '0.485,0.456,0.406', '0.229,0.224,0.225', false], [inception, '0.5,0.5,0.5', '0.5,0.5,0.5', true]] as const) {
      const output = join(dir, 'normalisation-out.safetensors');
      const result = run('--model', 'resnet_tiny', '--checkpoint', checkpoint, '--input', inputOf('resnet_tiny'), '--output', output);
      assert.equal(result.status, 0, result.stderr);
      const { metadata } = readSafetensors(output);
      assert.deepEqual([metadata.mean, metadata.std], [mean, std]);
      assert.equal(/was trained on images normalised with mean 0\.5,0\.5,0\.5 std 0\.5,0\.5,0\.5 \(--imagenet_default_mean_and_std false\)/.test(result.stderr), note);
    }
  });
});
