// Image transforms with sharp (libvips), producing normalised float32 HWC pixels.
// Evaluation: resize the shorter side to floor(size / crop_pct), centre-crop size x size (timm's
// eval transform). Training: RandomResizedCrop (torchvision's parameter draw: 10 tries of an area
// fraction from `scale` and a log-uniform aspect ratio from `ratio`, else a centre crop) and an
// optional horizontal flip. timm's RandAugment and RandomErasing are not here yet.
import type { Sharp } from 'sharp';
import type { Random } from './sample_random';

export const IMAGENET_MEAN = [0.485, 0.456, 0.406] as const;
export const IMAGENET_STD = [0.229, 0.224, 0.225] as const;

export type Interpolation = 'bicubic' | 'bilinear';

export interface EvalTransform {
  kind: 'eval';
  size: number;
  cropPct: number;
  interpolation: Interpolation;
}

export interface TrainTransform {
  kind: 'train';
  size: number;
  scale: [number, number];
  ratio: [number, number];
  hflip: number;
  interpolation: Interpolation;
}

export type Transform = EvalTransform | TrainTransform;

const KERNEL = { bicubic: 'cubic', bilinear: 'linear' } as const;

// sharp (libvips) loads on first use, so commands that never decode images (`pix info` on a GPU
// machine without npm's packages) do not need it installed.
type SharpFactory = typeof import('sharp').default;
let sharpFactory: SharpFactory | undefined;
function sharp(...args: Parameters<SharpFactory>): Sharp {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- deferred load, see above
  sharpFactory ??= require('sharp') as SharpFactory;  // the CommonJS entry exports the factory itself
  return sharpFactory(...args);
}

interface Crop {
  left: number;
  top: number;
  width: number;
  height: number;
}

/** torchvision RandomResizedCrop.get_params. */
export function randomResizedCrop(width: number, height: number, scale: [number, number], ratio: [number, number], random: Random): Crop {
  const area = width * height;
  const logRatio = [Math.log(ratio[0]), Math.log(ratio[1])];
  for (let attempt = 0; attempt < 10; attempt++) {
    const targetArea = area * (scale[0] + random() * (scale[1] - scale[0]));
    const aspect = Math.exp(logRatio[0]! + random() * (logRatio[1]! - logRatio[0]!));
    const w = Math.round(Math.sqrt(targetArea * aspect));
    const h = Math.round(Math.sqrt(targetArea / aspect));
    if (w > 0 && h > 0 && w <= width && h <= height) {
      return { top: Math.floor(random() * (height - h + 1)), left: Math.floor(random() * (width - w + 1)), width: w, height: h };
    }
  }
  // Fallback: the largest centred crop whose aspect ratio lies within `ratio`.
  const inRatio = width / height;
  let w = width;
  let h = height;
  if (inRatio < ratio[0]) h = Math.round(w / ratio[0]);
  else if (inRatio > ratio[1]) w = Math.round(h * ratio[1]);
  return { top: Math.floor((height - h) / 2), left: Math.floor((width - w) / 2), width: w, height: h };
}

/** Decodes one image and applies the transform: size*size*3 normalised floats, HWC. */
export async function loadImage(path: string, transform: Transform, random: Random | undefined): Promise<Float32Array> {
  const image = sharp(path, { failOn: 'error', limitInputPixels: 1 << 28 }).removeAlpha().toColourspace('srgb');
  const { width, height } = await image.metadata();
  if (!width || !height) throw new Error(`${path}: cannot read the image size`);
  const kernel = KERNEL[transform.interpolation];
  let pipeline: Sharp;
  if (transform.kind === 'eval') {
    const scaled = Math.floor(transform.size / transform.cropPct);
    const [w, h] = width <= height ? [scaled, Math.round((height * scaled) / width)] : [Math.round((width * scaled) / height), scaled];
    const left = Math.floor((w - transform.size) / 2);
    const top = Math.floor((h - transform.size) / 2);
    pipeline = image.resize(w, h, { fit: 'fill', kernel }).extract({ left, top, width: transform.size, height: transform.size });
  } else {
    if (!random) throw new Error('the training transform needs a random stream');
    const crop = randomResizedCrop(width, height, transform.scale, transform.ratio, random);
    pipeline = image.extract(crop).resize(transform.size, transform.size, { fit: 'fill', kernel });
    if (random() < transform.hflip) pipeline = pipeline.flop();
  }
  const pixels = await pipeline.raw().toBuffer();
  const out = new Float32Array(pixels.length);
  for (let i = 0; i < pixels.length; i++) {
    const c = i % 3;
    out[i] = (pixels[i]! / 255 - IMAGENET_MEAN[c]!) / IMAGENET_STD[c]!;
  }
  return out;
}
