#!/usr/bin/env python3
"""PyTorch's side of the CPU comparison: the same networks (scripts/fixtures/models.py, which
match the engine to 1e-4), the same synthetic batch, the same step (forward, cross-entropy,
backward, SGD with momentum) and the same timing rule (median of timed repeats after warm-up).
Run with Debian's PyTorch:  /usr/bin/python3 scripts/bench/torch_cpu.py --json"""
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


def bench(name, mode, batch, size, warmup, repeats):
    model = build(name)
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)
    x = torch.rand(batch, 3, size, size) * 2 - 1
    labels = torch.arange(batch) * 7919 % CONFIGS[name][5]

    def step():
        if mode == "infer":
            with torch.no_grad():
                model(x)
            return
        optimizer.zero_grad(set_to_none=True)
        F.cross_entropy(model(x), labels).backward()
        optimizer.step()

    model.train(mode == "train")
    for _ in range(warmup):
        step()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        samples.append(time.perf_counter() - start)
    seconds = statistics.median(samples)
    return {"model": name, "mode": mode, "imagesPerSecond": batch / seconds, "stepSeconds": seconds, "samples": samples}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", default="pix_resnet50_cs,resnet50")
    parser.add_argument("--mode", default="both", choices=["train", "infer", "both"])
    parser.add_argument("--batch_size", type=int, default=16)
    parser.add_argument("--input_size", type=int, default=224)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    modes = ["train", "infer"] if args.mode == "both" else [args.mode]
    results = [bench(m, mode, args.batch_size, args.input_size, args.warmup, args.repeats)
               for mode in modes for m in args.models.split(",")]
    print(json.dumps({"torch": torch.__version__, "threads": args.threads, "batchSize": args.batch_size,
                      "inputSize": args.input_size, "results": results,
                      "peakRssBytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}, indent=2))


if __name__ == "__main__":
    main()
