// The NCCL process group's logic without a GPU (electron/host/distributed/nccl_group.ts): DDP's
// bucket plan, the unique id handed from rank 0 over the CPU group, the ranks' agreement that
// NCCL is usable, and gradient averaging and state broadcasts through a stand-in communicator that
// does on the host, over the CPU ring, what the engine's NcclComm does on the device. The stand-in
// runs the same bucket and extras contract, so the averaged gradients must be the CPU path's bit
// for bit. The device path itself runs in the *.cuda tests (test/native/nccl.cuda.test.ts,
// nccl_ranks.cuda.test.ts, model_sync.cuda.test.ts): on the CUDA emulator with its NCCL stand-in,
// and on a GPU with NVIDIA's (scripts/gpu/check.sh nccl).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadEngine, type Model, type Tensor } from '../../../electron/host/engine/addon';
import { averageGradients, backwardAndAverage, broadcastState } from '../../../electron/host/distributed/model_sync';
import {
  DEFAULT_BUCKET_BYTES, deviceIndex, joinNcclGroup, NcclProcessGroup, planBuckets, rankDevice,
  type DeviceCommunicator, type NcclBackend,
} from '../../../electron/host/distributed/nccl_group';
import { joinProcessGroup, type ProcessGroup } from '../../../electron/host/distributed/process_group';
import { accumulate, CLASSES, shardBatch } from '../../helpers/data_parallel_step';
import { freePort } from '../../helpers/free_port';

async function ring(worldSize: number): Promise<ProcessGroup[]> {
  const masterPort = await freePort();
  return Promise.all(Array.from({ length: worldSize }, (_, rank) =>
    joinProcessGroup({ rank, worldSize, masterAddr: '127.0.0.1', masterPort, rendezvousTimeoutMs: 10_000 })));
}

interface Call {
  kind: 'gradients' | 'state';
  buckets: string[][];
  extras: number;
  scale?: number;
  root?: number;
}

/** NcclComm's contract on the host: each bucket flattened (extras after the last), summed over the ring, scaled, put back. */
class RingCommunicator implements DeviceCommunicator {
  readonly calls: Call[] = [];
  overlapped = 0;
  destroyed = false;
  aborted = false;

  constructor(private readonly host: ProcessGroup) {}

  async allReduceGradients(model: Model, buckets: string[][], options: { scale: number; extras?: number[] }): Promise<number[]> {
    const extras = options.extras ?? [];
    this.calls.push({ kind: 'gradients', buckets, extras: extras.length, scale: options.scale });
    const { Tensor } = loadEngine();
    let summed: number[] = [];
    for (let b = 0; b < buckets.length; b++) {
      const last = b === buckets.length - 1;
      const grads = buckets[b]!.map((key) => model.getGrad(key));
      const flat = new Float32Array(grads.reduce((n, g) => n + g.numel, 0) + (last ? extras.length : 0));
      let offset = 0;
      for (const grad of grads) {
        flat.set(grad.toArray() as Float32Array, offset);
        offset += grad.numel;
      }
      if (last) flat.set(extras, offset);
      await this.host.allReduceSum(flat);
      offset = 0;
      buckets[b]!.forEach((key, i) => {
        const numel = grads[i]!.numel;
        const tensor = Tensor.fromArray(flat.subarray(offset, offset + numel).map((g) => g * options.scale), grads[i]!.shape);
        model.setGrad(key, tensor);
        tensor.dispose();
        grads[i]!.dispose();
        offset += numel;
      });
      if (last) summed = Array.from(flat.subarray(offset));
    }
    return summed;
  }

  /** The engine overlaps the two; on the host they simply follow each other. */
  async backwardAllReduce(model: Model, dlogits: Tensor, buckets: string[][], options: { scale: number; extras?: number[] }): Promise<number[]> {
    this.overlapped++;
    await model.backward(dlogits);
    return this.allReduceGradients(model, buckets, options);
  }

  syncBatchNorm(): void {
    throw new Error('the host stand-in has no SyncBatchNorm: the engine\'s runs in test/native/nccl.cuda.test.ts');
  }

  async broadcastState(model: Model, buckets: string[][], root = 0): Promise<void> {
    this.calls.push({ kind: 'state', buckets, extras: 0, root });
    const { Tensor } = loadEngine();
    for (const bucket of buckets) {
      const values = bucket.map((key) => model.getState(key));
      const flat = new Float32Array(values.reduce((n, v) => n + v.numel, 0));
      let offset = 0;
      for (const value of values) {
        flat.set(value.toArray() as Float32Array, offset);
        offset += value.numel;
      }
      await this.host.broadcast(flat, root);
      offset = 0;
      bucket.forEach((key, i) => {
        const tensor = Tensor.fromArray(flat.slice(offset, offset + values[i]!.numel), values[i]!.shape);
        model.setState(key, tensor);
        tensor.dispose();
        offset += values[i]!.numel;
        values[i]!.dispose();
      });
    }
  }

