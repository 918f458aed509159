#!/usr/bin/env node
// GPU check, part 2: CUDA PiX against CPU PiX on fresh random inputs (f32 and bf16, both layouts,
// forward and backward), and the op's speed on the PiX-ResNet50 shapes at batch 128 (NHWC),
// as achieved memory bandwidth. Prints one JSON summary; exits 1 if a tolerance fails.
// Usage (from the project root, after the build): node scripts/gpu/pix_report.mjs [out.json]
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { loadEngine, engineInfo } = require('../../dist/electron/host/engine/addon.js');
const engine = loadEngine();
const { Tensor } = engine;

const TOLERANCE = { f32: 1e-6, bf16: 1e-2 };

function random(seed) {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296) * 2 - 1;
}
const fill = (n, next) => Float32Array.from({ length: n }, next);
const toF64 = (t) => Float64Array.from(t.toArray());
function maxRelativeError(a, b) {
  let worst = 0, scale = 0;
  for (let i = 0; i < b.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (Number.isNaN(d)) return Infinity;
    worst = Math.max(worst, d);
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return scale ? worst / scale : worst;
}

// ---- agreement --------------------------------------------------------------------------------
const agreementCases = [
  { n: 8, h: 28, w: 28, c: 512, zeta: 4, layout: 'nhwc' },
  { n: 8, h: 28, w: 28, c: 512, zeta: 2, layout: 'nchw' },
  { n: 4, h: 56, w: 56, c: 64, zeta: 1, layout: 'nhwc' },
  { n: 3, h: 11, w: 13, c: 37, zeta: 3, layout: 'nhwc' },
  { n: 3, h: 11, w: 13, c: 37, zeta: 4, layout: 'nchw' },
];
const shapeOf = (s, ch) => (s.layout === 'nhwc' ? [s.n, s.h, s.w, ch] : [s.n, ch, s.h, s.w]);

function runOn(device, dtype, s, x, p, dy) {
  const k = Math.ceil(s.c / s.zeta);
  const xt = Tensor.fromArray(x, shapeOf(s, s.c), dtype, device);
  const pt = Tensor.fromArray(p, [s.n, k], 'f32', device);
  const dyt = Tensor.fromArray(dy, shapeOf(s, k), dtype, device);
  const params = { zeta: s.zeta, layout: s.layout };
  const y = engine.pixForward(xt, pt, params);
  const { dx, dp } = engine.pixBackward(xt, pt, dyt, params);
  return { y: toF64(y), dx: toF64(dx), dp: toF64(dp) };
}

const agreement = [];
let failed = false;
agreementCases.forEach((s, i) => {
  const next = random(1234 + i);
  const k = Math.ceil(s.c / s.zeta);
  let x = fill(s.n * s.c * s.h * s.w, next);
  const p = Float32Array.from({ length: s.n * k }, (_, j) => (j % 9 === 0 ? 0.5 : (next() + 1) / 2));
  let dy = fill(s.n * k * s.h * s.w, next);
  for (const dtype of ['f32', 'bf16']) {
    if (dtype === 'bf16') {
      x = Tensor.fromArray(x, [x.length], 'bf16').toArray();
      dy = Tensor.fromArray(dy, [dy.length], 'bf16').toArray();
    }
    const cpu = runOn('cpu', 'f32', s, x, p, dy);
    const gpu = runOn('cuda:0', dtype, s, x, p, dy);
    const errors = Object.fromEntries(['y', 'dx', 'dp'].map((key) => [key, maxRelativeError(gpu[key], cpu[key])]));
    const pass = Object.values(errors).every((e) => e <= TOLERANCE[dtype]);
    failed ||= !pass;
    agreement.push({ case: `N${s.n} ${s.h}x${s.w} C${s.c} zeta${s.zeta} ${s.layout}`, dtype, ...errors, tolerance: TOLERANCE[dtype], pass });
  }
});

// ---- speed ------------------------------------------------------------------------------------
// The PiX modules of PiX-ResNet50_cs: the first block of each stage (zeta 1 or 2) and a later one (zeta 4).
// `count`: how many of the network's 16 blocks have that shape.
const speedShapes = [
  { name: 'layer1.0', h: 56, w: 56, c: 64, zeta: 1, count: 1 },
  { name: 'layer1.1', h: 56, w: 56, c: 256, zeta: 4, count: 2 },
  { name: 'layer2.0', h: 56, w: 56, c: 256, zeta: 2, count: 1 },
  { name: 'layer2.1', h: 28, w: 28, c: 512, zeta: 4, count: 3 },
  { name: 'layer3.0', h: 28, w: 28, c: 512, zeta: 2, count: 1 },
  { name: 'layer3.1', h: 14, w: 14, c: 1024, zeta: 4, count: 5 },
  { name: 'layer4.0', h: 14, w: 14, c: 1024, zeta: 2, count: 1 },
  { name: 'layer4.1', h: 7, w: 7, c: 2048, zeta: 4, count: 2 },
];
const BATCH = 128;
const REPEATS = 50;

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function timeMs(fn) {
  for (let i = 0; i < 5; i++) fn();
  engine.cudaSynchronize(0);
  const samples = [];
  for (let r = 0; r < 5; r++) {
    const start = performance.now();
    for (let i = 0; i < REPEATS; i++) fn();
    engine.cudaSynchronize(0);
    samples.push((performance.now() - start) / REPEATS);
  }
  return median(samples);
}

const speed = [];
for (const s of speedShapes) {
  const k = s.c / s.zeta;
  const next = random(7);
  const xElems = BATCH * s.h * s.w * s.c, yElems = BATCH * s.h * s.w * k;
  const x = Tensor.fromArray(fill(xElems, next), [BATCH, s.h, s.w, s.c], 'bf16', 'cuda:0');
  const p = Tensor.fromArray(Float32Array.from({ length: BATCH * k }, () => (next() + 1) / 2), [BATCH, k], 'f32', 'cuda:0');
  const dy = Tensor.fromArray(fill(yElems, next), [BATCH, s.h, s.w, k], 'bf16', 'cuda:0');
  const dx = Tensor.zeros([BATCH, s.h, s.w, s.c], 'bf16', 'cuda:0');
  const params = { zeta: s.zeta };
  const forwardMs = timeMs(() => engine.pixForward(x, p, params).dispose());
  const backwardMs = timeMs(() => {
    const g = engine.pixBackward(x, p, dy, params);
    g.dx.dispose();
    g.dp.dispose();
  });
  // Fewest bytes: forward reads x, writes y; backward reads x and dy, and read-modify-writes dx
  // (the engine's backward accumulates; the JS call also zero-fills dx first).
  const forwardBytes = 2 * (xElems + yElems);
  const backwardBytes = 2 * (xElems + yElems + 3 * xElems);
  speed.push({
    module: s.name, count: s.count, shape: `${BATCH}x${s.h}x${s.w}x${s.c}`, zeta: s.zeta,
    forward_ms: +forwardMs.toFixed(4), forward_GBps: +(forwardBytes / forwardMs / 1e6).toFixed(0),
    backward_ms: +backwardMs.toFixed(4), backward_GBps: +(backwardBytes / backwardMs / 1e6).toFixed(0),
  });
  for (const t of [x, p, dy, dx]) t.dispose();
}
const total = (key) => +speed.reduce((acc, r) => acc + r.count * r[key], 0).toFixed(3);

const info = engineInfo();
const summary = {
  card: info.backends.cuda.devices[0]?.name ?? null,
  engine: info.version,
  cuda: { runtime: info.backends.cuda.runtimeVersion, driver: info.backends.cuda.driverVersion,
    cudnn: info.backends.cuda.cudnn, cublas: info.backends.cuda.cublas, nccl: info.backends.cuda.nccl },
  agreement,
  agreement_pass: !failed,
  speed_bf16_nhwc_batch128: speed,
  // All 16 PiX modules of one PiX-ResNet50 step at batch 128.
  resnet50_pix_modules_ms: { forward: total('forward_ms'), backward: total('backward_ms') },
};
const text = JSON.stringify(summary, null, 2);
console.log(text);
if (process.argv[2]) writeFileSync(process.argv[2], text + '\n');
process.exit(failed ? 1 : 0);
