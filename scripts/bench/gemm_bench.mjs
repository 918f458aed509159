#!/usr/bin/env node
// SGEMM speed on the ResNet-50 shapes at batch 16 (NHWC, so M = pixels): GFLOP/s of one kernel,
// best of several runs, on all engine threads. For tuning the CPU GEMM, not a test: it checks nothing.
// Usage, from the project root after `npm run build:ts` and the native build:
//   node scripts/bench/gemm_bench.mjs [--kernel fast|avx512|avx2|portable] [--precision fp32|bf16]
//                                     [--only SUBSTRING]
// GFLOP/s counts 2 M N K whatever the precision (bf16 rounds the operands, the sums stay f32).
// PIX_ENGINE_PATH picks another addon build; PIX_NUM_THREADS the thread count.
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';

const require = createRequire(import.meta.url);
const { loadEngine, engineInfo } = require('../../dist/electron/host/engine/addon.js');
const engine = loadEngine();
const { Tensor } = engine;

const { values: args } = parseArgs({
  options: {
    kernel: { type: 'string', default: 'fast' },
    precision: { type: 'string', default: 'fp32' },
    only: { type: 'string' },
  },
});

// [name, m, n, k, transA, transB]: forward C = X W^T (W stored (Cout, Cin) = NT), weight gradient
// dW = dY^T X (TN, k = pixels), input gradient dX = dY W (NN).
const SHAPES = [
  ['fwd 7x7 3 stem im2col NT', 200704, 64, 147, false, true],
  ['fwd 1x1 256->64   NT', 50176, 64, 256, false, true],
  ['fwd 3x3 64 im2col NT', 50176, 64, 576, false, true],
  ['fwd 1x1 512->128  NT', 12544, 128, 512, false, true],
  ['fwd 1x1 64->256   NT', 50176, 256, 64, false, true],
  ['fwd 3x3 512 im2col NT', 784, 512, 4608, false, true],
  ['fwd classifier    NT', 16, 1000, 2048, false, true],
  ['dW  7x7 3 stem im2col TN', 64, 147, 200704, true, false],
  ['dW  1x1 256->64   TN', 64, 256, 50176, true, false],
  ['dW  1x1 64->256   TN', 256, 64, 50176, true, false],
  ['dW  3x3 64 im2col TN', 64, 576, 50176, true, false],
  ['dX  1x1 256->64   NN', 50176, 256, 64, false, false],
  ['dX  1x1 64->256   NN', 50176, 64, 256, false, false],
  ['dX  3x3 64 im2col NN', 50176, 576, 64, false, false],
];

function random(count, seed) {
  const out = new Float32Array(count);
  let s = seed >>> 0;
  for (let i = 0; i < count; i++) out[i] = ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296) * 2 - 1;
  return out;
}

const { cpu } = engineInfo().backends;
console.log(`kernel ${args.kernel}, ${args.precision}, on ${cpu.threads} threads (host SIMD: ${cpu.simd}` +
  `${cpu.features.includes('avx512_bf16') ? ', avx512_bf16' : ''})`);
for (const [name, m, n, k, transA, transB] of SHAPES) {
  if (args.only && !name.includes(args.only)) continue;
  const a = Tensor.fromArray(random(m * k, 1), transA ? [k, m] : [m, k]);
  const b = Tensor.fromArray(random(k * n, 2), transB ? [n, k] : [k, n]);
  const c = Tensor.zeros([m, n]);
  const params = { transA, transB, kernel: args.kernel, precision: args.precision };
  engine.gemm(a, b, c, params);  // warm-up: page faults, packing buffers, thread wake-up
  const times = [];
  for (let total = 0; times.length < 3 || (total < 1500 && times.length < 50);) {
    const start = performance.now();
    engine.gemm(a, b, c, params);
    times.push(performance.now() - start);
    total += times.at(-1);
  }
  const best = Math.min(...times);
  const gflops = (2 * m * n * k) / best / 1e6;
  console.log(`${name}  M=${String(m).padStart(5)} N=${String(n).padStart(4)} K=${String(k).padStart(5)}  ` +
    `${best.toFixed(2).padStart(7)} ms  ${gflops.toFixed(1).padStart(6)} GFLOP/s`);
  for (const t of [a, b, c]) t.dispose();
}
