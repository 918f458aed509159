// `pix train` flags: the official names, defaults and spellings, and errors that help.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultRunConfig } from '../../shared/config';
import { parseRunFlags } from '../../electron/cli/run_flags';

describe('run flags', () => {
  it('has the official defaults', () => {
    const d = defaultRunConfig();
    assert.equal(d.batch_size, 64);
    assert.equal(d.epochs, 300);
    assert.equal(d.opt, 'adamw');
    assert.equal(d.lr, 4e-3);
    assert.equal(d.aa, 'rand-m9-mstd0.5-inc1');
    assert.equal(d.mixup, 0.8);
    assert.equal(d.model_ema, false);
    assert.equal(d.model_ema_decay, 0.9999);
    assert.equal(d.clip_grad, null);
    assert.equal(d.opt_betas, null);
    assert.equal(d.model_key, 'model|module');
    assert.equal(d.save_ckpt_num, 10);
    assert.equal(d.dist_eval, true);
  });

  it('reads the published PiX recipe', () => {
    const c = parseRunFlags(['--model', 'PiXResNet50_cs', '--lr', '3.5e-3', '--weight_decay', '0.35', '--drop', '0.05',
      '--opt', 'lamb', '--aa', 'rand-m7-mstd0.5-inc1', '--mixup', '0.15', '--bce_loss', '--model_ema', 'true',
      '--model_ema_eval', 'true', '--model_ema_decay', '0.99996', '--batch_size', '128']);
    assert.equal(c.opt, 'lamb');
    assert.equal(c.lr, 3.5e-3);
    assert.equal(c.bce_loss, true);
    assert.equal(c.model_ema, true);
    assert.equal(c.model_ema_decay, 0.99996);
    assert.equal(c.batch_size, 128);
    assert.equal(c.cutmix, 1.0);
  });

  it('takes --name=value, lists of numbers and negative numbers', () => {
    const c = parseRunFlags(['--opt_betas', '0.9', '0.95', '--warmup_steps=-1', '--cutmix_minmax', '0.2', '0.8', '--seed', '7']);
    assert.deepEqual(c.opt_betas, [0.9, 0.95]);
    assert.deepEqual(c.cutmix_minmax, [0.2, 0.8]);
    assert.equal(c.warmup_steps, -1);
    assert.equal(c.seed, 7);
  });

  it('suggests the closest flag for a typo', () => {
    assert.throws(() => parseRunFlags(['--lrr', '1']), /unknown flag --lrr \(did you mean --lr\?\)/);
    assert.throws(() => parseRunFlags(['--batchsize', '1']), /did you mean --batch_size/);
  });

  it('names bad values', () => {
    assert.throws(() => parseRunFlags(['--batch_size', '1.5']), /--batch_size expects an integer, got '1.5'/);
    assert.throws(() => parseRunFlags(['--model_ema', 'maybe']), /--model_ema expects a boolean/);
    assert.throws(() => parseRunFlags(['--lr', '-1']), { message: '--lr: must be above 0, got -1' });
    assert.throws(() => parseRunFlags(['--opt', 'adagrad']), { message: "--opt: must be adamw, lamb, sgd or momentum, got 'adagrad'" });
    // A list flag names the flag, not the entry's index: the value it quotes says which entry.
    assert.throws(() => parseRunFlags(['--model_ema_decays', '0.99', '2']), { message: '--model_ema_decays: must be between 0 and 1, got 2' });
    assert.throws(() => parseRunFlags(['--lr', '0', '--reprob', '1.5']), { message: '--lr: must be above 0, got 0; --reprob: must be between 0 and 1, got 1.5' });
    assert.throws(() => parseRunFlags(['--lr']), /--lr expects a value/);
    assert.throws(() => parseRunFlags(['--bce_loss=yes']), /--bce_loss takes no value/);
    assert.throws(() => parseRunFlags(['--seed', '1', '--seed', '2']), /--seed is given twice/);
    assert.throws(() => parseRunFlags(['data/']), /unexpected argument 'data\/'/);
    assert.throws(() => parseRunFlags(['--device', 'gpu']), { message: "--device: must be cpu, cuda or cuda:N, got 'gpu'" });
  });
});
