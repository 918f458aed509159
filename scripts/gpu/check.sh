#!/usr/bin/env bash
# The GPU check: run on the H100 test machine (../shared/gpu/README.md) from the project root.
# Builds the engine with CUDA (+ cuDNN, cuBLAS, NCCL when found) by plain cmake (no npm there),
# runs the engine's tests and, on their own, every CUDA test (agreement of PiX, the layer ops,
# whole networks, optimizers, losses and Mixup with the CPU; training on CUDA against the CPU),
# checks cuBLAS behind the engine's matrix products (gemm), prints issue #7's table against
# PyTorch on the same card (table), profiles a training step kernel by kernel (profile), trains
# the embedded digits with `pix train --device cuda` (train), checks NCCL data parallelism (nccl),
# compares CUDA PiX with CPU PiX and times it against plain PyTorch (report), times whole networks
# with their per-block profile (bench), and runs compute-sanitizer's memcheck on the newest
# kernels (memcheck). Writes JSON summaries and logs to $OUT (or out/). More than one device
# session's 15 minutes in all, so pick parts: check.sh [build] [tests] [gemm] [table] [profile]
# [train] [nccl] [report] [bench] [memcheck] [data] [epoch] (default: all but data and epoch, in
# that order, so the first parts finish if time runs out). `data` times the data pipeline with 16
# workers against torchvision (issue #5's H100 figure; it first makes 2000 JPEGs, about 2 minutes);
# `epoch` trains PiX-ResNet50 for an epoch on those JPEGs (issue #7's real-data figure).
# Needs, carried from the development machine: .gpukit/ (../shared/gpu/kit.sh, then
# scripts/gpu/pack.sh, which adds the Node-API headers, sharp and the demo digits) and dist/
# (npm run build:ts).
set -euo pipefail
out=${OUT:-out}
mkdir -p "$out"
source .gpukit/env.sh
[ -f .gpukit/host.tar.xz ] && tar -xJf .gpukit/host.tar.xz
parts=${*:-build tests gemm table profile train nccl report bench memcheck}
wants() { [[ " $parts " == *" $1 "* ]]; }
started=$(date +%s)
stamp() { echo "[$(($(date +%s) - started)) s] $*"; }
verdict=pass

if wants build || [ ! -f native/build/Release/pix_engine.node ]; then
  stamp build
  cmake -S native -B native/build -G Ninja -DCMAKE_BUILD_TYPE=Release -DPIX_CUDA=ON \
    -DCMAKE_LIBRARY_OUTPUT_DIRECTORY="$PWD/native/build/Release" 2>&1 | tee "$out/build.log" | grep -E 'PiX engine|Error|error' || true
  cmake --build native/build -j "$(nproc)" 2>&1 | tee -a "$out/build.log" | grep -E 'error|warning' || true
  test -f native/build/Release/pix_engine.node
  node bin/pix.js info --json > "$out/info.json"
  node bin/pix.js info
fi

if wants tests; then
  # Every CUDA test on its own, so that its result reads at a glance (the host's train/*cuda* tests
  # need sharp, unpacked above); then the engine's CPU suite on this build (CI runs it too: last,
  # so a short session spends its minutes on the card).
  stamp tests
  # batch_input: u8 batches normalised and erased by the CUDA kernel, against the CPU's floats;
  # predict: `pix predict --device cuda` against PyTorch's logits.
  mapfile -t cuda_tests < <(find dist/test/native -name '*.cuda.test.js'; find dist/test/host/train -name '*cuda*.test.js';
    echo dist/test/host/train/batch_input.test.js; echo dist/test/cli/predict.test.js)
  mapfile -t other_tests < <(find dist/test/native -name '*.test.js' ! -name '*.cuda.test.js')
  node --test --test-reporter=spec "${cuda_tests[@]}" > "$out/cuda_tests.log" 2>&1 && echo "cuda tests: pass" \
    || { echo "cuda tests: FAILED (see cuda_tests.log)"; verdict=fail; }
  grep -E '^ℹ (tests|pass|fail|skipped)|✖|# ' "$out/cuda_tests.log" | head -40 || true
  node --test --test-reporter=spec "${other_tests[@]}" > "$out/tests.log" 2>&1 && echo "engine tests: pass" \
    || { echo "engine tests: FAILED (see tests.log)"; verdict=fail; }
  grep -E '^ℹ (tests|pass|fail|skipped)|^✖' "$out/tests.log" || true
fi

