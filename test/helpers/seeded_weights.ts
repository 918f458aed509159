// The TypeScript twin of scripts/fixtures/seeded.py: the same seeded float32 tensors, bit for bit, so
// the full-size fixtures store only outputs. u(name, i) = (splitmix64(fnv1a64(name) + i) >> 11) *
// 2^-53 * 2 - 1 is computed on 32-bit halves held in locals (no BigInt, no allocation per value), then
// scaled in float64 per kind of state entry and rounded once to float32, as numpy does.
import type { StateEntryKind } from '../../electron/host/engine/addon';

/** What a seeded tensor is for: the scaling of u depends on it. */
export type SeededKind = StateEntryKind | 'input';

/** The high 32 bits of the 64-bit product of two uint32 (16-bit pieces keep every product exact). */
function mulHigh32(a: number, b: number): number {
  const a0 = a & 0xffff, a1 = a >>> 16, b0 = b & 0xffff, b1 = b >>> 16;
  const p01 = a0 * b1, p10 = a1 * b0;
  const carry = (((a0 * b0) >>> 16) + (p01 & 0xffff) + (p10 & 0xffff)) >>> 16;
  return (a1 * b1 + (p01 >>> 16) + (p10 >>> 16) + carry) >>> 0;
}

/** fnv1a64 of the UTF-8 bytes of name, as [high, low] uint32 halves. */
function fnv1a64(name: string): [number, number] {
  let hi = 0xcbf29ce4, lo = 0x84222325;
  for (const byte of Buffer.from(name, 'utf8')) {
    lo = (lo ^ byte) >>> 0;
    // times 0x100000001b3 = 2^40 + 0x1b3, mod 2^64
    const newLo = Math.imul(lo, 0x1b3) >>> 0;
    hi = (mulHigh32(lo, 0x1b3) + Math.imul(hi, 0x1b3) + (lo << 8)) >>> 0;
    lo = newLo;
  }
  return [hi, lo];
}

/** u(name, i) for i in [0, count): float64 values in [-1, 1). */
export function uniform(name: string, count: number): Float64Array {
  const [baseHi, baseLo] = fnv1a64(name);
  const out = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    // z = fnv1a64(name) + i + 0x9e3779b97f4a7c15 (i < 2^53, so its high half is i / 2^32)
    const iHi = Math.floor(i / 4294967296), iLo = i >>> 0;
    let lo = baseLo + iLo;
    let hi = baseHi + iHi + (lo > 0xffffffff ? 1 : 0);
    lo >>>= 0;
    const lo2 = lo + 0x7f4a7c15;
    hi = (hi + 0x9e3779b9 + (lo2 > 0xffffffff ? 1 : 0)) >>> 0;
    lo = lo2 >>> 0;
    // z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
    lo = (lo ^ ((lo >>> 30) | (hi << 2))) >>> 0;
    hi = (hi ^ (hi >>> 30)) >>> 0;
    let newLo = Math.imul(lo, 0x1ce4e5b9) >>> 0;
    hi = (mulHigh32(lo, 0x1ce4e5b9) + Math.imul(hi, 0x1ce4e5b9) + Math.imul(lo, 0xbf58476d)) >>> 0;
    lo = newLo;
    // z = (z ^ (z >> 27)) * 0x94d049bb133111eb
    lo = (lo ^ ((lo >>> 27) | (hi << 5))) >>> 0;
    hi = (hi ^ (hi >>> 27)) >>> 0;
    newLo = Math.imul(lo, 0x133111eb) >>> 0;
    hi = (mulHigh32(lo, 0x133111eb) + Math.imul(hi, 0x133111eb) + Math.imul(lo, 0x94d049bb)) >>> 0;
    lo = newLo;
    // z ^= z >> 31; then the top 53 bits, exactly representable, scaled to [-1, 1)
    lo = (lo ^ ((lo >>> 31) | (hi << 1))) >>> 0;
    hi = (hi ^ (hi >>> 31)) >>> 0;
    out[i] = (hi * 2097152 + (lo >>> 11)) * 2 ** -53 * 2 - 1;
  }
  return out;
}

/** The seeded float32 values of a state-dict entry (PyTorch layout) or of the model input. */
export function seededValues(key: string, shape: number[], kind: Exclude<SeededKind, 'bn_num_batches_tracked'>): Float32Array {
  const u = uniform(key, shape.reduce((a, b) => a * b, 1));
  const out = new Float32Array(u.length);
  const scaled = (scale: (v: number) => number) => {
    for (let i = 0; i < u.length; i++) out[i] = scale(u[i]!);
    return out;
  };
  switch (kind) {
    case 'conv_weight': {
      const [o, i, kh, kw] = shape as [number, number, number, number];
      const s = Math.sqrt(6 / (i * kh * kw + o * kh * kw));
      return scaled((v) => v * s);
    }
    case 'linear_weight': {
      const s = Math.sqrt(6 / (shape[1]! + shape[0]!));
      return scaled((v) => v * s);
    }
    case 'bn_weight': return scaled((v) => 1 + 0.1 * v);
    case 'bn_bias': case 'bn_running_mean': return scaled((v) => 0.1 * v);
    case 'bn_running_var': return scaled((v) => 1 + 0.25 * (v + 1));
    case 'bias': return scaled((v) => 0.01 * v);
    case 'input': return scaled((v) => 2 * v);
  }
}

/** The seeded model input x (e.g. (N,3,H,W)): 2 * u("input", i). */
export function seededInput(shape: number[]): Float32Array {
  return seededValues('input', shape, 'input');
}

export interface SeededEntry {
  key: string;
  shape: number[];
  kind: StateEntryKind;
}

/** A whole seeded state dict: float32 values, num_batches_tracked as int64 zeros. */
export function seededState(entries: SeededEntry[]): Map<string, Float32Array | BigInt64Array> {
  return new Map(entries.map(({ key, shape, kind }) => [key,
    kind === 'bn_num_batches_tracked' ? new BigInt64Array(shape.reduce((a, b) => a * b, 1)) : seededValues(key, shape, kind)]));
}

/**
 * The kind of a state-dict entry of PiX-ResNet or ResNet, from its official key and PyTorch shape.
 * BatchNorm modules are named bn* (bn_stem, bn_ce, bn1, …) or downsample.1; conv weights are 4-D,
 * the ResNet fc weight 2-D; any other bias is a conv's or fc's.
 */
export function stateEntryKind(key: string, shape: number[]): StateEntryKind {
  const dot = key.lastIndexOf('.');
  const module = key.slice(0, dot), leaf = key.slice(dot + 1);
  const batchNorm = /(^|\.)bn[^.]*$/.test(module) || module.endsWith('downsample.1');
  if (batchNorm) {
    switch (leaf) {
      case 'weight': return 'bn_weight';
      case 'bias': return 'bn_bias';
      case 'running_mean': return 'bn_running_mean';
      case 'running_var': return 'bn_running_var';
      case 'num_batches_tracked': return 'bn_num_batches_tracked';
    }
  } else if (leaf === 'bias') {
    return 'bias';
  } else if (leaf === 'weight' && shape.length === 4) {
    return 'conv_weight';
  } else if (leaf === 'weight' && shape.length === 2) {
    return 'linear_weight';
  }
  throw new Error(`stateEntryKind: no kind for ${key} of shape [${shape.join(', ')}]`);
}
