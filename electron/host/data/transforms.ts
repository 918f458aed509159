// Image transforms: JPEGs decoded and cropped/resized by the engine (libjpeg-turbo, PIL's resize:
// native/src/image/resized_crop.h), other files decoded and resized with sharp (libvips) to 8-bit
// sRGB; the pixel work in the engine (native/src/image), ending in normalised float32 HWC written
// where the caller asks (loadImageInto), or stopping at the 8-bit pixels and the RandomErasing draw
// (loadPixelsInto) for a loader whose batches are normalised and erased on the training device
// (the engine's normalizeEraseBatch, the same floats). Evaluation (the official build_transform, from
// ConvNeXt's datasets.py): resize the shorter side to floor(size / crop_pct), centre-crop size x size;
// at input_size >= 384 a warp instead, Resize((size, size)) of the whole image, its aspect ratio not
// kept, nothing cropped and crop_pct unused. Training (timm's create_transform): torchvision's RandomResizedCrop
// (bilinear, bicubic or a random one of the two per sample), a horizontal flip, timm's RandAugment
// or AugMix (or, with --aa none, torchvision's ColorJitter), ToTensor + Normalize in float32, timm's
// RandomErasing. Normalize takes the transform's mean and std: timm's ImageNet default, or the
// Inception 0.5/0.5 of --imagenet_default_mean_and_std false, whose mean also sets RandAugment's
// fill colour. At input_size <= 32 the official build_transform resizes nothing (small_input.ts):
// training crops the zero-padded whole image (torchvision's RandomCrop, padding 4) in place of
// RandomResizedCrop, evaluation takes each image as it is. Every random decision comes from the
// sample's Random stream in a fixed order, so a sample is the same on any thread.
// A file that cannot become an image (truncated, corrupt, empty, not an image, over the pixel limit)
// raises BadImageError and nothing else; alpha is dropped and grey, palette, CMYK and 16-bit images
// become 8-bit RGB, as PIL's convert('RGB') gives torchvision's ImageFolder (image_file.ts).
// On a JPEG the eval transform is timm's on PIL bit for bit, and so is the training crop unless it
// is at least twice the output size (then the IDCT shrinks it first, as PIL's draft() would). Not here: PIL's resize
// for other formats (libvips' resize is close, not bit-exact).
import type { Metadata, Sharp } from 'sharp';
import { loadEngine, type JpegResizedCropParams, type SampleErase } from '../engine/addon';
import { applyAugMix, drawAugMix, parseAugMix, type AugMixConfig } from './augment/aug_mix';
import { drawRandAugment, parseRandAugment, randAugmentHparams, type RandAugmentConfig } from './augment/rand_augment';
import { drawColorJitter } from './augment/color_jitter';
import { drawErasing, randomErasingConfig, type RandomErasingConfig } from './augment/random_erasing';
import { randint, roundHalfEven, uniform } from './augment/python_numbers';
import { BadImageError, DEFAULT_PIXEL_LIMIT } from './bad_image';
import { checkPixelLimit, decodeWholeImage, errorReason, isJpeg, openImage, rawPixels, readImageFile } from './image_file';
import { checkUnresizedSize, drawPaddedCrop, paddedCropInto, SMALL_INPUT_MAX, SMALL_INPUT_PADDING } from './small_input';
import type { Random } from './sample_random';

export const IMAGENET_MEAN = [0.485, 0.456, 0.406] as const;
export const IMAGENET_STD = [0.229, 0.224, 0.225] as const;
export const INCEPTION_MEAN = [0.5, 0.5, 0.5] as const;
export const INCEPTION_STD = [0.5, 0.5, 0.5] as const;

/** The per-channel mean and std (of 0..1 pixels) that ToTensor + Normalize use. */
export interface Normalization {
  mean: [number, number, number];
  std: [number, number, number];
}

