// The TypeScript seeded tensors against numpy's (test/fixtures/seeded_sample.json, written by
// scripts/fixtures/generate.py), bit for bit, and the key-name classification of state entries
// against PyTorch's module types.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { StateEntryKind } from '../../electron/host/engine/addon';
import { fixturesDir } from './fixtures';
import { seededInput, seededState, seededValues, stateEntryKind, uniform, type SeededKind } from './seeded_weights';

interface Sample {
  uniform: Record<string, string[]>;
  values: { key: string; shape: number[]; kind: SeededKind; first: string[]; last: string[]; bits_sum: number }[];
  kinds: Record<string, Record<string, { kind: StateEntryKind; shape: number[] }>>;
}

const sample = JSON.parse(readFileSync(join(fixturesDir, 'seeded_sample.json'), 'utf8')) as Sample;

const hex = (bits: ArrayLike<number | bigint>, width: number) =>
  Array.from(bits, (b) => b.toString(16).padStart(width, '0'));

function bitsOf(values: Float32Array): Uint32Array {
  return new Uint32Array(values.buffer, values.byteOffset, values.length);
}

describe('seeded weights (TypeScript twin of scripts/fixtures/seeded.py)', () => {
  for (const [name, expected] of Object.entries(sample.uniform)) {
    it(`u(${JSON.stringify(name)}, i) has numpy's float64 bits`, () => {
      const u = uniform(name, expected.length);
      assert.deepEqual(hex(new BigUint64Array(u.buffer), 16), expected);
    });
  }

  for (const entry of sample.values) {
    it(`${entry.key} (${entry.kind}, [${entry.shape.join(',')}]) has numpy's float32 bits`, () => {
      assert.notEqual(entry.kind, 'bn_num_batches_tracked');
      const bits = bitsOf(seededValues(entry.key, entry.shape, entry.kind as Exclude<SeededKind, 'bn_num_batches_tracked'>));
      assert.deepEqual(hex(bits.subarray(0, 8), 8), entry.first);
      assert.deepEqual(hex(bits.subarray(bits.length - 8), 8), entry.last);
      let sum = 0;
      for (const b of bits) sum = (sum + b) >>> 0;
      assert.equal(sum, entry.bits_sum, 'sum of all bit patterns mod 2^32');
    });
  }

  it('seededInput is the "input" entry', () => {
    assert.deepEqual(seededInput([2, 3, 4, 4]), seededValues('input', [2, 3, 4, 4], 'input'));
  });

  for (const [model, entries] of Object.entries(sample.kinds)) {
    it(`classifies every state entry of ${model} as PyTorch's module types do`, () => {
      for (const [key, { kind, shape }] of Object.entries(entries)) assert.equal(stateEntryKind(key, shape), kind, key);
    });
  }

  it('seeds a whole state dict, num_batches_tracked as int64 zeros', () => {
    const entries = Object.entries(sample.kinds.resnet50!)
      .filter(([key]) => key.startsWith('layer1.0.'))
      .map(([key, { kind, shape }]) => ({ key, shape, kind }));
    const state = seededState(entries);
    assert.equal(state.size, entries.length);
    for (const { key, shape, kind } of entries) {
      const values = state.get(key)!;
      if (kind === 'bn_num_batches_tracked') assert.deepEqual(values, new BigInt64Array(1), key);
      else assert.deepEqual(values, seededValues(key, shape, kind), key);
    }
  });

  it('refuses a key it cannot classify', () => {
    assert.throws(() => stateEntryKind('layer1.0.conv1.scale', [4]), /no kind for layer1\.0\.conv1\.scale/);
  });
});
