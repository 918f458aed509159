#!/usr/bin/env bash
# The GPU check: run on the H100 test machine (../shared/gpu/README.md) from the project root.
# Builds the engine with CUDA (+ cuDNN, cuBLAS, NCCL when found) by plain cmake (no npm there),
# runs the engine's test suite (the CUDA agreement tests included: PiX, every layer op, whole
# networks, optimizers), compares CUDA PiX with CPU PiX and times it against plain PyTorch on the
# same card, then times whole networks with `pix bench --device cuda`. Writes JSON summaries and
# logs to $OUT (or out/). Sized for about 8 minutes of device time.
# Needs, carried from the development machine: .gpukit/ (../shared/gpu/kit.sh), dist/ (npm run
# build:ts), node_modules/node-addon-api and node_modules/node-api-headers.
set -euo pipefail
out=${OUT:-out}
mkdir -p "$out"
source .gpukit/env.sh

cmake -S native -B native/build -G Ninja -DCMAKE_BUILD_TYPE=Release -DPIX_CUDA=ON \
  -DCMAKE_LIBRARY_OUTPUT_DIRECTORY="$PWD/native/build/Release" 2>&1 | tee "$out/build.log" | grep -E 'PiX engine|Error|error' || true
cmake --build native/build -j "$(nproc)" 2>&1 | tee -a "$out/build.log" | grep -E 'error|warning' || true
test -f native/build/Release/pix_engine.node

node bin/pix.js info --json > "$out/info.json"
node bin/pix.js info
# The engine's whole suite (CUDA tests included). The host's image pipeline needs sharp, which
# does not travel to this machine, so its tests run on the development machine and in CI.
node --test --test-reporter=spec dist/test/native/ > "$out/tests.log" 2>&1 && tests=pass || tests=fail
grep -E '^ℹ|✖' "$out/tests.log" || true
# The CUDA agreement tests alone, so their result reads at a glance (the suite above includes them).
node --test --test-reporter=spec dist/test/native/ops/layers.cuda.test.js dist/test/native/nn/model.cuda.test.js \
  > "$out/cuda_tests.log" 2>&1 && echo "cuda agreement: pass" || echo "cuda agreement: FAILED (see cuda_tests.log)"
grep -E '✖|# ' "$out/cuda_tests.log" | head -40 || true
node scripts/gpu/pix_report.mjs "$out/pix_report.json" > /dev/null && report=pass || report=fail
python3 scripts/gpu/torch_pix_baseline.py "$out/torch_baseline.json" > /dev/null || echo "torch baseline failed"
node -e '
const fs = require("fs"); const out = process.argv[1];
const r = JSON.parse(fs.readFileSync(out + "/pix_report.json", "utf8"));
const t = fs.existsSync(out + "/torch_baseline.json") ? JSON.parse(fs.readFileSync(out + "/torch_baseline.json", "utf8")) : null;
console.log(JSON.stringify({ card: r.card, tests: process.argv[2], agreement_pass: r.agreement_pass,
  worst: r.agreement.map((a) => `${a.dtype} ${a.case}: y ${a.y.toExponential(1)} dx ${a.dx.toExponential(1)} dp ${a.dp.toExponential(1)}`),
  engine_pix_ms: r.resnet50_pix_modules_ms, torch_pix_ms: t && t.resnet50_pix_modules_ms, copy_GBps: t && t.device_copy_GBps,
  speed: r.speed_bf16_nhwc_batch128.map((s) => `${s.module} fwd ${s.forward_ms}ms ${s.forward_GBps}GB/s bwd ${s.backward_ms}ms ${s.backward_GBps}GB/s`) }, null, 1));
' "$out" "$tests"
# Whole networks on the card: train and inference steps, f32 and bf16 activations (a slow
# first version: the own GEMM, no cuDNN/cuBLAS yet; the numbers are the baseline to beat).
timeout 150 node bin/pix.js bench --models pix_resnet50_cs,resnet50 --device cuda --batch_size 32 --mode both \
  --warmup 1 --repeats 3 --json > "$out/bench_cuda_fp32.json" 2> "$out/bench_cuda.log" || echo "bench fp32 failed (see bench_cuda.log)"
timeout 90 node bin/pix.js bench --models pix_resnet50_cs,resnet50 --device cuda --batch_size 32 --mode both \
  --precision bf16 --warmup 1 --repeats 3 --json > "$out/bench_cuda_bf16.json" 2>> "$out/bench_cuda.log" || echo "bench bf16 failed (see bench_cuda.log)"
# Out-of-bounds and uninitialised accesses in the CUDA kernels, on the CUDA op test files.
if command -v compute-sanitizer >/dev/null; then
  timeout 150 compute-sanitizer --tool memcheck --error-exitcode 3 node --test dist/test/native/ops/pix.cuda.test.js \
    > "$out/memcheck.log" 2>&1 && echo "memcheck pix: clean" || { echo "memcheck pix: FAILED (see memcheck.log)"; tests=fail; }
  timeout 120 compute-sanitizer --tool memcheck --error-exitcode 3 node --test dist/test/native/ops/layers.cuda.test.js \
    > "$out/memcheck_layers.log" 2>&1 && echo "memcheck layers: clean" || { echo "memcheck layers: FAILED (see memcheck_layers.log)"; tests=fail; }
fi
cat "$out/bench_cuda_fp32.json" "$out/bench_cuda_bf16.json" 2>/dev/null | head -c 3000 || true
[ "$tests" = pass ] && [ "$report" = pass ]