/** timm's IMAGENET_DEFAULT_MEAN/STD, the official --imagenet_default_mean_and_std true (the default). */
export const IMAGENET_DEFAULT: Normalization = { mean: [...IMAGENET_MEAN], std: [...IMAGENET_STD] };
/** timm's IMAGENET_INCEPTION_MEAN/STD, the official --imagenet_default_mean_and_std false. */
export const IMAGENET_INCEPTION: Normalization = { mean: [...INCEPTION_MEAN], std: [...INCEPTION_STD] };

/** The official datasets.py's build_transform: the ImageNet mean and std, else the Inception ones. */
export function normalizationFor(imagenetDefaultMeanAndStd: boolean): Normalization {
  return imagenetDefaultMeanAndStd ? IMAGENET_DEFAULT : IMAGENET_INCEPTION;
}

/** The same mean and std, channel by channel. */
export function sameNormalization(a: Normalization, b: Normalization): boolean {
  return a.mean.every((m, c) => m === b.mean[c]) && a.std.every((s, c) => s === b.std[c]);
}

/** A transform's normalisation: absent means the ImageNet default. */
export function transformNormalization(transform: Transform): Normalization {
  return transform.normalization ?? IMAGENET_DEFAULT;
}

export type Interpolation = 'bicubic' | 'bilinear';

export interface EvalTransform {
  kind: 'eval';
  size: number;
  cropPct: number;
  interpolation: Interpolation;
  /**
   * false: no Resize and CenterCrop, only ToTensor + Normalize (the official build_transform at
   * input_size <= 32), so every image must be size x size. Absent: true.
   */
  resize?: boolean;
  /**
   * true: Resize((size, size)), the whole image stretched to size x size with no centre crop and
   * cropPct unused (the official build_transform at input_size >= 384, its "warping"). Absent: false.
   */
  warp?: boolean;
  /** Absent: the ImageNet default. */
  normalization?: Normalization;
}

/** Plain data, so it crosses to loader worker threads as it is. */
export interface TrainTransform {
  kind: 'train';
  size: number;
  scale: [number, number];
  ratio: [number, number];
  hflip: number;
  /**
   * torchvision RandomCrop(size, padding) in place of RandomResizedCrop (the official build_transform
   * at input_size <= 32): scale, ratio and the crop's interpolation are then unused.
   */
  paddedCrop?: { padding: number };
  /** 'random': bilinear or bicubic drawn per sample for the crop, and per op for RandAugment's geometric ops. */
  interpolation: Interpolation | 'random';
  /** timm RandAugment (--aa rand-…); absent: none. */
  randAugment?: RandAugmentConfig;
  /** timm AugMix (--aa augmix-…); absent: none. */
  augMix?: AugMixConfig;
  /** torchvision ColorJitter's j for brightness, contrast and saturation; only without --aa, as in timm. */
  colorJitter?: number;
  /** timm RandomErasing; absent: none (--reprob 0). */
  erasing?: RandomErasingConfig;
  /** Normalize's mean and std, whose mean is also RandAugment's fill colour. Absent: the ImageNet default. */
  normalization?: Normalization;
}

export type Transform = EvalTransform | TrainTransform;

/** The training flags of the official script that shape the transform. */
export interface TrainTransformFlags {
  input_size: number;
  scale: [number, number];
  hflip: number;
  train_interpolation: string;
  aa: string | null | undefined;
  /** Absent: 0 (no jitter). */
  color_jitter?: number;
  reprob: number;
  remode: string;
  recount: number;
  /** Absent: true (the ImageNet mean and std). */
  imagenet_default_mean_and_std?: boolean;
}

