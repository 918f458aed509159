#!/usr/bin/env python3
"""GPU check, part 3: PiX written in plain PyTorch ops (the way one would without the official
CUDA extension), bf16, channels-last, on the same PiX-ResNet50 shapes as pix_report.mjs, so the
engine's kernels are compared with PyTorch on the same card in the same run. Prints JSON."""
import json
import sys

import torch

SHAPES = [  # name, H, W, C, zeta, count (blocks of that shape in PiX-ResNet50)
    ("layer1.0", 56, 56, 64, 1, 1), ("layer1.1", 56, 56, 256, 4, 2), ("layer2.0", 56, 56, 256, 2, 1),
    ("layer2.1", 28, 28, 512, 4, 3), ("layer3.0", 28, 28, 512, 2, 1), ("layer3.1", 14, 14, 1024, 4, 5),
    ("layer4.0", 14, 14, 1024, 2, 1), ("layer4.1", 7, 7, 2048, 4, 2),
]
BATCH, TAU = 128, 0.5


def pix(x, p, zeta):
    n, c, h, w = x.shape
    k = c // zeta
    groups = x.unflatten(1, (k, zeta))
    picked = groups.amax(2)
    mixed = groups.sum(2) / zeta
    gate = p.view(n, k, 1, 1)
    return torch.where(gate < TAU, gate * picked, gate * mixed)


def time_ms(fn, repeats=50):
    for _ in range(5):
        fn()
    torch.cuda.synchronize()
    samples = []
    for _ in range(5):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        for _ in range(repeats):
            fn()
        end.record()
        torch.cuda.synchronize()
        samples.append(start.elapsed_time(end) / repeats)
    return sorted(samples)[len(samples) // 2]


def main():
    rows = []
    for name, h, w, c, zeta, count in SHAPES:
        x = torch.randn(BATCH, c, h, w, device="cuda", dtype=torch.bfloat16).to(memory_format=torch.channels_last)
        x.requires_grad_(True)
        p = torch.rand(BATCH, c // zeta, device="cuda", dtype=torch.float32)
        dy = torch.randn(BATCH, c // zeta, h, w, device="cuda", dtype=torch.bfloat16).to(memory_format=torch.channels_last)
        forward = time_ms(lambda: pix(x, p, zeta))
        both = time_ms(lambda: torch.autograd.grad(pix(x, p, zeta), x, dy))
        rows.append({"module": name, "count": count, "forward_ms": round(forward, 4),
                     "backward_ms": round(both - forward, 4)})
    copy = torch.empty(512 * 2**20, dtype=torch.uint8, device="cuda")
    copy_ms = time_ms(lambda: copy.clone(), repeats=20)
    summary = {
        "card": torch.cuda.get_device_name(0), "torch": torch.__version__,
        "plain_torch_pix_bf16_channels_last_batch128": rows,
        "resnet50_pix_modules_ms": {
            "forward": round(sum(r["count"] * r["forward_ms"] for r in rows), 3),
            "backward": round(sum(r["count"] * r["backward_ms"] for r in rows), 3)},
        "device_copy_GBps": round(2 * copy.numel() / copy_ms / 1e6),
    }
    text = json.dumps(summary, indent=2)
    print(text)
    if len(sys.argv) > 1:
        with open(sys.argv[1], "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
