// The Checkpoints page's engine work on a checkpoint that records --imagenet_default_mean_and_std
// false: evaluation and one image's classification normalise with the Inception mean and std it
// was trained with, giving what the same network computes on images normalised that way.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { classifyImage } from '../../../electron/host/checkpoints/gate_statistics';
import { saveModelCheckpoint } from '../../../electron/host/checkpoints/model_checkpoint';
import { scanImageNetLayout } from '../../../electron/host/data/image_folder';
import { Loader } from '../../../electron/host/data/loader';
import { evalTransformFromFlags, IMAGENET_DEFAULT, IMAGENET_INCEPTION, loadImage, type EvalTransform, type Normalization } from '../../../electron/host/data/transforms';
import { loadEngine } from '../../../electron/host/engine/addon';
import type { CatalogEntry } from '../../../electron/host/engine/model_catalog';
import { checkpointTasks } from '../../../electron/host/jobs/checkpoint_tasks';
import { RequestError } from '../../../electron/host/request_error';
import { evaluate } from '../../../electron/host/train/evaluate';
import { smallDigits } from '../../helpers/small_digits';

const NAME = 'pix_resnet_tiny_cs';

/** A catalog of the one model these tests use (the full one builds every network). */
function catalogOf(name: string): CatalogEntry[] {
  const engine = loadEngine();
  const entry = engine.modelRegistry().find((e) => e.name === name)!;
  const model = new engine.Model(name);
  return [{ ...entry, family: model.family, parameters: model.parameterCount, macs224: model.macs(224),
    state: model.stateEntries().map((e) => ({ key: e.key, shape: e.shape })) }];
}

describe('checkpoint tasks', () => {
  const data = smallDigits(1, 3);
  const dir = mkdtempSync(join(tmpdir(), 'pix-tasks-'));
  const model = new (loadEngine().Model)(NAME, { seed: 5 });
  const path = join(dir, 'inception.safetensors');
  saveModelCheckpoint(model, path, { config: JSON.stringify({ model: NAME, input_size: 28, imagenet_default_mean_and_std: false, data_path: data }) });
  const catalog = catalogOf(NAME);
  // The run's evaluation transform at the digits' own 28: taken as they are, as the official script does at <= 32.
  const transform = (normalization: Normalization): EvalTransform => ({ ...evalTransformFromFlags({ input_size: 28 }), normalization });
  const { val } = scanImageNetLayout(data);

  it('evaluates with the normalisation the checkpoint records', async () => {
    const reported = await checkpointTasks.evaluate({ path, dataPath: data, catalog });
    const expected = (normalization: Normalization) =>
      evaluate(model, new Loader(val.samples, { batchSize: 64, shuffle: false, dropLast: false, seed: 0, transform: transform(normalization) }), 28);
    const { seconds, ...metrics } = reported;
    assert.ok(seconds >= 0);
    assert.deepEqual(metrics, await expected(IMAGENET_INCEPTION));
    assert.notEqual(metrics.loss, (await expected(IMAGENET_DEFAULT)).loss);
  });

  it('evaluates on an image folder (class folders) as on the ImageNet layout, and samples gates from it', async () => {
    const { seconds: _a, ...imnet } = await checkpointTasks.evaluate({ path, dataPath: data, catalog });
    const { seconds: _b, ...folder } = await checkpointTasks.evaluate({ path, dataPath: join(data, 'val'), catalog });
    assert.deepEqual(folder, imnet);
    const gates = await checkpointTasks.gates({ path, dataPath: join(data, 'val'), images: 10, catalog });
    assert.deepEqual(gates, await checkpointTasks.gates({ path, dataPath: data, images: 10, catalog }));
    await assert.rejects(checkpointTasks.evaluate({ path, dataPath: join(data, 'val', '3'), catalog }), /none of the layouts/);
  });

  it('classifies one image with it', async () => {
    const imageFile = val.samples[4]!.path;
    const reported = await checkpointTasks.classify({ path, imageFile, catalog });
    const expected = await classifyImage(model, await loadImage(imageFile, transform(IMAGENET_INCEPTION), undefined), 28, val.classes);
    assert.deepEqual(reported, expected);
    const asImagenet = await classifyImage(model, await loadImage(imageFile, transform(IMAGENET_DEFAULT), undefined), 28, val.classes);
    assert.notDeepEqual(reported.top5, asImagenet.top5);
  });

  it('refuses an image of another size than its --input_size <= 32 takes as the request\'s mistake (400), naming it', async () => {
    const imageFile = join(dir, 'upload-1');
    await sharp({ create: { width: 40, height: 40, channels: 3, background: '#808080' } }).png().toFile(imageFile);
    await assert.rejects(checkpointTasks.classify({ path, imageFile, imageName: 'cat.png', catalog }), (error: unknown) => {
      assert.ok(error instanceof RequestError, String(error));
      assert.equal(error.status, 400);
      assert.match(error.message, /^cat\.png: the image is 40x40, but evaluation at --input_size 28 \(<= 32\) takes images as they are/);
      return true;
    });
  });
});
