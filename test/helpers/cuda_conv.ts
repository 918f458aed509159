// What the CUDA convolution tests share: a convolution's shape, its output size, the cuDNN path's
// settings changed for a body and restored after it, and the plan cuDNN made for a shape.
import assert from 'node:assert/strict';
import { loadEngine, type CudaConvPlan, type CudaConvSettings } from '../../electron/host/engine/addon';

export type ConvDType = 'f32' | 'bf16';

export interface ConvCase { n: number; h: number; w: number; c: number; o: number; kernel: number; stride: number; pad: number }

/** The output's height and width. */
export function outSize(s: ConvCase): [number, number] {
  return [Math.floor((s.h + 2 * s.pad - s.kernel) / s.stride) + 1, Math.floor((s.w + 2 * s.pad - s.kernel) / s.stride) + 1];
}

/** Runs body under the settings, then puts back the ones before (plans are forgotten both times). */
export function withConvSettings<R>(settings: Partial<CudaConvSettings>, body: () => R): R {
  const engine = loadEngine();
  const saved = engine.setCudaConv(settings);
  let async = false;
  try {
    const result = body();
    if (result instanceof Promise) {
      async = true;
      return result.finally(() => engine.setCudaConv(saved)) as R;
    }
    return result;
  } finally {
    if (!async) engine.setCudaConv(saved);
  }
}

/** The plan of shape s in dtype, made since the settings last changed. */
export function planOf(s: ConvCase, dtype: ConvDType): CudaConvPlan {
  const plan = loadEngine().cudaConvPlans().find((p) => p.dtype === dtype &&
    (['n', 'h', 'w', 'c', 'o', 'kernel', 'stride', 'pad'] as const).every((k) => p.shape[k] === s[k]));
  assert.ok(plan, `no plan for ${JSON.stringify(s)} ${dtype}`);
  return plan;
}
