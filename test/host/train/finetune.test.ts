// --finetune from the official training-checkpoint layout (.pth): weights load, a head of another
// class count is dropped as the official script drops it, and the report says so.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { readCheckpointTensors } from '../../../electron/host/checkpoints/pth/read_checkpoint';
import { loadEngine } from '../../../electron/host/engine/addon';
import { loadFinetuneWeights } from '../../../electron/host/train/finetune';
import { floats } from '../../helpers/compare';
import { fixturesDir } from '../../helpers/fixtures';

const checkpoint = join(fixturesDir, 'pth', 'pix_resnet_tiny_cs.training.pth');
const { Model } = loadEngine();

describe('finetune', () => {
  it('loads every tensor when the class count matches', () => {
    const model = new Model('pix_resnet_tiny_cs');
    const report = loadFinetuneWeights(model, checkpoint, 'model|module');
    assert.deepEqual([report.missing, report.unexpected, report.mismatched, report.droppedHead], [[], [], [], []]);
    const stored = readCheckpointTensors(checkpoint).tensors.get('conv_stem.weight')!;
    assert.deepEqual(Array.from(floats(model.getState('conv_stem.weight'))), Array.from(stored.data as Float32Array));
  });

  it('drops a classifier head of another class count and loads the rest', () => {
    const model = new Model('pix_resnet_tiny_cs', { numClasses: 4 });
    const report = loadFinetuneWeights(model, checkpoint, 'model|module');
    assert.deepEqual(report.droppedHead, ['classifier.weight', 'classifier.bias']);
    assert.equal(report.loaded.length, model.stateEntries().length - 2);
    assert.deepEqual(report.missing, ['classifier.weight', 'classifier.bias']);
  });

  it('names a model key that is not in the checkpoint', () => {
    assert.throws(() => loadFinetuneWeights(new Model('pix_resnet_tiny_cs'), checkpoint, 'state_dict'), /state_dict/);
  });
});
