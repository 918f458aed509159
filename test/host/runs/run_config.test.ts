// resolveRunConfig on the dataset and evaluation flags: the folders --data_set picks, checked as
// the trainer resolves them, with each problem under the field that causes it (the New-run form
// shows it beside that field); a --real_labels file checked against the evaluation folder.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { resolveRunConfig, RunConfigError } from '../../../electron/host/runs/run_config';
import { smallDigits } from '../../helpers/small_digits';

process.env.XDG_CACHE_HOME = mkdtempSync(join(tmpdir(), 'pix-cache-'));

const data = smallDigits(3, 2);
const base = { model: 'pix_resnet_tiny_cs', input_size: 16, batch_size: 10 };

/** The problems resolveRunConfig reports, by field. */
function problems(partial: Record<string, unknown>): Record<string, string> {
  try {
    resolveRunConfig({ ...base, ...partial }, mkdtempSync(join(tmpdir(), 'pix-run-')));
  } catch (error) {
    assert.ok(error instanceof RunConfigError, String(error));
    return error.fields;
  }
  assert.fail('the config was accepted');
}

function json(value: unknown): string {
  const path = join(mkdtempSync(join(tmpdir(), 'pix-json-')), 'real.json');
  writeFileSync(path, JSON.stringify(value));
  return path;
}

describe('resolveRunConfig: dataset flags', () => {
  it('accepts image_folder with both folders and a matching nb_classes', () => {
    const { config } = resolveRunConfig({ ...base, data_set: 'image_folder', data_path: join(data, 'train'), eval_data_path: join(data, 'val'), nb_classes: 10 },
      mkdtempSync(join(tmpdir(), 'pix-run-')));
    assert.equal(config.data_set, 'image_folder');
    assert.equal(config.imagenet_default_mean_and_std, true);
    // Training only: the evaluation folder is not needed.
    resolveRunConfig({ ...base, data_set: 'image_folder', data_path: join(data, 'train'), nb_classes: 10, disable_eval: true }, mkdtempSync(join(tmpdir(), 'pix-run-')));
    // The Inception normalisation is a plain choice now.
    assert.equal(resolveRunConfig({ ...base, data_path: data, imagenet_default_mean_and_std: false }, mkdtempSync(join(tmpdir(), 'pix-run-'))).config.imagenet_default_mean_and_std, false);
  });

  it('keys a list entry\'s problem by its flag, as the form and pix train name it', () => {
    const found = problems({ model_ema_decays: [0.99, 2, -1] });
    assert.deepEqual(Object.keys(found), ['model_ema_decays']);
    assert.match(found.model_ema_decays!, /got 2/);
  });

  it('names the field of each dataset problem', () => {
    const folder = { data_set: 'image_folder', data_path: join(data, 'train') };
    assert.match(problems({ ...folder, nb_classes: 10 }).eval_data_path!, /--data_set image_folder evaluates on --eval_data_path, which is empty/);
    assert.match(problems({ ...folder, eval_data_path: join(data, 'val') }).nb_classes!, /--nb_classes is 1000 but --data_path .* holds 10 class folders .*pass --nb_classes 10/);
    assert.match(problems({ ...folder, eval_data_path: join(data, 'val', '3'), nb_classes: 10 }).eval_data_path!, /holds \d+ images but no class folders/);
    assert.match(problems({ ...folder, data_path: data, eval_data_path: join(data, 'val'), nb_classes: 10 }).data_path!, /looks like the ImageNet layout/);
    assert.match(problems({ data_set: 'CIFAR', data_path: data }).data_path!, /holds no cifar-100-python folder\. The official script downloads it/);
    assert.match(problems({ data_set: 'image_folder' }).data_path!, /--data_set image_folder needs --data_path \(without it pix trains on the embedded demo digits/);
    assert.match(problems({ data_set: 'image_folder', data_path: 'train' }).data_path!, /'train' must be an absolute path/);
    assert.equal(problems({ data_set: 'MNIST' }).data_set, "must be IMNET, image_folder or CIFAR, got 'MNIST'");
    assert.throws(() => resolveRunConfig({ ...base, lr: -1 }, mkdtempSync(join(tmpdir(), 'pix-run-'))),
      { status: 400, message: 'the run config has problems: lr: must be above 0, got -1' });
  });

  it('checks --real_labels against the evaluation folder and the flags its scoring needs', () => {
    const images = readdirSync(join(data, 'val')).length * 2;
    assert.match(problems({ data_path: data, eval: true, real_labels: 'real.json' }).real_labels!, /'real\.json' must be an absolute path/);
    assert.match(problems({ data_path: data, eval: true, real_labels: json([[1]]) }).real_labels!, /has entries for 1 images but the evaluation folder has 20/);
    assert.match(problems({ data_path: data, eval: true, real_labels: json(Array.from({ length: images }, () => [0])) }).real_labels!,
      /the evaluation image .* has no entry; entries are named ILSVRC2012_val_00000001\.JPEG/);
    assert.match(problems({ data_path: data, model_ema_eval: true, real_labels: '/x/real.json' }).real_labels!, /which needs --model_ema true/);
    // Unused (no --eval, no --model_ema_eval) is accepted, as the official script accepts it.
    resolveRunConfig({ ...base, data_path: data, real_labels: '/x/real.json' }, mkdtempSync(join(tmpdir(), 'pix-run-')));
  });
});
