// Data parallelism on CUDA: the NCCL process group, NCCL's role in PyTorch DDP beside the CPU
// ring (process_group.ts, gloo's). It is built on a CPU group that has already met (the TCP
// rendezvous at the master address): rank 0 makes NCCL's unique id and hands it to every rank over
// that group, then each rank joins the NCCL communicator on its own GPU. From then on the
// gradients are averaged ON the device, in DDP's buckets (about 25 MB each, parameters in reverse
// order, one collective per bucket), and the loss and stop votes ride in the last bucket as they
// ride with the CPU group's one flat message (model_sync.ts); the state broadcasts (DDP's
// construction and broadcast_buffers) go over NCCL too. The host scalars (epoch losses, gathered
// evaluation metrics) stay on the CPU group: a handful of numbers, already on the host.
//
// The buckets overlap the backward pass as in DDP (backwardAndAverage): the engine starts each
// bucket's collective, on a stream of the communicator's own, as soon as the backward has finished
// its gradients, while the earlier layers' backward goes on (distributed/cuda/gradient_averager.h).
import type { Model, Tensor } from '../engine/addon';
import { loadEngine } from '../engine/addon';
import type { ProcessGroup, ReducibleArray } from './process_group';

/** PyTorch DDP's default bucket_cap_mb. */
export const DEFAULT_BUCKET_BYTES = 25 * 1024 * 1024;

/** What the NCCL group asks of a communicator: the engine's NcclComm, or a stand-in in tests. */
export interface DeviceCommunicator {
  /** Each bucket's gradients summed over the ranks (one collective per bucket) and multiplied by scale; extras ride in the last bucket and come back summed. */
  allReduceGradients(model: Model, buckets: string[][], options: { scale: number; extras?: number[] }): Promise<number[]>;
  /** model.backward(dlogits) with allReduceGradients started bucket by bucket as the gradients become final. */
  backwardAllReduce(model: Model, dlogits: Tensor, buckets: string[][], options: { scale: number; extras?: number[] }): Promise<number[]>;
  /** SyncBatchNorm for the model through this communicator (on = false: per-process statistics again). */
  syncBatchNorm(model: Model, on?: boolean): void;
  /** Rank root's values of each bucket's f32 state entries to every rank. */
  broadcastState(model: Model, buckets: string[][], root?: number): Promise<void>;
  /** Waits for the queued collectives, then frees the communicator. */
  destroy(): void;
  /** Frees it without waiting (after an error: a collective may never finish). */
  abort(): void;
}

/** Where communicators come from: the engine (engineNccl) or a stand-in. */
export interface NcclBackend {
  /** Why NCCL cannot be used in this process, or null when it can. */
  problem(): string | null;
  /** A fresh 128-byte ncclUniqueId (rank 0 only). */
  uniqueId(): Uint8Array;
  /** Joins the communicator; blocks until every rank has joined. */
  connect(id: Uint8Array, worldSize: number, rank: number, deviceIndex: number): DeviceCommunicator;
}

export function engineNccl(): NcclBackend {
  const engine = loadEngine();
  return {
    problem: () => {
      const status = engine.ncclLibraryStatus();
      return status.available ? null : status.reason;
    },
    uniqueId: () => engine.ncclUniqueId(),
    connect: (id, worldSize, rank, deviceIndex) => new engine.NcclComm(id, worldSize, rank, deviceIndex),
  };
}

export interface SizedKey {
  key: string;
  bytes: number;
}

/**
 * DDP's gradient buckets: the keys in reverse order (the order a backward produces gradients),
 * each bucket filled up to capBytes; a tensor larger than the cap is a bucket of its own.
 */
export function planBuckets(entries: readonly SizedKey[], capBytes = DEFAULT_BUCKET_BYTES): string[][] {
  if (!(capBytes > 0)) throw new Error(`the bucket size must be positive, got ${capBytes}`);
  const buckets: string[][] = [];
  let current: string[] = [];
  let bytes = 0;
  for (let i = entries.length - 1; i >= 0; i--) {
    const entry = entries[i]!;
    if (current.length > 0 && bytes + entry.bytes > capBytes) {
      buckets.push(current);
      current = [];
      bytes = 0;
    }
    current.push(entry.key);
    bytes += entry.bytes;
  }
  if (current.length > 0) buckets.push(current);
  return buckets;
}

export interface NcclGroupOptions {
  /** The CUDA ordinal this rank's model lives on. */
  deviceIndex: number;
  bucketBytes?: number;
  /** close() closes the CPU group too. Default false: its creator closes it. */
  ownsHost?: boolean;
  /** Default: the engine's NCCL. */
  backend?: NcclBackend;
}

export class NcclProcessGroup implements ProcessGroup {
  readonly backend = 'nccl';
  private readonly bucketBytes: number;
  private readonly plans = new WeakMap<Model, Map<string, string[][]>>();

  constructor(readonly host: ProcessGroup, readonly comm: DeviceCommunicator, private readonly options: { bucketBytes?: number; ownsHost?: boolean } = {}) {
    this.bucketBytes = options.bucketBytes ?? DEFAULT_BUCKET_BYTES;
  }

  get rank(): number {
    return this.host.rank;
  }

