// The epoch's index list per rank, against torch's DistributedSampler (fixture from
// scripts/fixtures/generate_sampler.py, unshuffled so only padding, striding and cutting count),
// and the shuffle: a permutation per (seed, epoch), shared by every rank.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { epochIndices, samplesPerRank } from '../../../electron/host/data/sampler';

interface Case {
  size: number;
  world: number;
  drop_last: boolean;
  ranks: number[][];
}

const { cases } = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', '..', 'test', 'fixtures', 'distributed_sampler.json'), 'utf8')) as { cases: Case[] };

describe('sampler', () => {
  it(`matches DistributedSampler in ${cases.length} cases of size, world size and drop_last`, () => {
    for (const c of cases) {
      c.ranks.forEach((expected, rank) => {
        const options = { shuffle: false, seed: 0, rank, worldSize: c.world, dropLast: c.drop_last };
        const what = `size ${c.size}, world ${c.world}, rank ${rank}, drop_last ${c.drop_last}`;
        if (expected.length === 0) {
          assert.throws(() => epochIndices(c.size, 0, options), /cannot give each of \d+ processes at least one/, what);
        } else {
          assert.equal(samplesPerRank(c.size, options), expected.length, what);
          assert.deepEqual([...epochIndices(c.size, 0, options)], expected, what);
        }
      });
    }
  });

  it('shuffles by (seed, epoch), one permutation shared by the ranks', () => {
    const n = 103;
    const ranks = [0, 1, 2, 3].map((rank) => [...epochIndices(n, 4, { shuffle: true, seed: 9, rank, worldSize: 4 })]);
    const all = ranks.flat();
    assert.equal(all.length, 104);
    assert.deepEqual([...new Set(all)].sort((a, b) => a - b), Array.from({ length: n }, (_, i) => i));
    // The one padded index repeats the permutation's first, which rank 0 took first.
    assert.equal(ranks[3]![25], ranks[0]![0]);
    const again = [...epochIndices(n, 4, { shuffle: true, seed: 9, rank: 2, worldSize: 4 })];
    assert.deepEqual(again, ranks[2]);
    assert.notDeepEqual([...epochIndices(n, 5, { shuffle: true, seed: 9 })], [...epochIndices(n, 4, { shuffle: true, seed: 9 })]);
    assert.notDeepEqual([...epochIndices(n, 4, { shuffle: true, seed: 8 })], [...epochIndices(n, 4, { shuffle: true, seed: 9 })]);
  });

  it('refuses a rank outside the world', () => {
    assert.throws(() => epochIndices(10, 0, { shuffle: false, seed: 0, rank: 2, worldSize: 2 }), /rank must be an integer in \[0, 2\), got 2/);
    assert.throws(() => epochIndices(10, 0, { shuffle: false, seed: 0, worldSize: 0 }), /world size must be a positive integer, got 0/);
  });
});
