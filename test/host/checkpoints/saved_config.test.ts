// What a checkpoint records about its run, read for inference: the normalisation chosen by
// --imagenet_default_mean_and_std, from the workbench's config, the official args (a .pth's
// Namespace, or its JSON in converted safetensors), through `pix convert` both ways; nothing
// recorded means the ImageNet default.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { convertCheckpoint } from '../../../electron/host/checkpoints/convert';
import { saveModelCheckpoint } from '../../../electron/host/checkpoints/model_checkpoint';
import { readCheckpointTensors } from '../../../electron/host/checkpoints/pth/read_checkpoint';
import { checkpointNormalization, savedRunConfig } from '../../../electron/host/checkpoints/saved_config';
import { IMAGENET_DEFAULT, IMAGENET_INCEPTION } from '../../../electron/host/data/transforms';
import { loadEngine } from '../../../electron/host/engine/addon';

const dir = mkdtempSync(join(tmpdir(), 'pix-saved-config-'));

describe('checkpointNormalization', () => {
  it('reads the workbench config, the official args, and their JSON after conversion', () => {
    const inception = { normalization: IMAGENET_INCEPTION, recorded: true };
    assert.deepEqual(checkpointNormalization({ config: JSON.stringify({ imagenet_default_mean_and_std: false }) }), inception);
    assert.deepEqual(checkpointNormalization({ config: JSON.stringify({ imagenet_default_mean_and_std: true }) }), { normalization: IMAGENET_DEFAULT, recorded: true });
    assert.deepEqual(checkpointNormalization({ epoch: 3, args: { model: 'PiXResNet50_cs', imagenet_default_mean_and_std: false } }), inception);
    assert.deepEqual(checkpointNormalization({ args: JSON.stringify({ imagenet_default_mean_and_std: false }) }), inception);
  });

  it('means the ImageNet default when nothing is recorded', () => {
    for (const metadata of [{}, { config: 'not json' }, { args: { model: 'x' } }, { config: JSON.stringify({ imagenet_default_mean_and_std: 'no' }) }]) {
      assert.deepEqual(checkpointNormalization(metadata), { normalization: IMAGENET_DEFAULT, recorded: false });
    }
    assert.equal(savedRunConfig({ args: [1, 2] }), null);
  });

  it('survives pix convert to .pth and back', () => {
    const model = new (loadEngine().Model)('resnet_tiny', { seed: 1 });
    const source = join(dir, 'inception.safetensors');
    saveModelCheckpoint(model, source, { epoch: '4', config: JSON.stringify({ model: 'resnet_tiny', imagenet_default_mean_and_std: false, lr: 0.1 }) });
    const pth = join(dir, 'inception.pth');
    convertCheckpoint(source, pth);
    const read = readCheckpointTensors(pth);
    // Only the boolean the inference needs travels (the 1.13 weights-only unpickler has no floats).
    assert.deepEqual(read.metadata, { epoch: 4, args: { imagenet_default_mean_and_std: false } });
    assert.equal(read.stateDictKey, 'model');
    assert.equal(read.tensors.size, model.stateEntries().length);
    assert.deepEqual(checkpointNormalization(read.metadata).normalization, IMAGENET_INCEPTION);
    const back = join(dir, 'back.safetensors');
    convertCheckpoint(pth, back);
    assert.deepEqual(checkpointNormalization(readCheckpointTensors(back).metadata).normalization, IMAGENET_INCEPTION);
    // A checkpoint that records nothing converts to the layout it always had.
    const bare = join(dir, 'bare.safetensors');
    saveModelCheckpoint(model, bare);
    convertCheckpoint(bare, join(dir, 'bare.pth'));
    assert.deepEqual(readCheckpointTensors(join(dir, 'bare.pth')).metadata, {});
  });
});
