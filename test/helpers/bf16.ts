// Values rounded through the engine's bf16, so a CPU run in f32 sees exactly what a bf16 CUDA run
// sees (tests that hold bf16 CUDA ops to the CPU).
import { loadEngine } from '../../electron/host/engine/addon';

export function bf16Rounded(values: Float32Array): Float32Array {
  return loadEngine().Tensor.fromArray(values, [values.length], 'bf16').toArray() as Float32Array;
}