/** timm's create_transform(is_training=True) from the script's flags; throws naming a bad flag. */
export function trainTransformFromFlags(flags: TrainTransformFlags): TrainTransform {
  const interpolation = flags.train_interpolation;
  if (interpolation !== 'bicubic' && interpolation !== 'bilinear' && interpolation !== 'random') {
    throw new Error(`--train_interpolation must be bicubic, bilinear or random, got '${interpolation}'`);
  }
  const transform: TrainTransform = { kind: 'train', size: flags.input_size, scale: flags.scale, ratio: [3 / 4, 4 / 3], hflip: flags.hflip, interpolation };
  if (flags.aa?.startsWith('augmix')) transform.augMix = parseAugMix(flags.aa);
  else if (flags.aa && flags.aa !== 'none') transform.randAugment = parseRandAugment(flags.aa);
  else if (flags.color_jitter) transform.colorJitter = flags.color_jitter;
  if (flags.reprob > 0) transform.erasing = randomErasingConfig(flags.reprob, flags.remode, flags.recount);
  transform.normalization = normalizationFor(flags.imagenet_default_mean_and_std ?? true);
  // datasets.py: `if not resize_im: transform.transforms[0] = transforms.RandomCrop(args.input_size, padding=4)`.
  if (flags.input_size <= SMALL_INPUT_MAX) transform.paddedCrop = { padding: SMALL_INPUT_PADDING };
  return transform;
}

/** The flags of the official script that shape the evaluation transform. */
export interface EvalTransformFlags {
  input_size: number;
  /** Absent or null: 224 / 256, as the official script sets it. */
  crop_pct?: number | null;
  /** Absent: true (the ImageNet mean and std). */
  imagenet_default_mean_and_std?: boolean;
}

/** At or above this input size the official evaluation warps: `if args.input_size >= 384` in build_transform. */
export const WARP_MIN = 384;

/**
 * The official build_transform(is_train=False): Resize(input_size / crop_pct, bicubic) + CenterCrop;
 * nothing at input_size <= 32; Resize((input_size, input_size), bicubic) at input_size >= 384.
 */
export function evalTransformFromFlags(flags: EvalTransformFlags): EvalTransform {
  const transform: EvalTransform = { kind: 'eval', size: flags.input_size, cropPct: flags.crop_pct ?? 224 / 256, interpolation: 'bicubic',
    normalization: normalizationFor(flags.imagenet_default_mean_and_std ?? true) };
  if (flags.input_size <= SMALL_INPUT_MAX) transform.resize = false;
  else if (flags.input_size >= WARP_MIN) transform.warp = true;
  return transform;
}

/**
 * What the official script prints about this evaluation transform (its "Warping N size input
 * images..."), said in full; undefined for the resize and centre crop, which it prints nothing about.
 */
export function evalTransformNote(transform: EvalTransform): string | undefined {
  if (!transform.warp || transform.resize === false) return undefined;
  return `Warping ${transform.size} size input images...: evaluation at --input_size ${transform.size} (>= ${WARP_MIN}) resizes each whole image ` +
    `to ${transform.size}x${transform.size} (bicubic), its aspect ratio not kept, without a centre crop (--crop_pct unused), as the official build_transform does`;
}

export interface LoadOptions {
  /** Images with more pixels (by their header) are refused before decoding. Default DEFAULT_PIXEL_LIMIT. */
  pixelLimit?: number;
}

const KERNEL = { bicubic: 'cubic', bilinear: 'linear' } as const;

interface Crop {
  left: number;
  top: number;
  width: number;
  height: number;
}

/** torchvision RandomResizedCrop.get_params (Python's rounding and inclusive randint). */
export function randomResizedCrop(width: number, height: number, scale: [number, number], ratio: [number, number], random: Random): Crop {
  const area = width * height;
  const logRatio = [Math.log(ratio[0]), Math.log(ratio[1])] as const;
  for (let attempt = 0; attempt < 10; attempt++) {
    const targetArea = area * uniform(random, scale[0], scale[1]);
    const aspect = Math.exp(uniform(random, logRatio[0], logRatio[1]));
    const w = roundHalfEven(Math.sqrt(targetArea * aspect));
    const h = roundHalfEven(Math.sqrt(targetArea / aspect));
    if (w > 0 && h > 0 && w <= width && h <= height) {
      const top = randint(random, 0, height - h);
      return { top, left: randint(random, 0, width - w), width: w, height: h };
    }
  }
  // Fallback: the largest centred crop whose aspect ratio lies within `ratio`.
  const inRatio = width / height;
  let w = width;
  let h = height;
  if (inRatio < Math.min(...ratio)) h = roundHalfEven(w / Math.min(...ratio));
  else if (inRatio > Math.max(...ratio)) w = roundHalfEven(h * Math.max(...ratio));
  return { top: Math.floor((height - h) / 2), left: Math.floor((width - w) / 2), width: w, height: h };
}

