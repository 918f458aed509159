// The processes of one data-parallel training run and their collectives on the CPU: a rendezvous
// at the master address (torch.distributed's env:// semantics: rank 0 serves, everyone connects),
// then a ring of TCP connections carrying a bandwidth-optimal ring all-reduce (reduce-scatter, then
// all-gather: each rank sends 2(N-1)/N of the data whatever N is). Every rank ends with bit-identical
// sums, because each chunk is summed once, by one rank, and then copied. This is the CPU backend
// (gloo's role in PyTorch); NCCL will be the CUDA one behind the same interface. It does not overlap
// communication with the backward pass: the engine's backward is one call with no per-layer hooks.
import { createServer, connect, type Server, type Socket } from 'node:net';
import { FramedSocket } from './framed_socket';

export interface ProcessGroupOptions {
  rank: number;
  worldSize: number;
  /** Where rank 0 listens for the rendezvous (torch's MASTER_ADDR / MASTER_PORT). */
  masterAddr: string;
  masterPort: number;
  /** How long to wait for every rank to arrive. Default 120 s. */
  rendezvousTimeoutMs?: number;
  /** How long one collective may wait for a peer before failing. Default 30 min, as NCCL's. */
  collectiveTimeoutMs?: number;
}

export type ReducibleArray = Float32Array | Float64Array;

export interface ProcessGroup {
  readonly rank: number;
  readonly worldSize: number;
  /** Sums `values` across ranks, in place; every rank gets the same bits. */
  allReduceSum(values: ReducibleArray): Promise<void>;
  /** Overwrites `values` on every rank with root's. */
  broadcast(values: ReducibleArray, root?: number): Promise<void>;
  barrier(): Promise<void>;
  close(): void;
}

interface Hello {
  rank: number;
  worldSize: number;
  host: string;
  port: number;
}

type Table = { peers: { host: string; port: number }[] } | { error: string };

const RETRY_MS = 100;

export async function joinProcessGroup(options: ProcessGroupOptions): Promise<ProcessGroup> {
  const { rank, worldSize } = options;
  if (!Number.isInteger(worldSize) || worldSize < 1) throw new Error(`world size must be a positive integer, got ${worldSize}`);
  if (!Number.isInteger(rank) || rank < 0 || rank >= worldSize) throw new Error(`rank must be an integer in [0, ${worldSize - 1}], got ${rank}`);
  if (worldSize === 1) return new RingGroup(0, 1, undefined, undefined, [], options.collectiveTimeoutMs);
  const deadline = Date.now() + (options.rendezvousTimeoutMs ?? 120_000);
  const store = rank === 0 ? await serveRendezvous(options, deadline) : undefined;
  let ringServer: Server | undefined;
  try {
    const master = new FramedSocket(await connectWithRetry(options.masterAddr, options.masterPort, deadline, 'the rendezvous at rank 0'),
      `rank 0 at ${options.masterAddr}:${options.masterPort}`);
    // The ring listens on the interface that reaches the master: loopback stays loopback.
    const host = master.socket.localAddress ?? options.masterAddr;
    ringServer = await listen(0, host);
    master.sendJson({ rank, worldSize, host, port: (ringServer.address() as { port: number }).port } satisfies Hello);
    // A grace second past the deadline lets rank 0's message, which names the missing ranks, arrive first.
    const table = await withDeadline(master.receiveJson<Table>(), deadline + 1000, () => `rank ${rank}: the rendezvous did not complete in time`);
    master.close();
    if ('error' in table) throw new Error(table.error);
    const prevRank = (rank - 1 + worldSize) % worldSize;
    const incoming = acceptFrom(ringServer, prevRank, deadline);
    const nextPeer = table.peers[(rank + 1) % worldSize]!;
    const next = new FramedSocket(await connectWithRetry(nextPeer.host, nextPeer.port, deadline, `rank ${(rank + 1) % worldSize}`), `rank ${(rank + 1) % worldSize}`);
    next.sendJson({ rank });
    const prev = await incoming;
    return new RingGroup(rank, worldSize, next, prev, [ringServer, ...(store ? [store] : [])], options.collectiveTimeoutMs);
  } catch (error) {
    ringServer?.close();
    store?.close();
    throw error;
  }
}

/** Rank 0's rendezvous: collects every rank's ring address, then tells everyone the table. */
async function serveRendezvous(options: ProcessGroupOptions, deadline: number): Promise<Server> {
  const arrived = new Map<number, { socket: FramedSocket; hello: Hello }>();
  const server = createServer((socket) => {
    const framed = new FramedSocket(socket, `a rank joining from ${socket.remoteAddress}`);
    framed.receiveJson<Hello>().then((hello) => {
      const problem = hello.worldSize !== options.worldSize ? `rank ${hello.rank} was started with world size ${hello.worldSize}, rank 0 with ${options.worldSize}`
        : !Number.isInteger(hello.rank) || hello.rank < 0 || hello.rank >= options.worldSize ? `rank ${hello.rank} is outside [0, ${options.worldSize - 1}]`
        : arrived.has(hello.rank) ? `two processes claim rank ${hello.rank}` : undefined;
      if (problem) {
        framed.sendJson({ error: `rendezvous refused: ${problem}` } satisfies Table);
        framed.close();
        return;
      }
      arrived.set(hello.rank, { socket: framed, hello });
      if (arrived.size === options.worldSize) {
        const peers = Array.from({ length: options.worldSize }, (_, r) => ({ host: arrived.get(r)!.hello.host, port: arrived.get(r)!.hello.port }));
        for (const { socket: s } of arrived.values()) s.sendJson({ peers } satisfies Table);
      }
    }, () => framed.close());
  });
  server.unref();
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error) => reject(new Error(`rank 0 cannot listen on ${options.masterAddr}:${options.masterPort}: ${error.message}`)));
    server.listen(options.masterPort, options.masterAddr, resolve);
  });
  const timer = setTimeout(() => {
    if (arrived.size < options.worldSize) {
      const missing = Array.from({ length: options.worldSize }, (_, r) => r).filter((r) => !arrived.has(r));
      for (const { socket } of arrived.values()) socket.sendJson({ error: `rendezvous timed out: ranks ${missing.join(', ')} never arrived at ${options.masterAddr}:${options.masterPort}` } satisfies Table);
    }
  }, Math.max(0, deadline - Date.now()));
  timer.unref();
  server.once('close', () => clearTimeout(timer));
  return server;
}

