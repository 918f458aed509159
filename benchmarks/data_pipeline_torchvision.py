#!/usr/bin/env python3
"""The torchvision side of benchmarks/data_pipeline.mjs: images/s of the recipe's training transform
through torch's DataLoader over an ImageFolder, timed like `pix data bench` (whole epochs, from the
first batch's arrival to the last, the first batch untimed) and printed as one JSON object.

timm is not installed here, so its training transform is rebuilt from PIL and torch with timm's
semantics (timm.data.auto_augment.rand_augment_transform and timm.data.random_erasing): the same
ops, magnitudes, probabilities and draws, so each side does the same work per image. It is a
benchmark twin, not a reference for the pixels (test/fixtures hold those).

Run with Debian's PyTorch: /usr/bin/python3 benchmarks/data_pipeline_torchvision.py --data_path D
"""
import argparse
import json
import math
import random
import statistics
import time

import torch
from PIL import Image, ImageEnhance, ImageOps
from torch.utils.data import DataLoader
from torchvision import datasets, transforms

MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)
FILL = tuple(min(255, round(255 * m)) for m in MEAN)  # timm's img_mean: (124, 116, 104)

# timm's _RAND_INCREASING_TRANSFORMS (the 'inc1' op set).
INCREASING_OPS = ["AutoContrast", "Equalize", "Invert", "Rotate", "PosterizeIncreasing", "SolarizeIncreasing",
                  "SolarizeAdd", "ColorIncreasing", "ContrastIncreasing", "BrightnessIncreasing",
                  "SharpnessIncreasing", "ShearX", "ShearY", "TranslateXRel", "TranslateYRel"]


def negate_half(value):
    return -value if random.random() > 0.5 else value


def affine(img, matrix):
    return img.transform(img.size, Image.AFFINE, matrix, resample=Image.BICUBIC, fillcolor=FILL)


def apply_op(img, name, magnitude):
    level = magnitude / 10
    if name == "AutoContrast":
        return ImageOps.autocontrast(img)
    if name == "Equalize":
        return ImageOps.equalize(img)
    if name == "Invert":
        return ImageOps.invert(img)
    if name == "Rotate":
        return img.rotate(negate_half(level * 30), resample=Image.BICUBIC, fillcolor=FILL)
    if name == "PosterizeIncreasing":
        bits = 4 - int(level * 4)
        return img if bits >= 8 else ImageOps.posterize(img, bits)
    if name == "SolarizeIncreasing":
        return ImageOps.solarize(img, 256 - min(256, int(level * 256)))
    if name == "SolarizeAdd":
        add = min(128, int(level * 110))
        return img.point([min(255, i + add) if i < 128 else i for i in range(256)] * 3)
    enhancers = {"ColorIncreasing": ImageEnhance.Color, "ContrastIncreasing": ImageEnhance.Contrast,
                 "BrightnessIncreasing": ImageEnhance.Brightness, "SharpnessIncreasing": ImageEnhance.Sharpness}
    if name in enhancers:
        return enhancers[name](img).enhance(max(0.1, 1 + negate_half(level * 0.9)))
    if name == "ShearX":
        return affine(img, (1, negate_half(level * 0.3), 0, 0, 1, 0))
    if name == "ShearY":
        return affine(img, (1, 0, 0, negate_half(level * 0.3), 1, 0))
    if name == "TranslateXRel":
        return affine(img, (1, 0, negate_half(level * 0.45) * img.size[0], 0, 1, 0))
    if name == "TranslateYRel":
        return affine(img, (1, 0, 0, 0, 1, negate_half(level * 0.45) * img.size[1]))
    raise ValueError(name)


class RandAugmentInc:
    """rand-m{m}-mstd{std}-inc1: 2 ops chosen with replacement, each applied with p 0.5 at a noisy magnitude."""

    def __init__(self, magnitude, magnitude_std):
        self.magnitude = magnitude
        self.magnitude_std = magnitude_std

    def __call__(self, img):
        for name in random.choices(INCREASING_OPS, k=2):
            if random.random() > 0.5:
                continue
            magnitude = random.gauss(self.magnitude, self.magnitude_std) if self.magnitude_std > 0 else self.magnitude
            img = apply_op(img, name, max(0.0, min(magnitude, 10.0)))
        return img


class RandomErasingPixel:
    """timm RandomErasing(p, mode='pixel', max_count=1) on a normalised CHW tensor."""

    def __init__(self, probability):
        self.probability = probability

    def __call__(self, x):
        if random.random() > self.probability:
            return x
        channels, height, width = x.shape
        for _ in range(10):
            target_area = random.uniform(0.02, 1 / 3) * height * width
            aspect = math.exp(random.uniform(math.log(0.3), math.log(1 / 0.3)))
            h = int(round(math.sqrt(target_area * aspect)))
            w = int(round(math.sqrt(target_area / aspect)))
            if w < width and h < height:
                top = random.randint(0, height - h)
                left = random.randint(0, width - w)
                x[:, top:top + h, left:left + w] = torch.empty((channels, h, w)).normal_()
                break
        return x


def parse_aa(spec):
    """Only the form this benchmark uses: rand-m<int>-mstd<float>-inc1."""
    parts = dict((p.rstrip("0123456789."), p[len(p.rstrip("0123456789.")):]) for p in spec.split("-")[1:])
    if not spec.startswith("rand-") or parts.get("inc") != "1" or set(parts) - {"m", "mstd", "inc"}:
        raise SystemExit(f"--aa {spec}: this benchmark twin knows only rand-m<M>-mstd<S>-inc1")
    return int(parts["m"]), float(parts.get("mstd", "0"))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data_path", required=True)
    parser.add_argument("--num_workers", type=int, default=2)
    parser.add_argument("--batch_size", type=int, default=64)
    parser.add_argument("--input_size", type=int, default=224)
    parser.add_argument("--aa", default="rand-m7-mstd0.5-inc1")
    parser.add_argument("--reprob", type=float, default=0.25)
    parser.add_argument("--passes", type=int, default=3)
    args = parser.parse_args()

    magnitude, magnitude_std = parse_aa(args.aa)
    transform = transforms.Compose([
        transforms.RandomResizedCrop(args.input_size, scale=(0.08, 1.0), ratio=(3 / 4, 4 / 3),
                                     interpolation=transforms.InterpolationMode.BICUBIC),
        transforms.RandomHorizontalFlip(0.5),
        RandAugmentInc(magnitude, magnitude_std),
        transforms.ToTensor(),
        transforms.Normalize(MEAN, STD),
        RandomErasingPixel(args.reprob),
    ])
    dataset = datasets.ImageFolder(f"{args.data_path}/train", transform=transform)
    loader = DataLoader(dataset, batch_size=args.batch_size, shuffle=True, num_workers=args.num_workers, drop_last=True)
    passes = []
    for _ in range(args.passes):
        images, start = 0, None
        for batch, _labels in loader:
            if start is None:
                start = time.perf_counter()
                continue
            images += batch.shape[0]
        passes.append({"images": images, "seconds": time.perf_counter() - start})
    print(json.dumps({
        "torch": torch.__version__, "torchvision": __import__("torchvision").__version__, "pil": Image.__version__,
        "num_workers": args.num_workers, "batch_size": args.batch_size, "input_size": args.input_size,
        "aa": args.aa, "reprob": args.reprob, "images": len(dataset),
        "imagesPerSecond": statistics.median(p["images"] / p["seconds"] for p in passes), "passes": passes,
    }))


if __name__ == "__main__":
    main()