/**
 * The training crop and resize. For a JPEG whose crop is at least twice the output size both ways,
 * the whole image is resized and the crop extracted after, so libvips can shrink the JPEG while
 * decoding it (its DCT scaling); the crop then lands within half an output pixel of where the
 * crop-then-resize order puts it.
 */
function trainGeometry(image: Sharp, meta: Metadata, crop: Crop, size: number, kernel: 'cubic' | 'linear'): Sharp {
  const { width, height } = meta as { width: number; height: number };
  if (meta.format === 'jpeg' && crop.width >= 2 * size && crop.height >= 2 * size) {
    const sx = size / crop.width;
    const sy = size / crop.height;
    const scaledWidth = Math.max(size, Math.round(width * sx));
    const scaledHeight = Math.max(size, Math.round(height * sy));
    const left = Math.min(Math.round(crop.left * sx), scaledWidth - size);
    const top = Math.min(Math.round(crop.top * sy), scaledHeight - size);
    return image.resize(scaledWidth, scaledHeight, { fit: 'fill', kernel }).extract({ left, top, width: size, height: size });
  }
  return image.extract(crop).resize(size, size, { fit: 'fill', kernel });
}

/**
 * timm's eval geometry: torchvision's Resize(floor(size / crop_pct)) (the shorter side to that, the
 * longer one int(short * long / short) truncated) then CenterCrop(size) (offsets int(round(d / 2.0)),
 * Python's round half to even). A warp: Resize((size, size)), the whole image to size x size, PIL's
 * img.resize((size, size)), and nothing cut off.
 */
function evalGeometry(t: EvalTransform, width: number, height: number): { width: number; height: number; left: number; top: number } {
  if (t.warp) return { width: t.size, height: t.size, left: 0, top: 0 };
  const scaled = Math.floor(t.size / t.cropPct);
  const [w, h] = width <= height ? [scaled, Math.floor((scaled * height) / width)] : [Math.floor((scaled * width) / height), scaled];
  return { width: w, height: h, left: roundHalfEven((w - t.size) / 2), top: roundHalfEven((h - t.size) / 2) };
}

/** One training sample's crop, interpolation and flip, drawn in timm's order (the order is part of the sample's identity). */
function drawTrainGeometry(t: TrainTransform, width: number, height: number, random: Random): { crop: Crop; interpolation: Interpolation; flip: boolean } {
  const crop = randomResizedCrop(width, height, t.scale, t.ratio, random);
  // timm's RandomResizedCropAndInterpolation: random.choice of the interpolation after the crop.
  const interpolation = t.interpolation === 'random' ? (Math.floor(random() * 2) === 0 ? 'bilinear' : 'bicubic') : t.interpolation;
  return { crop, interpolation, flip: random() < t.hflip };
}

/**
 * The engine's path for a JPEG: header, geometry, a decode of only what the resize reads, PIL's
 * resize and the flip, in one call. Undefined when it does not apply (not a JPEG, a CMYK/YCCK
 * one, or an engine built without libjpeg): sharp decodes those.
 */