  destroy(): void {
    this.destroyed = true;
  }

  abort(): void {
    this.aborted = true;
  }
}

interface StandIn extends NcclBackend {
  made: Uint8Array[];
  received: Uint8Array[];
  comm?: RingCommunicator;
}

function standIn(host: ProcessGroup, problem: string | null = null): StandIn {
  const backend: StandIn = {
    made: [],
    received: [],
    problem: () => problem,
    uniqueId: () => {
      // Every byte value, NaN payloads as float64s included, must arrive as it left.
      const id = Uint8Array.from({ length: 128 }, (_, i) => (i * 37 + 255) % 256);
      id.fill(0xff, 0, 8);
      backend.made.push(id);
      return id;
    },
    connect: (id, worldSize, rank, device) => {
      assert.deepEqual([worldSize, rank, device], [host.worldSize, host.rank, 0]);
      backend.received.push(id.slice());
      return backend.comm = new RingCommunicator(host);
    },
  };
  return backend;
}

function model(seed: number): Model {
  return new (loadEngine().Model)('pix_resnet_tiny_cs', { numClasses: CLASSES, seed });
}

function gradients(m: Model): Float32Array[] {
  return m.stateEntries().filter((e) => e.parameter).map((e) => {
    const grad = m.getGrad(e.key);
    const values = grad.toArray() as Float32Array;
    grad.dispose();
    return values;
  });
}

function state(m: Model, keys: string[]): Float32Array[] {
  return keys.map((key) => {
    const value = m.getState(key);
    const values = value.toArray() as Float32Array;
    value.dispose();
    return values;
  });
}

describe('planBuckets (DDP gradient buckets)', () => {
  const sized = (bytes: number[]) => bytes.map((b, i) => ({ key: `p${i}`, bytes: b }));

  it('takes the keys in reverse order, each once, filling buckets up to the cap', () => {
    assert.deepEqual(planBuckets(sized([10, 20, 30, 40]), 50), [['p3'], ['p2', 'p1'], ['p0']]);
    assert.deepEqual(planBuckets(sized([10, 20, 30, 40]), 100), [['p3', 'p2', 'p1', 'p0']]);
    assert.deepEqual(planBuckets(sized([10, 20, 30, 40]), 70), [['p3', 'p2'], ['p1', 'p0']]);
  });

  it('gives a tensor larger than the cap a bucket of its own, and plans nothing for no tensors', () => {
    assert.deepEqual(planBuckets(sized([10, 500, 10]), 50), [['p2'], ['p1'], ['p0']]);
    assert.deepEqual(planBuckets([], 50), []);
    assert.throws(() => planBuckets(sized([1]), 0), /bucket size must be positive/);
  });

  it('holds a ResNet-50-sized model in about 100 MB / 25 MB buckets', () => {
    // 161 tensors of a ResNet-50's sizes would be ~25.6M floats; here: 100 tensors of 1 MB.
    const buckets = planBuckets(sized(Array.from({ length: 100 }, () => 1 << 20)));
    assert.equal(DEFAULT_BUCKET_BYTES, 25 * 1024 * 1024);
    assert.deepEqual(buckets.map((b) => b.length), [25, 25, 25, 25]);
  });
});

describe('rankDevice and deviceIndex', () => {
  it('gives each rank of --device cuda its own GPU and keeps an explicit cuda:N or cpu', () => {
    assert.equal(rankDevice('cuda', 3), 'cuda:3');
    assert.equal(rankDevice('cuda:0', 3), 'cuda:0');
    assert.equal(rankDevice('cpu', 3), 'cpu');
    assert.equal(deviceIndex('cuda'), 0);
    assert.equal(deviceIndex('cuda:2'), 2);
    assert.throws(() => deviceIndex('cpu'), /not a CUDA device/);
  });
});

