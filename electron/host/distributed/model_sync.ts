// What data parallelism does to a model between ranks, in PyTorch DDP's terms: every parameter
// gradient is averaged over the ranks before the optimizer step (one flat all-reduce: on the CPU
// the bandwidth is the loopback's, and one message beats a bucket per layer), and the state is
// broadcast from rank 0 (DDP does it at construction for parameters and, with its default
// broadcast_buffers, before each forward for BatchNorm's running statistics). A few extra scalars
// ride along with the gradients so the ranks agree on the loss and on when to stop without an
// extra round trip. With the NCCL group (nccl_group.ts) both stay on the GPU: the gradients in
// buckets, the extras in the last one, each bucket sent while the backward is still running.
import type { Model, Tensor } from '../engine/addon';
import { loadEngine } from '../engine/addon';
import { NcclProcessGroup } from './nccl_group';
import type { ProcessGroup } from './process_group';

/**
 * Averages the gradients of `model`'s parameters over the group, in place, and sums `extras`
 * (returned, in order) in the same message.
 */
export async function averageGradients(model: Model, group: ProcessGroup, extras: number[]): Promise<number[]> {
  if (group instanceof NcclProcessGroup) return group.averageGradients(model, extras);
  const entries = model.stateEntries().filter((entry) => entry.parameter);
  const grads = entries.map((entry) => model.getGrad(entry.key));
  const total = grads.reduce((sum, grad) => sum + grad.numel, 0);
  const flat = new Float32Array(total + extras.length);
  let offset = 0;
  for (const grad of grads) {
    flat.set(grad.toArray() as Float32Array, offset);
    offset += grad.numel;
  }
  flat.set(extras, total);
  await group.allReduceSum(flat);
  const { Tensor } = loadEngine();
  offset = 0;
  const scale = 1 / group.worldSize;
  entries.forEach((entry, i) => {
    const numel = grads[i]!.numel;
    const averaged = flat.subarray(offset, offset + numel).map((g) => g * scale);
    const tensor = Tensor.fromArray(averaged, grads[i]!.shape);
    model.setGrad(entry.key, tensor);
    tensor.dispose();
    grads[i]!.dispose();
    offset += numel;
  });
  return Array.from(flat.subarray(total));
}

/**
 * model.backward(dlogits), then averageGradients: on the NCCL group the two overlap (each bucket
 * goes out as soon as its gradients are final); on the CPU group they run one after the other.
 */
export async function backwardAndAverage(model: Model, dlogits: Tensor, group: ProcessGroup, extras: number[]): Promise<number[]> {
  if (group instanceof NcclProcessGroup) return group.backwardAndAverage(model, dlogits, extras);
  await model.backward(dlogits);
  return averageGradients(model, group, extras);
}

/**
 * Makes every rank's floating state (parameters, and BatchNorm buffers unless `parametersOnly`)
 * equal to rank 0's. Integer entries (num_batches_tracked) stay local: they only count steps.
 */
export async function broadcastState(model: Model, group: ProcessGroup, options: { parametersOnly?: boolean } = {}): Promise<void> {
  if (group instanceof NcclProcessGroup) return group.broadcastState(model, options);
  if (group.worldSize === 1) return;
  const entries = model.stateEntries().filter((entry) => (entry.dtype === 'f32') && (entry.parameter || !options.parametersOnly));
  const values = entries.map((entry) => model.getState(entry.key));
  const flat = new Float32Array(values.reduce((sum, value) => sum + value.numel, 0));
  let offset = 0;
  for (const value of values) {
    flat.set(value.toArray() as Float32Array, offset);
    offset += value.numel;
  }
  await group.broadcast(flat, 0);
  if (group.rank === 0) {
    for (const value of values) value.dispose();
    return;
  }
  const { Tensor } = loadEngine();
  offset = 0;
  entries.forEach((entry, i) => {
    const numel = values[i]!.numel;
    const tensor = Tensor.fromArray(flat.slice(offset, offset + numel), values[i]!.shape);
    model.setState(entry.key, tensor);
    tensor.dispose();
    values[i]!.dispose();
    offset += numel;
  });
}
