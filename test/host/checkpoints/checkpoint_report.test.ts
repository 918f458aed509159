// The checkpoint inspector's reads on the PyTorch fixtures: statistics (null where JSON has no
// number), the engine model a state dict fits exactly whatever its class count, flattened .pth
// metadata, histograms that count every finite value once, and diffs that find added, removed,
// reshaped and changed tensors.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { diffCheckpoints, inspectCheckpoint, tensorHistogram } from '../../../electron/host/checkpoints/checkpoint_report';
import { readCheckpointTensors } from '../../../electron/host/checkpoints/pth/read_checkpoint';
import { writeSafetensors, type TensorToWrite } from '../../../electron/host/checkpoints/safetensors';
import { histogram, tensorStats } from '../../../electron/host/checkpoints/tensor_stats';
import { loadEngine } from '../../../electron/host/engine/addon';
import type { CatalogEntry } from '../../../electron/host/engine/model_catalog';
import { fixturesDir as FIXTURES } from '../../helpers/fixtures';

/** The small models' part of the catalog (the full one builds the 152-layer networks too). */
function smallCatalog(): CatalogEntry[] {
  const engine = loadEngine();
  return ['pix_resnet_tiny_cs', 'resnet_tiny', 'pix_resnet_small_cs', 'resnet_small'].map((name) => {
    const model = new engine.Model(name);
    return { name, aliases: [], description: '', family: model.family, parameters: model.parameterCount, macs224: model.macs(224),
      state: model.stateEntries().map((e) => ({ key: e.key, shape: e.shape })) };
  });
}

const catalog = smallCatalog();
const pth = (name: string) => join(FIXTURES, 'pth', name);

function copyWith(path: string, edit: (tensors: Map<string, TensorToWrite>) => void): string {
  const tensors = new Map<string, TensorToWrite>();
  for (const [key, t] of readCheckpointTensors(path).tensors) tensors.set(key, { dtype: t.dtype as TensorToWrite['dtype'], shape: t.shape, data: t.data.slice() as TensorToWrite['data'] });
  edit(tensors);
  const out = join(mkdtempSync(join(tmpdir(), 'pix-ckpt-')), 'edited.safetensors');
  writeSafetensors(out, tensors);
  return out;
}

describe('checkpoint report', () => {
  it('names the engine model a state dict fits and its class count', () => {
    const resnet = inspectCheckpoint(pth('resnet_tiny.state_dict.pth'), catalog);
    assert.equal(resnet.format, 'pth');
    assert.equal(resnet.model, 'resnet_tiny');
    assert.equal(resnet.classes, 10);
    assert.equal(resnet.totals.tensors, 140);
    const pix = inspectCheckpoint(pth('pix_resnet_tiny_cs.training.pth'), catalog);
    assert.equal(pix.model, 'pix_resnet_tiny_cs');
    assert.ok('epoch' in pix.metadata);
    assert.ok(Object.keys(pix.metadata).some((k) => k.startsWith('args.')), Object.keys(pix.metadata).join(','));
    const stem = pix.tensors.find((t) => t.name === 'conv_stem.weight')!;
    assert.deepEqual(stem.shape, [16, 3, 3, 3]);
    assert.equal(stem.elements, 16 * 27);
  });

  it('fits a model at another class count, and nothing once a key is missing', () => {
    const five = copyWith(pth('resnet_tiny.state_dict.pth'), (t) => {
      t.set('fc.weight', { dtype: 'F32', shape: [5, 256], data: new Float32Array(5 * 256) });
      t.set('fc.bias', { dtype: 'F32', shape: [5], data: new Float32Array(5) });
    });
    assert.deepEqual([inspectCheckpoint(five, catalog).model, inspectCheckpoint(five, catalog).classes], ['resnet_tiny', 5]);
    const partial = copyWith(pth('resnet_tiny.state_dict.pth'), (t) => t.delete('layer1.0.conv1.weight'));
    assert.equal(inspectCheckpoint(partial, catalog).model, null);
  });

  it('gives null statistics for an empty tensor and unbiased std', () => {
    assert.deepEqual(tensorStats('e', { dtype: 'F32', shape: [0], data: new Float32Array(0) }),
      { name: 'e', shape: [0], dtype: 'F32', elements: 0, min: null, max: null, mean: null, std: null });
    const s = tensorStats('v', { dtype: 'F32', shape: [4], data: Float32Array.from([1, 2, 3, 4]) });
    assert.deepEqual([s.min, s.max, s.mean], [1, 4, 2.5]);
    assert.ok(Math.abs(s.std! - Math.sqrt(5 / 3)) < 1e-12);
  });

  it('counts every finite value once in a histogram, the maximum in the last bin', () => {
    assert.deepEqual(histogram([0, 1, 2, 3, 4, NaN, Infinity], 4), { edges: [0, 1, 2, 3, 4], counts: [1, 1, 1, 2] });
    assert.deepEqual(histogram([2, 2], 2), { edges: [1.5, 2, 2.5], counts: [0, 2] });
    assert.deepEqual(histogram([-1, 0.25, 0.5, 2], 2, [0, 1]).counts, [1, 1]);
    const h = tensorHistogram(pth('resnet_tiny.state_dict.pth'), 'conv1.weight', 7);
    assert.equal(h.counts.reduce((a, b) => a + b, 0), 16 * 27);
    assert.throws(() => tensorHistogram(pth('resnet_tiny.state_dict.pth'), 'nope', 7), /has no tensor named 'nope'/);
  });

  it('diffs two checkpoints: one-sided keys, shape changes, and the largest relative change first', () => {
    const base = pth('resnet_tiny.state_dict.pth');
    const edited = copyWith(base, (t) => {
      t.delete('fc.bias');
      t.set('extra', { dtype: 'F32', shape: [1], data: new Float32Array(1) });
      t.set('fc.weight', { dtype: 'F32', shape: [10, 128], data: new Float32Array(1280) });
      const w = t.get('conv1.weight')!;
      (w.data as Float32Array)[0]! += 0.5;
      const b = t.get('bn1.weight')!;
      (b.data as Float32Array).forEach((v, i, a) => { a[i] = v * 2; });
    });
    const diff = diffCheckpoints(base, edited);
    assert.deepEqual(diff.onlyInA, ['fc.bias']);
    assert.deepEqual(diff.onlyInB, ['extra']);
    assert.deepEqual(diff.shapeMismatch, [{ name: 'fc.weight', shapeA: [10, 256], shapeB: [10, 128] }]);
    assert.deepEqual(diff.changed.map((c) => c.name), ['bn1.weight', 'conv1.weight']);
    assert.ok(Math.abs(diff.changed[0]!.relativeL2 - 1) < 1e-6);
    assert.ok(Math.abs(diff.changed[1]!.maxAbsDiff - 0.5) < 1e-6);
    assert.equal(diff.identical, 140 - 4);
  });
});
