#!/usr/bin/env python3
"""PyTorch's side of the CPU comparison: the same networks (scripts/fixtures/models.py, which
match the engine to 1e-4), the same synthetic batch, the same step (forward, cross-entropy,
backward, SGD with momentum) and the same timing rule (median of timed repeats after warm-up).
Run with Debian's PyTorch:  /usr/bin/python3 scripts/bench/torch_cpu.py [--models ...] [--mode ...]
Standalone, its networks share one process, and each after the first runs in a heap the one
before shaped (ResNet-50 after PiX steps 25-40% faster than alone). With --serve it times one step
per request instead, for scripts/bench/cpu_compare.mjs, which starts one such process per network:
a JSON line {"model": ..., "mode": "train"|"infer"} on stdin gets {"seconds": ...} back, the
network built on first use; it sits idle between requests."""
import argparse
import json
import os
import resource
import statistics
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "fixtures"))
from models import CONFIGS, build  # noqa: E402


class Network:
    """One network with its optimizer and synthetic batch; step(mode) runs and times one step."""

    def __init__(self, name, batch, size):
        self.model = build(name)
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=1e-3, momentum=0.9)
        self.x = torch.rand(batch, 3, size, size) * 2 - 1
        self.labels = torch.arange(batch) * 7919 % CONFIGS[name][5]

    def step(self, mode):
        self.model.train(mode == "train")
        start = time.perf_counter()
        if mode == "infer":
            with torch.no_grad():
                self.model(self.x)
        else:
            self.optimizer.zero_grad(set_to_none=True)
            F.cross_entropy(self.model(self.x), self.labels).backward()
            self.optimizer.step()
        return time.perf_counter() - start


def bench(name, mode, batch, size, warmup, repeats):
    network = Network(name, batch, size)
    for _ in range(warmup):
        network.step(mode)
    samples = [network.step(mode) for _ in range(repeats)]
    seconds = statistics.median(samples)
    return {"model": name, "mode": mode, "imagesPerSecond": batch / seconds, "stepSeconds": seconds, "samples": samples}


def serve(batch, size):
    networks = {}
    for line in sys.stdin:
        request = json.loads(line)
        name = request["model"]
        if name not in networks:
            networks[name] = Network(name, batch, size)
        seconds = networks[name].step(request["mode"])
        print(json.dumps({"seconds": seconds}), flush=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", default="pix_resnet50_cs,resnet50")
    parser.add_argument("--mode", default="both", choices=["train", "infer", "both"])
    parser.add_argument("--batch_size", type=int, default=16)
    parser.add_argument("--input_size", type=int, default=224)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--serve", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.serve:
        print(json.dumps({"torch": torch.__version__, "threads": args.threads}), flush=True)
        serve(args.batch_size, args.input_size)
        return
    modes = ["train", "infer"] if args.mode == "both" else [args.mode]
    results = [bench(m, mode, args.batch_size, args.input_size, args.warmup, args.repeats)
               for mode in modes for m in args.models.split(",")]
    print(json.dumps({"torch": torch.__version__, "threads": args.threads, "batchSize": args.batch_size,
                      "inputSize": args.input_size, "results": results,
                      "peakRssBytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}, indent=2))


if __name__ == "__main__":
    main()