  get worldSize(): number {
    return this.host.worldSize;
  }

  // Host arrays (a few scalars) travel over the CPU group.
  allReduceSum(values: ReducibleArray): Promise<void> {
    return this.host.allReduceSum(values);
  }

  broadcast(values: ReducibleArray, root = 0): Promise<void> {
    return this.host.broadcast(values, root);
  }

  barrier(): Promise<void> {
    return this.host.barrier();
  }

  /** Frees the communicator (abort: without waiting for its queued collectives). */
  close(options: { abort?: boolean } = {}): void {
    try {
      if (options.abort) this.comm.abort();
      else this.comm.destroy();
    } finally {
      if (this.options.ownsHost) this.host.close();
    }
  }

  /**
   * Averages the parameter gradients over the ranks, in place on the device, and returns the
   * extras summed (model_sync.averageGradients' contract). Runs at world size 1 too, so that the
   * single-GPU check goes through NCCL.
   */
  averageGradients(model: Model, extras: number[]): Promise<number[]> {
    return this.comm.allReduceGradients(model, this.plan(model, 'gradients'), { scale: 1 / this.worldSize, extras });
  }

  /** averageGradients, overlapped with the backward that makes the gradients (model_sync.backwardAndAverage). */
  backwardAndAverage(model: Model, dlogits: Tensor, extras: number[]): Promise<number[]> {
    return this.comm.backwardAllReduce(model, dlogits, this.plan(model, 'gradients'), { scale: 1 / this.worldSize, extras });
  }

  /** SyncBatchNorm: the model's BatchNorm statistics over every rank's batch (PyTorch's convert_sync_batchnorm). */
  syncBatchNorm(model: Model): void {
    this.comm.syncBatchNorm(model);
  }

  /** model_sync.broadcastState's contract: rank 0's floating state (or parameters only) everywhere. */
  broadcastState(model: Model, options: { parametersOnly?: boolean } = {}): Promise<void> {
    return this.comm.broadcastState(model, this.plan(model, options.parametersOnly ? 'parameters' : 'state'), 0);
  }

  /** The buckets of one kind for a model, planned once (the state entries of a model never change). */
  private plan(model: Model, kind: 'gradients' | 'parameters' | 'state'): string[][] {
    let byKind = this.plans.get(model);
    if (!byKind) this.plans.set(model, byKind = new Map());
    let buckets = byKind.get(kind);
    if (!buckets) {
      const entries = model.stateEntries().filter((e) => e.dtype === 'f32' && (kind === 'state' || e.parameter));
      buckets = planBuckets(entries.map((e) => ({ key: e.key, bytes: 4 * e.shape.reduce((n, d) => n * d, 1) })), this.bucketBytes);
      byKind.set(kind, buckets);
    }
    return buckets;
  }
}

/**
 * The NCCL group over a CPU group that has met: every rank checks that it can use NCCL and the
 * ranks agree on it first (so that no rank waits in NCCL's bootstrap for one that cannot come),
 * then rank 0's unique id goes to every rank over the CPU group and each joins on its device.
 */
export async function joinNcclGroup(host: ProcessGroup, options: NcclGroupOptions): Promise<NcclProcessGroup> {
  const backend = options.backend ?? engineNccl();
  const problem = backend.problem();
  const failed = new Float64Array(host.worldSize);
  failed[host.rank] = problem === null ? 0 : 1;
  await host.allReduceSum(failed);
  if (problem !== null) throw new Error(`rank ${host.rank} cannot use NCCL: ${problem}`);
  const unable = Array.from(failed.keys()).filter((r) => failed[r]! > 0);
  if (unable.length > 0) throw new Error(`NCCL is unusable on rank${unable.length > 1 ? 's' : ''} ${unable.join(', ')} (see that rank's error)`);

  // The id's 128 bytes travel as 16 float64s: the CPU group copies bits, it does not compute on them.
  const id = new Uint8Array(128);
  if (host.rank === 0) {
    const made = backend.uniqueId();
    if (made.byteLength !== id.byteLength) throw new Error(`ncclUniqueId gave ${made.byteLength} bytes, expected ${id.byteLength}`);
    id.set(made);
  }
  await host.broadcast(new Float64Array(id.buffer), 0);
  const comm = backend.connect(id, host.worldSize, host.rank, options.deviceIndex);
  return new NcclProcessGroup(host, comm, {
    ...(options.bucketBytes !== undefined ? { bucketBytes: options.bucketBytes } : {}),
    ...(options.ownsHost !== undefined ? { ownsHost: options.ownsHost } : {}),
  });
}

/**
 * The device of one rank: --device cuda means the rank's own GPU, cuda:LOCAL_RANK, as the official
 * script's torch.cuda.set_device(local_rank) makes it; cuda:N and cpu are taken as given.
 */
export function rankDevice(device: string, localRank: number): string {
  return device === 'cuda' ? `cuda:${localRank}` : device;
}

/** The CUDA ordinal of 'cuda:N' ('cuda' is 0). */
export function deviceIndex(device: string): number {
  const match = /^cuda(?::(\d+))?$/.exec(device);
  if (!match) throw new Error(`'${device}' is not a CUDA device`);
  return Number(match[1] ?? 0);
}
