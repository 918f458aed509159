// The official build_transform's branch for small inputs (datasets.py, from ConvNeXt: resize_im =
// input_size > 32). At input_size <= 32 training replaces timm's RandomResizedCrop with
// torchvision's RandomCrop(input_size, padding=4): the whole image, zero-padded by 4 pixels on every
// side, cropped at a random offset without any resizing. Evaluation has no Resize or CenterCrop:
// ToTensor + Normalize of the image as it is, so every image must already be input_size square
// (the official loader would otherwise stack tensors of different sizes and fail to batch).
// Pixel work stays in plain loops here: it only copies bytes of small images, no filtering.
// checkEvalImageSizes reads the header of one image per evaluation class before a run trains, so
// that a folder of the wrong size is refused at once rather than after the first epoch.
import { torchRandint } from './augment/python_numbers';
import type { ImageFolder, Sample } from './image_folder';
import { sharp } from './image_file';
import type { Random } from './sample_random';

/** resize_im = args.input_size > 32: at or below this size neither training nor evaluation resizes. */
export const SMALL_INPUT_MAX = 32;
/** transforms.RandomCrop(args.input_size, padding=4). */
export const SMALL_INPUT_PADDING = 4;

/** Where the crop starts in the padded image, (padded) pixels from its top-left corner. */
export interface PaddedCrop {
  top: number;
  left: number;
}

/**
 * torchvision RandomCrop.get_params on the image after F.pad: the top offset drawn first, then the
 * left, each by torch.randint(0, padded - size + 1); nothing is drawn when the padded image is
 * exactly size x size. Throws (naming the file) where torchvision raises: a padded image smaller
 * than the crop.
 */
export function drawPaddedCrop(path: string, width: number, height: number, size: number, padding: number, random: Random): PaddedCrop {
  const paddedWidth = width + 2 * padding;
  const paddedHeight = height + 2 * padding;
  if (paddedWidth < size || paddedHeight < size) {
    throw new Error(`${path}: ${width}x${height} (${paddedWidth}x${paddedHeight} with the ${padding}-pixel padding) is smaller than the ` +
      `${size}x${size} random crop of --input_size ${size}: torchvision's RandomCrop refuses it, as the official script would`);
  }
  if (paddedWidth === size && paddedHeight === size) return { top: 0, left: 0 };
  const top = torchRandint(random, 0, paddedHeight - size + 1);
  return { top, left: torchRandint(random, 0, paddedWidth - size + 1) };
}

/**
 * The crop of `src` (height, width, 3), padded by `padding` zero pixels on every side (F.pad's
 * constant fill 0), into `out` (size, size, 3), mirrored left to right when `flip` (the horizontal
 * flip that follows the crop in timm's pipeline).
 */
export function paddedCropInto(src: Uint8Array, width: number, height: number, padding: number, crop: PaddedCrop,
  flip: boolean, size: number, out: Uint8Array): void {
  for (let y = 0; y < size; y++) {
    const sy = crop.top + y - padding;
    for (let x = 0; x < size; x++) {
      const o = (y * size + x) * 3;
      const sx = crop.left + (flip ? size - 1 - x : x) - padding;
      if (sy < 0 || sy >= height || sx < 0 || sx >= width) {
        out[o] = out[o + 1] = out[o + 2] = 0;
      } else {
        const i = (sy * width + sx) * 3;
        out[o] = src[i]!;
        out[o + 1] = src[i + 1]!;
        out[o + 2] = src[i + 2]!;
      }
    }
  }
}

/** An image of another size than evaluation at --input_size <= 32 takes: the data's or the request's mistake, not the host's. */
export class ImageSizeError extends Error {
  constructor(readonly path: string, readonly reason: string) {
    super(`${path}: ${reason}`);
    this.name = 'ImageSizeError';
  }
}

/** ToTensor without Resize/CenterCrop: an image of any other size than the input is refused by name. */
export function checkUnresizedSize(path: string, width: number, height: number, size: number): void {
  if (width !== size || height !== size) {
    throw new ImageSizeError(path, `the image is ${width}x${height}, but evaluation at --input_size ${size} (<= ${SMALL_INPUT_MAX}) takes images ` +
      `as they are, without Resize or CenterCrop, as the official build_transform does: every evaluation image must be ${size}x${size}. ` +
      `Resize the evaluation images to ${size}x${size}, or pass an --input_size above ${SMALL_INPUT_MAX} (resize and centre crop)`);
  }
}

/** The size in an image file's header (sharp reads only the header); undefined where there is none to read. */
async function headerSize(path: string): Promise<{ width: number; height: number } | undefined> {
  try {
    const { width, height } = await sharp(path, { limitInputPixels: false }).metadata();
    return width && height ? { width, height } : undefined;
  } catch {
    return undefined;
  }
}

/** How many classes have their headers read at once. */
const HEADER_CONCURRENCY = 16;

/**
 * Before a run at --input_size <= 32 trains: the first image of each class of the evaluation folder
 * whose header can be read must be size x size, or the error of checkUnresizedSize (naming the file)
 * is thrown now rather than at the first evaluation. Only headers are read, one file per class in the
 * usual case; files without a readable header are passed over (the loader names them as bad files).
 */
export async function checkEvalImageSizes(folder: Pick<ImageFolder, 'samples'>, size: number): Promise<void> {
  const byClass = new Map<number, Sample[]>();
  for (const sample of folder.samples) {
    const samples = byClass.get(sample.label);
    if (samples) samples.push(sample);
    else byClass.set(sample.label, [sample]);
  }
  const classes = [...byClass.values()];
  for (let start = 0; start < classes.length; start += HEADER_CONCURRENCY) {
    const found = await Promise.all(classes.slice(start, start + HEADER_CONCURRENCY).map(async (samples) => {
      for (const { path, packed } of samples) {
        const header = packed ? packed.images : await headerSize(path);
        if (header) return { path, width: header.width, height: header.height };
      }
      return undefined;
    }));
    for (const image of found) if (image) checkUnresizedSize(image.path, image.width, image.height, size);
  }
}
