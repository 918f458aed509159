// Training checkpoints' EMA groups (electron/host/train/checkpointing.ts): `model_ema.` holds the
// main EMA unless a save names another decay (checkpoint-best-ema's best one), the metadata says
// which decay it holds, the others sit under their decay's prefix, and loading gives every EMA its
// own weights back by decay, including from checkpoints written before the metadata existed.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { readSafetensors, writeSafetensors } from '../../../electron/host/checkpoints/safetensors';
import { loadEngine, type Tensor } from '../../../electron/host/engine/addon';
import { loadCheckpoint, saveCheckpoint, type Stateful, type TrainingState } from '../../../electron/host/train/checkpointing';

/** A stand-in EMA: one named value, enough to see which group went where. */
class FakeEma implements Stateful {
  constructor(public value: number) {}
  stateDict(): Record<string, Tensor> {
    return { w: loadEngine().Tensor.fromArray(Float32Array.of(this.value), [1]) };
  }
  loadStateDict(state: Record<string, Tensor>): void {
    this.value = (state.w!.toArray() as Float32Array)[0]!;
  }
}

function state(main: number, extras: Record<number, number>): Omit<TrainingState, 'ema' | 'extraEmas'> & { ema: FakeEma; extraEmas: { decay: number; ema: FakeEma }[] } {
  const model = new (loadEngine().Model)('pix_resnet_tiny_cs', { numClasses: 10 });
  return { model, ema: new FakeEma(main), emaDecay: 0.99,
    extraEmas: Object.entries(extras).map(([decay, value]) => ({ decay: Number(decay), ema: new FakeEma(value) })) };
}

const value = (path: string, key: string) => (readSafetensors(path).tensors.get(key)!.data as Float32Array)[0];

describe('checkpoint EMA groups', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pix-ckpt-'));

  it('keeps the main EMA under model_ema. by default, and says its decay', () => {
    const path = join(dir, 'plain.safetensors');
    saveCheckpoint(path, state(1, { 0.5: 2 }), { epoch: '3' });
    assert.deepEqual([value(path, 'model_ema.w'), value(path, 'model_ema_0.5.w')], [1, 2]);
    assert.equal(readSafetensors(path).metadata.model_ema_decay, '0.99');
  });

  it('puts the named decay under model_ema. and the main EMA under its own decay, and loads each back to its EMA', () => {
    const path = join(dir, 'best-ema.safetensors');
    saveCheckpoint(path, state(1, { 0.5: 2, 0.9: 3 }), { epoch: '3' }, { emaDecay: 0.5 });
    const saved = readSafetensors(path);
    assert.deepEqual([...saved.tensors.keys()].filter((k) => k.includes('ema')).sort(), ['model_ema.w', 'model_ema_0.9.w', 'model_ema_0.99.w']);
    assert.deepEqual([value(path, 'model_ema.w'), value(path, 'model_ema_0.99.w'), value(path, 'model_ema_0.9.w')], [2, 1, 3]);
    assert.equal(saved.metadata.model_ema_decay, '0.5');

    const back = state(0, { 0.5: 0, 0.9: 0 });
    loadCheckpoint(path, back);
    assert.deepEqual([back.ema.value, ...back.extraEmas.map((e) => e.ema.value)], [1, 2, 3]);
    // A reader that knows no decays (the ReaL scoring after training) takes model_ema.: the named one.
    const reader = { model: back.model, ema: new FakeEma(0) };
    loadCheckpoint(path, reader);
    assert.equal(reader.ema.value, 2);
  });

  it('refuses to name a decay the state does not keep', () => {
    assert.throws(() => saveCheckpoint(join(dir, 'x.safetensors'), state(1, { 0.5: 2 }), {}, { emaDecay: 0.7 }), /no EMA of decay 0\.7/);
  });

  it('loads a checkpoint without the metadata as before: model_ema. is the main EMA', () => {
    const path = join(dir, 'old.safetensors');
    saveCheckpoint(path, state(1, { 0.5: 2 }), { epoch: '3' });
    const { tensors, metadata } = readSafetensors(path);
    delete metadata.model_ema_decay;
    writeSafetensors(path, tensors, metadata);
    const back = state(0, { 0.5: 0 });
    loadCheckpoint(path, back);
    assert.deepEqual([back.ema.value, back.extraEmas[0]!.ema.value], [1, 2]);
  });
});
