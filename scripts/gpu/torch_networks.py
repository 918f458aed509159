#!/usr/bin/env python3
"""GPU check: PyTorch's own figures for issue #7's table, on the same card in the same run as
`pix bench`. The networks are the conformance fixtures' PyTorch definitions (scripts/fixtures/
models.py): ResNet-50, and PiX-ResNet50_cs with PiX in plain autograd ops (the official CUDA
extension takes neither bf16 nor channels-last). Eager mode, channels-last, bf16 autocast with f32
weights, synthetic data, cudnn.benchmark on; the training step is what `pix bench` times: forward,
cross-entropy, backward, momentum-SGD step, zeroed gradients, synchronised.

  python3 scripts/gpu/torch_networks.py out.json [--quick]

Prints and writes JSON: images/s for training at batch 128 and inference at batch 256, and the
batch-1 inference latency in milliseconds, median of the timed steps. --quick times fewer steps.
torch.compile is left out: compiling ResNet-50 takes minutes of the device session."""
import json
import os
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "fixtures"))
import models  # noqa: E402


def median_seconds(fn, warmup, repeats):
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2]


def network(name):
    return models.build(name).cuda().to(memory_format=torch.channels_last)


def images(batch):
    return torch.randn(batch, 3, 224, 224, device="cuda").to(memory_format=torch.channels_last)


def train_images_per_second(name, batch, warmup, repeats):
    model = network(name).train()
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)
    x = images(batch)
    targets = torch.arange(batch, device="cuda") * 7919 % 1000

    def step():
        with torch.autocast("cuda", dtype=torch.bfloat16):
            loss = F.cross_entropy(model(x), targets)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    return batch / median_seconds(step, warmup, repeats)


@torch.no_grad()
def infer_seconds(name, batch, warmup, repeats):
    model = network(name).eval()
    x = images(batch)

    def step():
        with torch.autocast("cuda", dtype=torch.bfloat16):
            model(x)

    return median_seconds(step, warmup, repeats)


def main():
    quick = "--quick" in sys.argv
    out = next((a for a in sys.argv[1:] if not a.startswith("--")), None)
    torch.backends.cudnn.benchmark = True
    warmup, repeats = (3, 5) if quick else (5, 20)
    rows = []
    for name in ["resnet50", "pix_resnet50_cs"]:
        row = {"model": name}
        row["train_bf16_b128_images_per_s"] = round(train_images_per_second(name, 128, warmup, repeats))
        row["infer_bf16_b256_images_per_s"] = round(256 / infer_seconds(name, 256, warmup, repeats))
        row["latency_bf16_b1_ms"] = round(1e3 * infer_seconds(name, 1, warmup * 4, repeats * 4), 3)
        rows.append(row)
        torch.cuda.empty_cache()
    summary = {"card": torch.cuda.get_device_name(), "torch": torch.__version__, "cudnn": torch.backends.cudnn.version(),
               "mode": "eager, channels-last, bf16 autocast, cudnn.benchmark", "networks": rows}
    text = json.dumps(summary, indent=1)
    print(text)
    if out:
        with open(out, "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
