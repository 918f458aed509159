// From a file's bytes to an image: reading the file, sharp (libvips) for any format it reads, and
// the engine's JPEG header and PIL-exact decode. Anything that cannot become an image (unreadable,
// truncated, empty, not an image, over the pixel limit by its header) is a BadImageError and
// nothing else. Every form becomes 8-bit RGB as PIL's convert('RGB') makes it (alpha dropped,
// never composited). The geometry and augmentation applied after are transforms.ts's.
import { readFileSync } from 'node:fs';
import type { Metadata, Sharp } from 'sharp';
import { loadEngine } from '../engine/addon';
import { BadImageError } from './bad_image';

// sharp (libvips) loads on first use, so commands that never decode images (`pix info` on a GPU
// machine without npm's packages) do not need it installed.
type SharpFactory = typeof import('sharp').default;
let sharpFactory: SharpFactory | undefined;
export function sharp(...args: Parameters<SharpFactory>): Sharp {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- deferred load, see above
  sharpFactory ??= require('sharp') as SharpFactory;  // the CommonJS entry exports the factory itself
  return sharpFactory(...args);
}

/** An error's message, for a BadImageError's reason. */
export function errorReason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Refuses an image by its header's size, before anything is decoded. */
export function checkPixelLimit(path: string, width: number, height: number, pixelLimit: number): void {
  if (width * height > pixelLimit) {
    throw new BadImageError(path, `${width}x${height} = ${width * height} pixels is above the pixel limit of ${pixelLimit}`);
  }
}

/** The whole file: the engine decodes from memory, and sharp then reads the same bytes. */
export function readImageFile(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new BadImageError(path, `not a readable image (${errorReason(error)})`);
  }
}

/** Opens a file's bytes with sharp and reads the header; anything that is not a usable image is a BadImageError. */
export async function openImage(path: string, file: Buffer, pixelLimit: number): Promise<{ image: Sharp; meta: Metadata; width: number; height: number }> {
  let image: Sharp;
  let meta: Metadata;
  try {
    // failOn 'truncated': a JPEG or PNG cut short is refused (libvips would pad it with grey), as
    // PIL refuses it. sharp's own pixel limit is off: the header check below refuses big images
    // before anything is decoded, with a message that says so.
    image = sharp(file, { failOn: 'truncated', limitInputPixels: false });
    meta = await image.metadata();
  } catch (error) {
    throw new BadImageError(path, `not a readable image (${errorReason(error)})`);
  }
  const { width, height } = meta;
  if (!width || !height) throw new BadImageError(path, 'the image header has no size');
  checkPixelLimit(path, width, height, pixelLimit);
  // PIL's convert('RGB'): alpha dropped, never composited; every colour space and depth to 8-bit sRGB.
  if (!meta.hasAlpha) return { image: image.removeAlpha().toColourspace('srgb'), meta, width, height };
  // libvips resizes RGBA premultiplied and drops alpha only at the end, which changes the colours
  // near transparent pixels; PIL drops alpha first. So images with alpha are decoded to RGB here.
  try {
    const { data, info } = await image.removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
    const rgb = sharp(data, { raw: { width: info.width, height: info.height, channels: info.channels } });
    return { image: rgb.toColourspace('srgb'), meta: { ...meta, format: 'raw' }, width, height };
  } catch (error) {
    throw new BadImageError(path, `cannot be decoded (${errorReason(error)})`);
  }
}

/** The JPEG signature (SOI and the next marker's 0xff). */
export function isJpeg(file: Uint8Array): boolean {
  return file.length >= 3 && file[0] === 0xff && file[1] === 0xd8 && file[2] === 0xff;
}

/** The whole image as 8-bit RGB (height, width, 3): the engine's PIL-exact JPEG decode where it applies, else sharp's. */
export async function decodeWholeImage(path: string, file: Buffer, pixelLimit: number): Promise<{ pixels: Uint8Array; width: number; height: number }> {
  const engine = loadEngine();
  if (engine.jpegInfo && engine.decodeJpeg && isJpeg(file)) {
    let info: { width: number; height: number; rgb: boolean };
    try {
      info = engine.jpegInfo(file);
    } catch (error) {
      throw new BadImageError(path, `not a readable image (${errorReason(error)})`);
    }
    if (info.rgb) {
      checkPixelLimit(path, info.width, info.height, pixelLimit);
      try {
        return { pixels: engine.decodeJpeg(file), width: info.width, height: info.height };
      } catch (error) {
        throw new BadImageError(path, `cannot be decoded (${errorReason(error)})`);
      }
    }
  }
  const { image, width, height } = await openImage(path, file, pixelLimit);
  return { pixels: await rawPixels(path, image, width, height), width, height };
}

/** A sharp pipeline run to 8-bit RGB bytes, which must come out width x height; a failure is a BadImageError. */
export async function rawPixels(path: string, pipeline: Sharp, width: number, height: number): Promise<Buffer> {
  let pixels: Buffer;
  let info: { width: number; height: number; channels: number };
  try {
    ({ data: pixels, info } = await pipeline.raw().toBuffer({ resolveWithObject: true }));
  } catch (error) {
    throw new BadImageError(path, `cannot be decoded (${errorReason(error)})`);
  }
  if (info.width !== width || info.height !== height || info.channels !== 3) {
    throw new Error(`${path}: decoding gave ${info.width}x${info.height}x${info.channels}, expected ${width}x${height}x3`);
  }
  return pixels;
}