if wants gemm; then
  # cuBLAS, opened at run time, behind cuda::gemm (`pix info` says which implementation runs): its
  # agreement tests with the own kernel, and the layer tests once more on the own kernels alone
  # (PIX_CUBLAS=0 PIX_CUDNN=0: the fallback where neither library loads).
  stamp gemm
  node bin/pix.js info --json > "$out/info_gemm.json"
  node -e 'console.log("cuda.gemm:", JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).backends.cuda.gemm)' "$out/info_gemm.json"
  timeout 120 node --test --test-reporter=spec dist/test/native/cublas_loader.test.js > "$out/cublas_tests.log" 2>&1 \
    && echo "cublas tests: pass" || { echo "cublas tests: FAILED (see cublas_tests.log)"; verdict=fail; }
  grep -E '^ℹ (tests|pass|fail|skipped)|✖|# ' "$out/cublas_tests.log" | head -20 || true
  PIX_CUBLAS=0 PIX_CUDNN=0 timeout 120 node --test --test-reporter=spec dist/test/native/ops/layers.cuda.test.js > "$out/cuda_tests_own_gemm.log" 2>&1 \
    && echo "layer tests, own gemm and convolutions: pass" || { echo "layer tests, own gemm and convolutions: FAILED (see cuda_tests_own_gemm.log)"; verdict=fail; }
fi

if wants table; then
  # Issue #7's table, measured side by side: our networks (convolutions on cuDNN where it loads:
  # `pix info`'s "convolutions" line) and PyTorch's (scripts/gpu/torch_networks.py) on this card.
  # bf16, 224x224: training at batch 128, inference at batch 256, batch-1 latency.
  stamp table
  node bin/pix.js info --json > "$out/info_table.json"
  node -e 'const c = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).backends.cuda;
    console.log("convolutions:", c.conv); console.log("matrix products:", c.gemm)' "$out/info_table.json"
  bench() {  # name, then pix bench flags (inference replays CUDA graphs unless PIX_CUDA_GRAPHS=0)
    local name=$1; shift
    timeout 150 node bin/pix.js bench --device cuda --models pix_resnet50_cs,resnet50 --input_size 224 --precision bf16 \
      --json "$@" > "$out/table_$name.json" 2> "$out/table_$name.log" || echo "bench $name failed (see table_$name.log)"
  }
  bench train_b128 --mode train --batch_size 128 --warmup 3 --repeats 10
  # The same with cuDNN's algorithms timed and any allowed (PyTorch's cudnn.benchmark): is the
  # reproducible default (heuristics, deterministic only) leaving speed behind?
  PIX_CUDNN_BENCHMARK=1 PIX_CUDNN_DETERMINISTIC=0 bench train_b128_timed --mode train --batch_size 128 --warmup 3 --repeats 10
  bench infer_b256 --mode infer --batch_size 256 --warmup 3 --repeats 10
  # Folded BatchNorm's epilogue as a pass of its own instead of inside cuDNN's fused call: what the
  # fusion gives (pix bench's `cuda.fused` says whether cuDNN took the fused call, or why not).
  PIX_CUDNN_FUSED=0 bench infer_b256_unfused --mode infer --batch_size 256 --warmup 3 --repeats 10
  bench latency_b1 --mode infer --batch_size 1 --warmup 20 --repeats 50
  PIX_CUDA_GRAPHS=0 bench latency_b1_eager --mode infer --batch_size 1 --warmup 20 --repeats 50
  timeout 240 python3 scripts/gpu/torch_networks.py "$out/table_torch.json" > "$out/table_torch.log" 2>&1 \
    || echo "torch networks failed (see table_torch.log)"
  node scripts/gpu/issue7_table.mjs "$out" | tee "$out/table.md"
fi

