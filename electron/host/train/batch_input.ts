// A loader batch as a model's input: (N, size, size, 3) f32 on the model's device. A 'u8' batch
// travels as its 8-bit pixels (a quarter of the bytes) and is normalised and erased there by the
// engine (normalizeEraseBatch) with the mean and std of the transform that made it, giving the
// floats the 'f32' loader makes; an 'f32' batch goes up as it is.
import type { BatchOutput } from '../data/batch_decode';
import type { Batch } from '../data/loader';
import { loadEngine, type DeviceName, type Tensor } from '../engine/addon';

export function batchInput(batch: Batch<BatchOutput>, size: number, device: DeviceName): Tensor {
  const { Tensor, normalizeEraseBatch } = loadEngine();
  const shape = [batch.size, size, size, 3];
  if (batch.output === 'f32') return Tensor.fromArray(batch.images, shape, 'f32', device);
  const pixels = Tensor.fromArray(batch.images, shape, 'u8', device);
  try {
    const { mean, std } = batch.normalization;
    return normalizeEraseBatch(pixels, { mean, std, erase: batch.erase });
  } finally {
    pixels.dispose();
  }
}