function jpegGeometry(path: string, file: Buffer, transform: Transform, random: Random | undefined, pixelLimit: number, out: Uint8Array): Uint8Array | undefined {
  const engine = loadEngine();
  if (!engine.jpegInfo || !engine.jpegResizedCrop || !isJpeg(file)) return undefined;
  let info: { width: number; height: number; rgb: boolean };
  try {
    info = engine.jpegInfo(file);
  } catch (error) {
    throw new BadImageError(path, `not a readable image (${errorReason(error)})`);
  }
  if (!info.rgb) return undefined;
  checkPixelLimit(path, info.width, info.height, pixelLimit);
  const { size } = transform;
  let params: JpegResizedCropParams;
  if (transform.kind === 'eval') {
    const g = evalGeometry(transform, info.width, info.height);
    // No DCT scaling: validation accuracy stays comparable with timm's, bit for bit.
    params = { left: 0, top: 0, width: info.width, height: info.height, resizeWidth: g.width, resizeHeight: g.height, outLeft: g.left, outTop: g.top, resample: transform.interpolation, dctScaling: false };
  } else {
    const { crop, interpolation, flip } = drawTrainGeometry(transform, info.width, info.height, random!);
    params = { ...crop, resizeWidth: size, resizeHeight: size, resample: interpolation, flip };
  }
  try {
    engine.jpegResizedCrop(file, out, size, size, params);
  } catch (error) {
    throw new BadImageError(path, `cannot be decoded (${errorReason(error)})`);
  }
  return out;
}

/** Whether the transform resizes nothing: the official one at input_size <= 32 (small_input.ts). */
function unresized(transform: Transform): boolean {
  return transform.kind === 'train' ? transform.paddedCrop !== undefined : transform.resize === false;
}

/**
 * The small-input geometry: in training the padded random crop and then the flip, drawn in that
 * order as timm's pipeline applies them (no interpolation is drawn: RandomCrop has none); in
 * evaluation the image itself, which must be size x size.
 */
function unresizedGeometry(image: DecodedImage, transform: Transform, random: Random | undefined, out: Uint8Array): void {
  const { size } = transform;
  const { name, pixels, width, height } = image;
  if (transform.kind === 'eval') {
    checkUnresizedSize(name, width, height, size);
    out.set(pixels);
    return;
  }
  const { padding } = transform.paddedCrop!;
  const crop = drawPaddedCrop(name, width, height, size, padding, random!);
  paddedCropInto(pixels, width, height, padding, crop, random!() < transform.hflip, size, out);
}

/**
 * The geometry of an image already decoded (CIFAR's, held in memory) by the engine's PIL resize, as
 * torchvision applies it to the PIL image such a dataset makes: evaluation resizes the whole image
 * and takes the centre window; training resizes the crop alone, so the filter reads nothing past it.
 */
function decodedGeometry(image: DecodedImage, transform: Transform, random: Random | undefined, out: Uint8Array): void {
  const { size } = transform;
  const { pixels, width, height } = image;
  const engine = loadEngine();
  if (transform.kind === 'eval') {
    const g = evalGeometry(transform, width, height);
    engine.resizeImage(pixels, width, height, out, size, size,
      { resizeWidth: g.width, resizeHeight: g.height, outLeft: g.left, outTop: g.top, resample: transform.interpolation });
    return;
  }
  const { crop, interpolation, flip } = drawTrainGeometry(transform, width, height, random!);
  const cropped = new Uint8Array(crop.width * crop.height * 3);
  for (let y = 0; y < crop.height; y++) {
    const from = ((crop.top + y) * width + crop.left) * 3;
    cropped.set(pixels.subarray(from, from + crop.width * 3), y * crop.width * 3);
  }
  engine.resizeImage(cropped, crop.width, crop.height, out, size, size, { resample: interpolation, flip });
}

/** The sharp path: any format sharp reads, resized by libvips. */
async function sharpGeometry(path: string, file: Buffer, transform: Transform, random: Random | undefined, pixelLimit: number): Promise<Uint8Array> {
  const { size } = transform;
  const { image, meta, width, height } = await openImage(path, file, pixelLimit);
  let pipeline: Sharp;
  if (transform.kind === 'eval') {
    const g = evalGeometry(transform, width, height);
    pipeline = image.resize(g.width, g.height, { fit: 'fill', kernel: KERNEL[transform.interpolation] }).extract({ left: g.left, top: g.top, width: size, height: size });
  } else {
    const { crop, interpolation, flip } = drawTrainGeometry(transform, width, height, random!);
    pipeline = trainGeometry(image, meta, crop, size, KERNEL[interpolation]);
    if (flip) pipeline = pipeline.flop();
  }
  return rawPixels(path, pipeline, size, size);
}