if wants profile; then
  # What dominates a training step, kernel by kernel: a short PiX-ResNet50 bf16 batch-128 bench under
  # Nsight Systems (when the toolkit has it), its kernel summary kept (the top lines printed).
  stamp profile
  nsys=$(command -v nsys || ls /usr/local/cuda/bin/nsys /opt/nvidia/nsight-systems/*/bin/nsys 2>/dev/null | head -1 || true)
  if [ -n "$nsys" ]; then
    timeout 150 "$nsys" profile -t cuda -o /tmp/pix-profile --force-overwrite true node bin/pix.js bench --device cuda \
      --models pix_resnet50_cs --batch_size 128 --input_size 224 --mode train --precision bf16 --warmup 2 --repeats 3 \
      > "$out/profile.log" 2>&1 || echo "profile run failed (see profile.log)"
    timeout 90 "$nsys" stats --report cuda_gpu_kern_sum --format csv --output "$out/profile" /tmp/pix-profile.nsys-rep \
      >> "$out/profile.log" 2>&1 || echo "nsys stats failed (see profile.log)"
    head -25 "$out"/profile*kern_sum*.csv 2>/dev/null | cut -c1-220 || true
  else
    echo "no nsys on this machine: no kernel profile"
  fi
fi

if wants train; then
  # The demo preset on the embedded digits (4 epochs, tiny PiX network, at their own 28x28) on the
  # card; the CPU reaches 97.00% top-1 with the same preset and seed (BENCHMARKS.md). Checkpoints stay in /tmp.
  stamp "pix train --device cuda"
  run=/tmp/pix-demo-cuda && rm -rf "$run"
  train_start=$(date +%s.%N)
  timeout 150 node bin/pix.js train --device cuda --output_dir "$run" --num_workers 8 > "$out/train_cuda.log" 2>&1 \
    && train_status=0 || { train_status=$?; verdict=fail; }
  train_end=$(date +%s.%N)
  cp "$run/log.txt" "$out/train_cuda_log.txt" 2>/dev/null || true
  cp "$run/failure.json" "$out/train_cuda_failure.json" 2>/dev/null || true
  node -e '
  const fs = require("fs"); const [file, status, from, to] = process.argv.slice(1);
  const epochs = fs.existsSync(file) ? fs.readFileSync(file, "utf8").trim().split("\n").map((l) => JSON.parse(l)) : [];
  const last = epochs.at(-1) ?? {};
  console.log(JSON.stringify({ status: Number(status), seconds: Number((to - from).toFixed(1)), epochs: epochs.length,
    final_test_acc1: last.test_acc1, final_test_acc5: last.test_acc5, final_test_loss: last.test_loss,
    train_loss: epochs.map((e) => e.train_loss), cpu_reference_acc1: 97.00 }, null, 1));
  ' "$run/log.txt" "$train_status" "$train_start" "$train_end" | tee "$out/train_cuda.json"
  tail -3 "$out/train_cuda.log"
fi

if wants nccl; then
  # NCCL, opened at run time from $NCCL_ROOT/lib: its tests (one rank), then the trainer's NCCL
  # path at world size 1 (the launcher's environment with one rank: gradients, votes and state
  # go through NCCL) against the single-process run, one demo epoch on the same seed; the
  # per-iteration losses should agree (bit for bit unless the CUDA kernels' atomics reorder sums;
  # then a second single-process run shows the run-to-run spread). Last, two ranks on the one GPU
  # (--device cuda:0 for both): NCCL normally refuses a duplicate GPU, recorded either way.
  stamp nccl
  node -e 'console.log(JSON.stringify(require("./native/build/Release/pix_engine.node").ncclLibraryStatus()))' > "$out/nccl_status.json"
  cat "$out/nccl_status.json"
  node --test --test-reporter=spec dist/test/native/nccl.test.js dist/test/native/nccl.cuda.test.js > "$out/nccl_tests.log" 2>&1 \
    && echo "nccl tests: pass" || { echo "nccl tests: FAILED (see nccl_tests.log)"; verdict=fail; }
  grep -E '^ℹ (tests|pass|fail|skipped)|✖|# ' "$out/nccl_tests.log" | head -20 || true
  runs=/tmp/pix-nccl && rm -rf "$runs" && mkdir -p "$runs"
  demo=(--epochs 1 --disable_eval true --save_ckpt false --num_workers 8 --seed 0)
  nccl_train() {  # name [VAR=value...] [-- flags...]: one run, its exit status kept beside its output
    local name=$1 code=0 envs=(); shift
    while [ $# -gt 0 ] && [ "$1" != -- ]; do envs+=("$1"); shift; done
    [ $# -gt 0 ] && shift
    env "${envs[@]}" timeout 150 node bin/pix.js train "${demo[@]}" --output_dir "$runs/$name" "$@" > "$out/nccl_$name.log" 2>&1 || code=$?
    echo "$code" > "$runs/$name.status"
  }
  nccl_train single -- --device cuda
  nccl_train world1 PIX_RANK=0 PIX_WORLD_SIZE=1 PIX_LOCAL_RANK=0 -- --device cuda
  node -e 'const f = (d) => require("fs").readFileSync(d + "/metrics.jsonl", "utf8").trim().split("\n").map((l) => JSON.parse(l).loss).join();
    process.exit(f(process.argv[1]) === f(process.argv[2]) ? 0 : 1)' "$runs/single" "$runs/world1" 2>/dev/null \
    || nccl_train single_again -- --device cuda
  nccl_train two_ranks NCCL_DEBUG=WARN -- --device cuda:0 --nproc_per_node 2 --master_port 29611
  node -e '
  const fs = require("fs"); const [runs, out] = process.argv.slice(1);
  const status = (name) => fs.existsSync(`${runs}/${name}.status`) ? Number(fs.readFileSync(`${runs}/${name}.status`, "utf8")) : null;
  const losses = (name) => { const f = `${runs}/${name}/metrics.jsonl`;
    return fs.existsSync(f) ? fs.readFileSync(f, "utf8").trim().split("\n").filter(Boolean).map((l) => JSON.parse(l).loss) : []; };
  const compare = (a, b) => {
    if (!a.length || a.length !== b.length) return { steps: [a.length, b.length], comparable: false };
    const rel = a.map((x, i) => Math.abs(x - b[i]) / Math.max(1e-12, Math.abs(x)));
    return { steps: a.length, identical: rel.every((r) => r === 0), first_step_identical: a[0] === b[0],
      max_relative_difference: Math.max(...rel), last: [a.at(-1), b.at(-1)] };
  };
  const [single, world1, again] = ["single", "world1", "single_again"].map(losses);
  const tail = (name) => fs.existsSync(`${out}/nccl_${name}.log`) ? fs.readFileSync(`${out}/nccl_${name}.log`, "utf8").trim().split("\n").slice(-6) : [];
  const vsSingle = compare(single, world1);
  const noise = again.length ? compare(single, again) : null;
  const pass = status("single") === 0 && status("world1") === 0 && vsSingle.steps > 0 && (vsSingle.identical ||
    (vsSingle.first_step_identical && noise !== null && vsSingle.max_relative_difference <= Math.max(1e-3, 10 * noise.max_relative_difference)));
  const two = status("two_ranks");
  const summary = { pass, status: { single: status("single"), world1: status("world1"), single_again: status("single_again"), two_ranks: two },
    world1_vs_single: vsSingle, single_run_to_run: noise,
    two_ranks_one_gpu: { status: two, trained: two === 0 ? losses("two_ranks").length + " steps" : null, log_tail: tail("two_ranks") },
    world1_log_tail: tail("world1") };
  fs.writeFileSync(`${out}/nccl.json`, JSON.stringify(summary, null, 1) + "\n");
  console.log(JSON.stringify(summary, null, 1));
  process.exit(pass ? 0 : 1);
  ' "$runs" "$out" || verdict=fail
fi

if wants report; then
  stamp report
  node scripts/gpu/pix_report.mjs "$out/pix_report.json" > /dev/null || verdict=fail
  python3 scripts/gpu/torch_pix_baseline.py "$out/torch_baseline.json" > /dev/null || echo "torch baseline failed"
  node -e '
  const fs = require("fs"); const out = process.argv[1];
  if (!fs.existsSync(out + "/pix_report.json")) { console.log("pix_report failed"); process.exit(0); }
  const r = JSON.parse(fs.readFileSync(out + "/pix_report.json", "utf8"));
  const t = fs.existsSync(out + "/torch_baseline.json") ? JSON.parse(fs.readFileSync(out + "/torch_baseline.json", "utf8")) : null;
  console.log(JSON.stringify({ card: r.card, agreement_pass: r.agreement_pass,
    worst: r.agreement.map((a) => `${a.dtype} ${a.case}: y ${a.y.toExponential(1)} dx ${a.dx.toExponential(1)} dp ${a.dp.toExponential(1)}`),
    engine_pix_ms: r.resnet50_pix_modules_ms, torch_pix_ms: t && t.resnet50_pix_modules_ms, copy_GBps: t && t.device_copy_GBps,
    speed: r.speed_bf16_nhwc_batch128.map((s) => `${s.module} fwd ${s.forward_ms}ms ${s.forward_GBps}GB/s bwd ${s.backward_ms}ms ${s.backward_GBps}GB/s`) }, null, 1));
  ' "$out"
fi

if wants bench; then
  # Whole networks on the card: train and inference steps, f32 and bf16 activations; f32 with the
  # per-block profile (after the timed steps), to see where PiX gains or loses against ResNet.
  stamp bench
  timeout 120 node bin/pix.js bench --models pix_resnet50_cs,resnet50 --device cuda --batch_size 32 --mode both \
    --warmup 1 --repeats 3 --profile --json > "$out/bench_cuda_fp32.json" 2> "$out/bench_cuda.log" || echo "bench fp32 failed (see bench_cuda.log)"
  timeout 60 node bin/pix.js bench --models pix_resnet50_cs,resnet50 --device cuda --batch_size 32 --mode both \
    --precision bf16 --warmup 1 --repeats 3 --json > "$out/bench_cuda_bf16.json" 2>> "$out/bench_cuda.log" || echo "bench bf16 failed (see bench_cuda.log)"
  head -c 3000 "$out/bench_cuda_fp32.json" "$out/bench_cuda_bf16.json" 2>/dev/null || true
fi

if wants memcheck && command -v compute-sanitizer >/dev/null; then
  # Out-of-bounds and uninitialised accesses in the kernels not yet checked on a card: the layer
  # ops, the losses and Mixup (PiX's were clean on 2026-11-26, BENCHMARKS.md, and are unchanged).
  stamp memcheck
  timeout 100 compute-sanitizer --tool memcheck --error-exitcode 3 node --test dist/test/native/ops/layers.cuda.test.js \
    > "$out/memcheck_layers.log" 2>&1 && echo "memcheck layers: clean" || { echo "memcheck layers: FAILED (see memcheck_layers.log)"; verdict=fail; }
  timeout 45 compute-sanitizer --tool memcheck --error-exitcode 3 node --test dist/test/native/ops/losses.cuda.test.js \
    dist/test/native/ops/mixup.cuda.test.js > "$out/memcheck_losses.log" 2>&1 && echo "memcheck losses, mixup: clean" \
    || { echo "memcheck losses, mixup: FAILED (see memcheck_losses.log)"; verdict=fail; }
fi

if wants data; then
  # Issue #5's H100 figure: the training transform (rand-m7-mstd0.5-inc1, reprob 0.25, 224) with 16
  # workers, ours against torchvision's DataLoader in the machine's PyTorch, alternating.
  stamp data
  PIX_PYTHON=$(command -v python3) timeout 400 node benchmarks/data_pipeline.mjs --workers 16 --images 2000 --rounds 2 \
    --passes 2 > "$out/data_pipeline.log" 2>&1 || echo "data pipeline benchmark failed (see data_pipeline.log)"
  cp benchmarks/data_pipeline/latest.json "$out/data_pipeline.json" 2>/dev/null || true
  tail -3 "$out/data_pipeline.log"
fi

if wants epoch; then
  # Issue #7 item 5: one epoch of real training on an ImageNet-like folder (the data part's 2000
  # synthetic JPEGs in 20 classes, made first when missing, about 2 minutes): PiX-ResNet50 on the
  # card in bf16, batch 128, 16 loader workers, the recipe's augmentation (RandAugment, erasing,
  # Mixup/CutMix). From metrics.jsonl after the first steps: the whole step's images/s, the share
  # spent waiting for the loader, and the engine's own images/s (the step without that wait).
  stamp epoch
  folder="${XDG_CACHE_HOME:-$HOME/.cache}/pix-workbench/bench/data-pipeline-v1-2000"
  [ -f "$folder/complete.json" ] || timeout 300 node benchmarks/data_pipeline.mjs --images 2000 --rounds 0 > "$out/epoch_data.log" 2>&1 || true
  run=/tmp/pix-epoch && rm -rf "$run" && batch=128
  timeout 300 node bin/pix.js train --device cuda --use_amp true --data_path "$folder" --model PiXResNet50_cs \
    --batch_size "$batch" --epochs 1 --num_workers 16 --disable_eval true --save_ckpt false --output_dir "$run" \
    > "$out/epoch.log" 2>&1 || echo "epoch failed (see epoch.log)"
  node -e '
  const fs = require("fs"); const [file, out, batch] = process.argv.slice(1);
  if (!fs.existsSync(file)) { console.log("epoch: no metrics"); process.exit(0); }
  const steps = fs.readFileSync(file, "utf8").trim().split("\n").map((l) => JSON.parse(l)).slice(3);
  const sum = (k) => steps.reduce((a, m) => a + m[k], 0), images = steps.length * Number(batch);
  const summary = { steps: steps.length, images_per_second: images / (sum("step_seconds") + sum("data_seconds")),
    engine_images_per_second: images / sum("step_seconds"), data_wait_share: sum("data_seconds") / (sum("step_seconds") + sum("data_seconds")) };
  fs.writeFileSync(out, JSON.stringify(summary, null, 2) + "\n");
  console.log("epoch:", JSON.stringify(summary));' "$run/metrics.jsonl" "$out/epoch.json" "$batch"
fi

stamp "done: $verdict"
[ "$verdict" = pass ]
