import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { joinProcessGroup, type ProcessGroup } from '../../../electron/host/distributed/process_group';
import { freePort } from '../../helpers/free_port';

/** Every rank of a group, joined concurrently in this process (the ring is real loopback TCP). */
async function group(worldSize: number, timeoutMs = 10_000): Promise<ProcessGroup[]> {
  const masterPort = await freePort();
  return Promise.all(Array.from({ length: worldSize }, (_, rank) =>
    joinProcessGroup({ rank, worldSize, masterAddr: '127.0.0.1', masterPort, rendezvousTimeoutMs: timeoutMs })));
}

function randomValues(length: number, seed: number): Float32Array {
  let state = seed >>> 0;
  return Float32Array.from({ length }, () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 31 - 1;
  });
}

describe('process group (CPU ring all-reduce)', () => {
  for (const worldSize of [1, 2, 3, 4]) {
    it(`sums across ${worldSize} rank${worldSize > 1 ? 's' : ''}, identically on every rank`, async () => {
      const ranks = await group(worldSize);
      try {
        // 1001 is not a multiple of any world size here, so the chunks have unequal lengths.
        const inputs = ranks.map((_, r) => randomValues(1001, r + 1));
        const expected = Float64Array.from({ length: 1001 }, (_, i) => inputs.reduce((sum, values) => sum + values[i]!, 0));
        const buffers = inputs.map((values) => values.slice());
        await Promise.all(ranks.map((rank, r) => rank.allReduceSum(buffers[r]!)));
        for (const buffer of buffers) assert.deepEqual(buffer, buffers[0]);
        for (let i = 0; i < expected.length; i++) assert.ok(Math.abs(buffers[0]![i]! - expected[i]!) < 1e-5, `element ${i}`);
      } finally {
        for (const rank of ranks) rank.close();
      }
    });
  }

  it('reduces float64 exactly, handles fewer elements than ranks, and broadcasts from any root', async () => {
    const ranks = await group(3);
    try {
      const counts = ranks.map((_, r) => Float64Array.of(r * 1e9 + 1, 0.5));
      await Promise.all(ranks.map((rank, r) => rank.allReduceSum(counts[r]!)));
      for (const c of counts) assert.deepEqual(Array.from(c), [3e9 + 3, 1.5]);

      const single = ranks.map((_, r) => Float32Array.of(r + 1));
      await Promise.all(ranks.map((rank, r) => rank.allReduceSum(single[r]!)));
      for (const s of single) assert.equal(s[0], 6);

      const weights = ranks.map((_, r) => randomValues(50, 100 + r));
      const rootCopy = weights[2]!.slice();
      await Promise.all(ranks.map((rank, r) => rank.broadcast(weights[r]!, 2)));
      for (const w of weights) assert.deepEqual(w, rootCopy);
      await Promise.all(ranks.map((rank) => rank.barrier()));
    } finally {
      for (const rank of ranks) rank.close();
    }
  });

  it('fails, naming the peer, when a rank goes away mid-run', async () => {
    const ranks = await group(3);
    try {
      ranks[1]!.close();
      await assert.rejects(ranks[2]!.allReduceSum(new Float32Array(10)), /rank 1 closed the connection|connection to rank 1 failed/);
    } finally {
      for (const rank of ranks) rank.close();
    }
  });

  it('refuses ranks that disagree on the world size, and times out naming the ranks that never came', async () => {
    const masterPort = await freePort();
    const [zero, stray] = await Promise.allSettled([
      joinProcessGroup({ rank: 0, worldSize: 2, masterAddr: '127.0.0.1', masterPort, rendezvousTimeoutMs: 3000 }),
      joinProcessGroup({ rank: 1, worldSize: 3, masterAddr: '127.0.0.1', masterPort, rendezvousTimeoutMs: 3000 }),
    ]);
    assert.equal(stray.status, 'rejected');
    assert.match(String((stray as PromiseRejectedResult).reason), /started with world size 3, rank 0 with 2/);
    assert.equal(zero.status, 'rejected');
    assert.match(String((zero as PromiseRejectedResult).reason), /ranks 1 never arrived/);
  });

  it('rejects bad ranks before touching the network', async () => {
    await assert.rejects(joinProcessGroup({ rank: 2, worldSize: 2, masterAddr: '127.0.0.1', masterPort: 1 }), /rank must be an integer in \[0, 1\]/);
    await assert.rejects(joinProcessGroup({ rank: 0, worldSize: 0, masterAddr: '127.0.0.1', masterPort: 1 }), /world size must be a positive integer/);
  });
});