function listen(port: number, host: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}

function acceptFrom(server: Server, expectedRank: number, deadline: number): Promise<FramedSocket> {
  const accepted = new Promise<FramedSocket>((resolve, reject) => {
    server.on('connection', (socket) => {
      const framed = new FramedSocket(socket, `rank ${expectedRank}`);
      framed.receiveJson<{ rank: number }>().then(({ rank }) => {
        if (rank === expectedRank) resolve(framed);
        else reject(new Error(`ring out of order: rank ${rank} connected where rank ${expectedRank} was expected`));
      }, reject);
    });
  });
  return withDeadline(accepted, deadline, () => `rank ${expectedRank} never connected to the ring`);
}

async function connectWithRetry(host: string, port: number, deadline: number, what: string): Promise<Socket> {
  let lastError = '';
  while (Date.now() < deadline) {
    try {
      return await new Promise<Socket>((resolve, reject) => {
        const socket = connect({ host, port }, () => {
          socket.off('error', reject);
          resolve(socket);
        });
        socket.once('error', reject);
      });
    } catch (error) {
      lastError = (error as Error).message;
      await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
    }
  }
  throw new Error(`cannot reach ${what} at ${host}:${port}${lastError ? ` (${lastError})` : ''}`);
}

function withDeadline<T>(promise: Promise<T>, deadline: number, message: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message())), Math.max(0, deadline - Date.now()));
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

class RingGroup implements ProcessGroup {
  constructor(
    readonly rank: number,
    readonly worldSize: number,
    private readonly next: FramedSocket | undefined,
    private readonly prev: FramedSocket | undefined,
    private readonly servers: Server[],
    private readonly timeoutMs = 30 * 60_000,
  ) {}

  async allReduceSum(values: ReducibleArray): Promise<void> {
    const n = this.worldSize;
    if (n === 1) return;
    const bounds = (chunk: number) => [Math.floor((chunk * values.length) / n), Math.floor(((chunk + 1) * values.length) / n)] as const;
    // Reduce-scatter: after step s, chunk (rank - s - 1) holds the sum of s + 2 ranks' values.
    for (let s = 0; s < n - 1; s++) {
      this.sendChunk(values, ...bounds((this.rank - s + n) % n));
      const [start, end] = bounds((this.rank - s - 1 + n) % n);
      const received = await this.receiveChunk(values, end - start, 'all-reduce');
      for (let i = start; i < end; i++) values[i] = values[i]! + received[i - start]!;
    }
    // All-gather: the finished chunks travel round the ring once more and are copied.
    for (let s = 0; s < n - 1; s++) {
      this.sendChunk(values, ...bounds((this.rank - s + 1 + n) % n));
      const [start, end] = bounds((this.rank - s + n) % n);
      values.set(await this.receiveChunk(values, end - start, 'all-reduce'), start);
    }
  }

  async broadcast(values: ReducibleArray, root = 0): Promise<void> {
    const n = this.worldSize;
    if (n === 1) return;
    if (this.rank !== root) values.set(await this.receiveChunk(values, values.length, 'broadcast'));
    if ((this.rank + 1) % n !== root) this.sendChunk(values, 0, values.length);
  }

  async barrier(): Promise<void> {
    await this.allReduceSum(new Float32Array(1));
  }

  close(): void {
    this.next?.close();
    this.prev?.close();
    for (const server of this.servers) server.close();
  }

  private sendChunk(values: ReducibleArray, start: number, end: number): void {
    const bytes = values.BYTES_PER_ELEMENT;
    this.next!.send(new Uint8Array(values.buffer, values.byteOffset + start * bytes, (end - start) * bytes));
  }

  /** The next frame from the previous rank as an array of `values`' type (copied, so aligned). */
  private async receiveChunk(values: ReducibleArray, length: number, operation: string): Promise<ReducibleArray> {
    const frame = await withDeadline(this.prev!.receive(), Date.now() + this.timeoutMs,
      () => `rank ${this.rank}: ${operation} waited ${this.timeoutMs / 1000} s for rank ${(this.rank - 1 + this.worldSize) % this.worldSize}`);
    const out = values instanceof Float64Array ? new Float64Array(length) : new Float32Array(length);
    if (frame.length !== out.byteLength) {
      throw new Error(`rank ${this.rank}: ${operation} expected ${out.byteLength} bytes and received ${frame.length}: ` +
        'the ranks disagree on the tensor sizes (different models or flags?)');
    }
    new Uint8Array(out.buffer).set(frame);
    return out;
  }
}
