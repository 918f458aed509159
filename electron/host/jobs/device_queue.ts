// The job queue: which waiting run gets which device. Devices are one CPU slot ('cpu': training
// uses every core, so one CPU run at a time) and each CUDA device ('cuda:0', 'cuda:1', …). A run
// asks for the CPU, for N GPUs (device 'cuda' with nproc_per_node N), or for one named GPU.
//
// The rule (FIFO with reservation): waiting runs are considered in arrival order; a run starts when
// everything it needs is free and not reserved; a run that cannot start reserves every free device
// it could use, so runs behind it cannot take them. A 4-GPU run therefore collects GPUs as they
// free up and is never overtaken by a stream of 1-GPU runs (no starvation), while runs that need
// other devices (a CPU run behind a GPU run) still go ahead. Pure bookkeeping: it starts nothing.

export type DeviceRequest = { kind: 'cpu' } | { kind: 'cuda'; count: number } | { kind: 'cuda'; index: number };

export interface Assignment {
  id: string;
  devices: string[];
}

export const CPU_SLOT = 'cpu';

export function cudaDevice(index: number): string {
  return `cuda:${index}`;
}

/** 'cpu' → the CPU; 'cuda' with nproc GPUs → any nproc; 'cuda:N' → that one. */
export function requestOf(device: string, nprocPerNode: number): DeviceRequest {
  if (device === 'cpu') return { kind: 'cpu' };
  const match = /^cuda(?::(\d+))?$/.exec(device);
  if (!match) throw new Error(`device '${device}' is not cpu, cuda or cuda:N`);
  if (match[1] !== undefined) {
    if (nprocPerNode !== 1) throw new Error(`device ${device} names one GPU; nproc_per_node ${nprocPerNode} needs device cuda`);
    return { kind: 'cuda', index: Number(match[1]) };
  }
  return { kind: 'cuda', count: nprocPerNode };
}

export function describeRequest(request: DeviceRequest): string {
  if (request.kind === 'cpu') return CPU_SLOT;
  return 'index' in request ? cudaDevice(request.index) : request.count === 1 ? 'cuda' : `cuda ×${request.count}`;
}

export class DeviceQueue {
  private readonly devices: string[];
  private readonly waiting: { id: string; request: DeviceRequest }[] = [];
  private readonly held = new Map<string, string[]>();

  constructor(cudaDeviceCount: number) {
    this.devices = [CPU_SLOT, ...Array.from({ length: cudaDeviceCount }, (_, i) => cudaDevice(i))];
  }

  /** Throws, naming the problem, when the request can never be met on this machine. */
  check(request: DeviceRequest): void {
    const gpus = this.devices.length - 1;
    if (request.kind === 'cpu') return;
    if ('index' in request) {
      if (request.index >= gpus) throw new Error(`device cuda:${request.index}: this machine has ${gpus === 0 ? 'no CUDA device' : `CUDA devices 0..${gpus - 1}`}`);
    } else if (request.count > gpus) {
      throw new Error(`nproc_per_node ${request.count} asks for ${request.count} GPUs; this machine has ${gpus}`);
    }
  }

  enqueue(id: string, request: DeviceRequest): void {
    this.check(request);
    if (this.held.has(id) || this.waiting.some((w) => w.id === id)) throw new Error(`run ${id} is already queued or running`);
    this.waiting.push({ id, request });
  }

  /** Forgets a run: out of the queue, or its devices freed. */
  remove(id: string): void {
    const at = this.waiting.findIndex((w) => w.id === id);
    if (at >= 0) this.waiting.splice(at, 1);
    this.held.delete(id);
  }

  /** 1-based place among the waiting runs; null when not waiting. */
  position(id: string): number | null {
    const at = this.waiting.findIndex((w) => w.id === id);
    return at < 0 ? null : at + 1;
  }

  waitingIds(): string[] {
    return this.waiting.map((w) => w.id);
  }

  /** Starts every run that can start now under the rule above; returns what each got. */
  schedule(): Assignment[] {
    const busy = new Set([...this.held.values()].flat());
    const available = new Set(this.devices.filter((d) => !busy.has(d)));
    const started: Assignment[] = [];
    for (const job of [...this.waiting]) {
      const usable = this.usable(job.request).filter((d) => available.has(d));
      const needed = job.request.kind === 'cuda' && 'count' in job.request ? job.request.count : 1;
      if (usable.length >= needed) {
        const devices = usable.slice(0, needed);
        for (const d of devices) available.delete(d);
        this.held.set(job.id, devices);
        this.waiting.splice(this.waiting.indexOf(job), 1);
        started.push({ id: job.id, devices });
      } else {
        for (const d of usable) available.delete(d);  // reserved for this run
      }
    }
    return started;
  }

  private usable(request: DeviceRequest): string[] {
    if (request.kind === 'cpu') return [CPU_SLOT];
    if ('index' in request) return [cudaDevice(request.index)];
    return this.devices.slice(1);
  }
}

/**
 * The CUDA_VISIBLE_DEVICES a run's worker gets when it holds several GPUs, so that its ranks'
 * cuda:LOCAL_RANK are the GPUs the queue gave it; `parent` is the host's own setting (the queue's
 * cuda:N are indices into it). Undefined for the CPU and for one GPU, which the run names itself.
 */
export function visibleDevicesFor(devices: string[], parent: string | undefined): string | undefined {
  if (devices.length < 2) return undefined;
  const parentList = parent?.split(',').map((d) => d.trim()).filter((d) => d !== '');
  return devices.map((device) => {
    const index = Number(/^cuda:(\d+)$/.exec(device)?.[1] ?? NaN);
    if (!Number.isInteger(index)) throw new Error(`a run holding several devices holds '${device}', not a GPU`);
    return parentList ? parentList[index] ?? String(index) : String(index);
  }).join(',');
}
