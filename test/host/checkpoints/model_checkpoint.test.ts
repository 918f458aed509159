// Saving and loading engine checkpoints: every entry survives the round trip, the metadata names
// the model, and a model with another class count is rebuilt from the checkpoint's head.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadModelCheckpoint, saveModelCheckpoint } from '../../../electron/host/checkpoints/model_checkpoint';
import { readSafetensors } from '../../../electron/host/checkpoints/safetensors';
import { loadEngine } from '../../../electron/host/engine/addon';
import { floats } from '../../helpers/compare';

const { Model, Tensor } = loadEngine();

describe('model checkpoints', () => {
  it('round-trips the state, the logits and the metadata', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'pix-ckpt-')), 'tiny.safetensors');
    const model = new Model('pix_resnet_tiny_cs', { numClasses: 7, seed: 5 });
    const x = Tensor.fromArray(Float32Array.from({ length: 2 * 3 * 16 * 16 }, (_, i) => Math.cos(i)), [2, 3, 16, 16]);
    await model.forward(x, { train: true });  // moves the BatchNorm buffers away from their init
    saveModelCheckpoint(model, path, { epoch: '4' });

    const { metadata, tensors } = readSafetensors(path);
    assert.equal(metadata.model, 'pix_resnet_tiny_cs');
    assert.equal(metadata.num_classes, '7');
    assert.equal(metadata.epoch, '4');
    assert.deepEqual(tensors.get('conv_stem.weight')!.shape, [16, 3, 3, 3]);
    assert.equal(tensors.get('bn_stem.num_batches_tracked')!.dtype, 'I64');

    const loaded = loadModelCheckpoint(path);
    assert.equal(loaded.model.numClasses, 7);
    assert.equal(loaded.report.missing.length + loaded.report.unexpected.length + loaded.report.mismatched.length, 0);
    assert.deepEqual(Array.from(floats(await loaded.model.forward(x))), Array.from(floats(await model.forward(x))));
  });

  it('rebuilds the model its metadata names, and refuses to load into another model', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'pix-ckpt-')), 'bare.safetensors');
    saveModelCheckpoint(new Model('resnet_tiny'), path);
    assert.equal(loadModelCheckpoint(path).model.name, 'resnet_tiny');
    assert.throws(() => loadModelCheckpoint(path, { modelName: 'pix_resnet_tiny_cs' }), /does not fit pix_resnet_tiny_cs/);
  });
});
