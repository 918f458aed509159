// The TypeScript twin of scripts/fixtures/seeded.py: the same seeded float32 tensors, bit for bit,
// so full-size fixtures store only outputs. 64-bit arithmetic on pairs of uint32 halves.
import type { StateEntryKind } from '../../electron/host/engine/addon';

type U64 = [hi: number, lo: number];

function mulHigh32(a: number, b: number): number {
  const a0 = a & 0xffff, a1 = a >>> 16, b0 = b & 0xffff, b1 = b >>> 16;
  const p01 = a0 * b1, p10 = a1 * b0;
  const mid = ((a0 * b0) >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
  return (a1 * b1 + (p01 >>> 16) + (p10 >>> 16) + (mid >>> 16)) >>> 0;
}

function mul([ah, al]: U64, [bh, bl]: U64): U64 {
  return [(mulHigh32(al, bl) + Math.imul(ah, bl) + Math.imul(al, bh)) >>> 0, Math.imul(al, bl) >>> 0];
}

function add([ah, al]: U64, [bh, bl]: U64): U64 {
  const lo = al + bl;
  return [(ah + bh + (lo > 0xffffffff ? 1 : 0)) >>> 0, lo >>> 0];
}

function xorShift([hi, lo]: U64, s: number): U64 {
  return [(hi ^ (hi >>> s)) >>> 0, (lo ^ ((lo >>> s) | (hi << (32 - s)))) >>> 0];
}

const GOLDEN: U64 = [0x9e3779b9, 0x7f4a7c15];
const MUL1: U64 = [0xbf58476d, 0x1ce4e5b9];
const MUL2: U64 = [0x94d049bb, 0x133111eb];

function fnv1a64(name: string): U64 {
  let h: U64 = [0xcbf29ce4, 0x84222325];
  for (const byte of Buffer.from(name, 'utf8')) h = mul([h[0], (h[1] ^ byte) >>> 0], [0x00000100, 0x000001b3]);
  return h;
}

/** u(name, i) for i in [0, count): float64 values in [-1, 1). */
export function uniform(name: string, count: number): Float64Array {
  const base = fnv1a64(name);
  const out = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    let z = add(add(base, [Math.floor(i / 2 ** 32), i >>> 0]), GOLDEN);
    z = mul(xorShift(z, 30), MUL1);
    z = mul(xorShift(z, 27), MUL2);
    z = xorShift(z, 31);
    out[i] = (z[0] * 2 ** 21 + (z[1] >>> 11)) * 2 ** -53 * 2 - 1;
  }
  return out;
}

export type SeededKind = Exclude<StateEntryKind, 'bn_num_batches_tracked'> | 'input';

/** The seeded float32 values of a state-dict entry (PyTorch layout) or of the model input. */
export function seededValues(key: string, shape: number[], kind: SeededKind): Float32Array {
  const count = shape.reduce((a, b) => a * b, 1);
  const u = uniform(key, count);
  const scale = (fanIn: number, fanOut: number) => Math.sqrt(6 / (fanIn + fanOut));
  let f: (v: number) => number;
  switch (kind) {
    case 'conv_weight': {
      const receptive = (shape[2] ?? 1) * (shape[3] ?? 1);
      const s = scale(shape[1]! * receptive, shape[0]! * receptive);
      f = (v) => v * s;
      break;
    }
    case 'linear_weight': {
      const s = scale(shape[1]!, shape[0]!);
      f = (v) => v * s;
      break;
    }
    case 'bn_weight': f = (v) => 1 + 0.1 * v; break;
    case 'bn_bias': case 'bn_running_mean': f = (v) => 0.1 * v; break;
    case 'bn_running_var': f = (v) => 1 + 0.25 * (v + 1); break;
    case 'bias': f = (v) => 0.01 * v; break;
    case 'input': f = (v) => 2 * v; break;
  }
  return Float32Array.from(u, f);
}