/** An image already decoded: HWC pixels, and a name for messages. */
export interface DecodedImage {
  name: string;
  pixels: Uint8Array;
  width: number;
  height: number;
}

/** What the loading functions take: an image file's path, or an image already decoded. */
export type ImageSource = string | DecodedImage;

/**
 * Decodes one image (unless it already is) and applies the transform up to normalisation:
 * size*size*3 bytes (HWC) in `out` (which a JPEG is decoded into directly, so `out` may be a slot of
 * a batch), and the sample's RandomErasing draw (null: not erased), drawn last from `random` as timm
 * draws it.
 */
export async function loadPixelsInto(source: ImageSource, transform: Transform, random: Random | undefined, out: Uint8Array, options: LoadOptions = {}): Promise<SampleErase | null> {
  const { size } = transform;
  if (out.length !== size * size * 3) throw new Error(`loadPixelsInto: out holds ${out.length} bytes, not ${size}x${size}x3`);
  if (transform.kind === 'train' && !random) throw new Error('the training transform needs a random stream');
  const pixelLimit = options.pixelLimit ?? DEFAULT_PIXEL_LIMIT;
  if (typeof source !== 'string') {
    if (unresized(transform)) unresizedGeometry(source, transform, random, out);
    else decodedGeometry(source, transform, random, out);
  } else {
    const file = readImageFile(source);
    if (unresized(transform)) unresizedGeometry({ name: source, ...await decodeWholeImage(source, file, pixelLimit) }, transform, random, out);
    else if (!jpegGeometry(source, file, transform, random, pixelLimit, out)) out.set(await sharpGeometry(source, file, transform, random, pixelLimit));
  }
  if (transform.kind !== 'train') return null;
  const r = random!;
  const engine = loadEngine();
  const hparams = () => randAugmentHparams(size, transformNormalization(transform).mean, transform.interpolation);
  if (transform.augMix) {
    applyAugMix(out, drawAugMix(transform.augMix, hparams(), size, size, r), (pixels, ops) => engine.augmentImage(pixels, size, size, ops));
  } else {
    const ops = transform.randAugment ? drawRandAugment(transform.randAugment, hparams(), size, size, r)
      : transform.colorJitter ? drawColorJitter(transform.colorJitter, r) : [];
    if (ops.length > 0) engine.augmentImage(out, size, size, ops);
  }
  if (!transform.erasing) return null;
  const draw = drawErasing(transform.erasing, size, size, r);
  return draw && { ...draw, mode: transform.erasing.mode };
}

/**
 * Decodes one image, applies the transform and writes size*size*3 normalised floats (HWC) into
 * out[offset ...]: the loader's f32 path, which fills its batch buffer without a copy.
 */
export async function loadImageInto(source: ImageSource, transform: Transform, random: Random | undefined, out: Float32Array, offset: number, options: LoadOptions = {}): Promise<void> {
  const { size } = transform;
  if (offset < 0 || offset + size * size * 3 > out.length) throw new Error(`loadImageInto: ${size}x${size}x3 floats do not fit in ${out.length} at offset ${offset}`);
  const pixels = new Uint8Array(size * size * 3);
  const erase = await loadPixelsInto(source, transform, random, pixels, options);
  const { mean, std } = transformNormalization(transform);
  loadEngine().normalizeErase(pixels, size, size, out, offset, { mean, std, ...erase });
}

/** Decodes one image and applies the transform: size*size*3 normalised floats, HWC. */
export async function loadImage(source: ImageSource, transform: Transform, random: Random | undefined, options: LoadOptions = {}): Promise<Float32Array> {
  const out = new Float32Array(transform.size * transform.size * 3);
  await loadImageInto(source, transform, random, out, 0, options);
  return out;
}