describe('NCCL process group (stand-in communicator over the CPU ring)', () => {
  it('hands rank 0\'s unique id to every rank bit for bit and joins each on its device', async () => {
    const hosts = await ring(3);
    try {
      const backends = hosts.map((host) => standIn(host));
      const groups = await Promise.all(hosts.map((host, r) => joinNcclGroup(host, { deviceIndex: 0, backend: backends[r]! })));
      assert.equal(backends[0]!.made.length, 1);
      assert.deepEqual(backends.slice(1).map((b) => b.made.length), [0, 0], 'only rank 0 makes an id');
      for (const backend of backends) assert.deepEqual(backend.received, [backends[0]!.made[0]!]);
      assert.deepEqual(groups.map((g) => [g.rank, g.worldSize, g.backend]), [[0, 3, 'nccl'], [1, 3, 'nccl'], [2, 3, 'nccl']]);
      // Host arrays still go over the CPU group.
      const sums = groups.map((_, r) => Float64Array.of(r, 1));
      await Promise.all(groups.map((g, r) => g.allReduceSum(sums[r]!)));
      for (const s of sums) assert.deepEqual(Array.from(s), [3, 3]);
      groups[1]!.close();
      assert.equal(backends[1]!.comm!.destroyed, true);
      groups[2]!.close({ abort: true });
      assert.equal(backends[2]!.comm!.aborted, true);
    } finally {
      for (const host of hosts) host.close();
    }
  });

  it('refuses on every rank when one rank cannot use NCCL, that rank saying why', async () => {
    const hosts = await ring(2);
    try {
      const results = await Promise.allSettled(hosts.map((host, r) =>
        joinNcclGroup(host, { deviceIndex: 0, backend: standIn(host, r === 1 ? 'NCCL library libnccl.so.2 not found: …' : null) })));
      assert.deepEqual(results.map((r) => r.status), ['rejected', 'rejected']);
      const [zero, one] = results.map((r) => ((r as PromiseRejectedResult).reason as Error).message);
      assert.equal(one, 'rank 1 cannot use NCCL: NCCL library libnccl.so.2 not found: …');
      assert.equal(zero, 'NCCL is unusable on rank 1 (see that rank\'s error)');
    } finally {
      for (const host of hosts) host.close();
    }
  });

  it('averages gradients bucket by bucket exactly as the CPU group does, with the loss and stop votes in the last bucket', async () => {
    const hosts = await ring(2);
    try {
      const bucketBytes = 16 * 1024;  // the tiny network in several buckets
      const backends = hosts.map((host) => standIn(host));
      const groups = await Promise.all(hosts.map((host, r) => joinNcclGroup(host, { deviceIndex: 0, backend: backends[r]!, bucketBytes })));
      const models = [model(7), model(7)];
      const losses = await Promise.all(models.map((m, r) => accumulate(m, r, 0, 1)));
      const local = models.map(gradients);

      // The NCCL group: rank 1 asks to stop.
      const extras = await Promise.all(groups.map((g, r) => averageGradients(models[r]!, g, [losses[r]!, r === 1 ? 1 : 0])));
      const viaNccl = models.map(gradients);

      // The CPU group on the same local gradients.
      const { Tensor } = loadEngine();
      models.forEach((m, r) => m.stateEntries().filter((e) => e.parameter).forEach((e, i) => {
        const t = Tensor.fromArray(local[r]![i]!, e.shape);
        m.setGrad(e.key, t);
        t.dispose();
      }));
      const cpuExtras = await Promise.all(hosts.map((host, r) => averageGradients(models[r]!, host, [losses[r]!, r === 1 ? 1 : 0])));
      const viaRing = models.map(gradients);

      assert.deepEqual(viaNccl[0], viaRing[0], 'rank 0: the gradients are the CPU group\'s, bit for bit');
      assert.deepEqual(viaNccl[1], viaRing[1], 'rank 1 likewise');
      assert.deepEqual(viaNccl[0], viaNccl[1], 'both ranks hold the same average');
      assert.deepEqual(extras, cpuExtras);
      assert.deepEqual(extras[0], [Math.fround(Math.fround(losses[0]!) + Math.fround(losses[1]!)), 1], 'the summed loss and one stop vote');
      // The average is the mean of the two ranks' gradients (they differ: different shards).
      assert.notDeepEqual(local[0], local[1]);
      const first = local[0]![0]!.map((g, i) => Math.fround((g + local[1]![0]![i]!) * 0.5));
      assert.ok(first.every((g, i) => Math.abs(g - viaNccl[0]![0]![i]!) <= 1e-7 * Math.max(1, Math.abs(g))));

      // One collective per bucket, every parameter once, buckets within the cap unless a tensor alone exceeds it.
      const call = backends[0]!.comm!.calls[0]!;
      assert.equal(backends[0]!.comm!.calls.length, 1);
      assert.deepEqual([call.kind, call.scale, call.extras], ['gradients', 0.5, 2]);
      const entries = models[0]!.stateEntries().filter((e) => e.parameter);
      assert.ok(call.buckets.length > 2, `${call.buckets.length} buckets`);
      assert.deepEqual(call.buckets.flat().sort(), entries.map((e) => e.key).sort());
      assert.equal(call.buckets[0]![0], entries.at(-1)!.key, 'the last parameter (first gradient of a backward) leads');
      const bytes = new Map(entries.map((e) => [e.key, 4 * e.shape.reduce((n, d) => n * d, 1)]));
      for (const bucket of call.buckets) {
        const size = bucket.reduce((n, key) => n + bytes.get(key)!, 0);
        assert.ok(size <= bucketBytes || bucket.length === 1, `a bucket of ${size} bytes`);
      }
      // The plan is made once per model.
      await Promise.all(groups.map((g, r) => averageGradients(models[r]!, g, [])));
      assert.equal(backends[0]!.comm!.calls[1]!.buckets, call.buckets);
    } finally {
      for (const host of hosts) host.close();
    }
  });

  it('hands the step\'s backward to the communicator to overlap, with the CPU group\'s result', async () => {
    const hosts = await ring(2);
    try {
      const backends = hosts.map((host) => standIn(host));
      const groups = await Promise.all(hosts.map((host, r) => joinNcclGroup(host, { deviceIndex: 0, backend: backends[r]!, bucketBytes: 16 * 1024 })));
      const step = async (m: Model, r: number, group: ProcessGroup) => {
        const { x, labels } = shardBatch(r, 0);
        const logits = await m.forward(x, { train: true, layout: 'nhwc' });
        const { loss, dlogits } = loadEngine().labelSmoothingCrossEntropy(logits, labels, 0);
        const extras = await backwardAndAverage(m, dlogits, group, [loss]);
        for (const t of [x, labels, logits, dlogits]) t.dispose();
        return extras;
      };
      const viaNccl = [model(7), model(7)];
      const ncclExtras = await Promise.all(groups.map((g, r) => step(viaNccl[r]!, r, g)));
      const viaRing = [model(7), model(7)];
      const ringExtras = await Promise.all(hosts.map((host, r) => step(viaRing[r]!, r, host)));
      assert.deepEqual(backends.map((b) => b.comm!.overlapped), [1, 1], 'each rank\'s backward went to its communicator');
      assert.deepEqual(ncclExtras, ringExtras);
      assert.deepEqual(viaNccl.map(gradients), viaRing.map(gradients));
    } finally {
      for (const host of hosts) host.close();
    }
  });

  it('broadcasts rank 0\'s state, or its parameters alone, through the communicator', async () => {
    const hosts = await ring(2);
    try {
      const backends = hosts.map((host) => standIn(host));
      const groups = await Promise.all(hosts.map((host, r) => joinNcclGroup(host, { deviceIndex: 0, backend: backends[r]! })));
      const models = [model(1), model(2)];
      // BatchNorm statistics that differ between the ranks.
      await Promise.all(models.map((m, r) => accumulate(m, r, 0, 1)));
      const entries = models[0]!.stateEntries();
      const parameters = entries.filter((e) => e.parameter).map((e) => e.key);
      const buffers = entries.filter((e) => !e.parameter && e.dtype === 'f32').map((e) => e.key);
      assert.ok(buffers.length > 0);
      const rankOneBuffers = state(models[1]!, buffers);

      await Promise.all(groups.map((g, r) => broadcastState(models[r]!, g, { parametersOnly: true })));
      assert.deepEqual(state(models[1]!, parameters), state(models[0]!, parameters));
      assert.deepEqual(state(models[1]!, buffers), rankOneBuffers, 'parametersOnly leaves the buffers');
      assert.deepEqual(backends[1]!.comm!.calls[0]!.buckets.flat().sort(), [...parameters].sort());

      await Promise.all(groups.map((g, r) => broadcastState(models[r]!, g)));
      assert.deepEqual(state(models[1]!, buffers), state(models[0]!, buffers));
      const call = backends[1]!.comm!.calls[1]!;
      assert.deepEqual([call.kind, call.root], ['state', 0]);
      assert.deepEqual(call.buckets.flat().sort(), [...parameters, ...buffers].sort(), 'every f32 entry, num_batches_tracked aside');
    } finally {
      for (const host of hosts) host.close();
    }
  });

  it('closes the CPU group only when it owns it', async () => {
    const [host] = await ring(1);
    let closed = 0;
    const counting: ProcessGroup = { ...host!, rank: 0, worldSize: 1, allReduceSum: (v) => host!.allReduceSum(v),
      broadcast: (v, r) => host!.broadcast(v, r), barrier: () => host!.barrier(), close: () => { closed++; host!.close(); } };
    const comm = new RingCommunicator(counting);
    new NcclProcessGroup(counting, comm).close();
    assert.deepEqual([closed, comm.destroyed], [0, true]);
    new NcclProcessGroup(counting, comm, { ownsHost: true }).close();
    assert.equal(closed, 1);
  });
});
