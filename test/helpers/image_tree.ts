// Small ImageNet-layout folders for the data tests: real JPEG and PNG images made with sharp from
// smooth synthetic content, and, on request, planted bad files of the kinds found in the wild (a
// truncated JPEG, a zero-byte file, a text file named .jpg, a PNG with a corrupt body).
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';

/** A w x h RGB image whose content depends on `seed`: gradients and a bright square. */
export function syntheticPixels(width: number, height: number, seed: number): Buffer {
  const pixels = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const square = Math.abs(x - ((seed * 7) % width)) < width / 5 && Math.abs(y - ((seed * 3) % height)) < height / 5;
      const o = (y * width + x) * 3;
      pixels[o] = square ? 250 : (x * 255) / width;
      pixels[o + 1] = (y * 255) / height;
      pixels[o + 2] = (seed * 37 + x + y) % 256;
    }
  }
  return pixels;
}

export async function writeImage(path: string, seed: number, format: 'jpeg' | 'png', width = 40, height = 30): Promise<Buffer> {
  mkdirSync(join(path, '..'), { recursive: true });
  const image = sharp(syntheticPixels(width, height, seed), { raw: { width, height, channels: 3 } });
  const bytes = await (format === 'jpeg' ? image.jpeg({ quality: 90 }) : image.png()).toBuffer();
  writeFileSync(path, bytes);
  return bytes;
}

export interface PlantedTree {
  root: string;
  /** Paths of the planted bad files under train/, sorted. */
  bad: string[];
}

/**
 * data/train/{a,b}/ with `perClass` good images each (alternating JPEG and PNG) and data/val/{a,b}/
 * with two each; with `plant`, four bad files join train/ (two per class).
 */
export async function imageTree(perClass: number, plant: boolean): Promise<PlantedTree> {
  const root = mkdtempSync(join(tmpdir(), 'pix-images-'));
  let seed = 0;
  for (const [split, count] of [['train', perClass], ['val', 2]] as const) {
    for (const cls of ['a', 'b']) {
      for (let i = 0; i < count; i++) {
        const format = i % 2 === 0 ? 'jpeg' : 'png';
        await writeImage(join(root, split, cls, `${cls}${String(i).padStart(3, '0')}.${format === 'jpeg' ? 'JPEG' : 'png'}`), seed++, format);
      }
    }
  }
  if (!plant) return { root, bad: [] };
  const jpeg = await sharp(syntheticPixels(64, 48, 99), { raw: { width: 64, height: 48, channels: 3 } }).jpeg({ quality: 90 }).toBuffer();
  const png = await sharp(syntheticPixels(64, 48, 98), { raw: { width: 64, height: 48, channels: 3 } }).png().toBuffer();
  const corruptPng = Buffer.from(png);
  corruptPng.fill(0x5a, 40);  // keeps the signature and IHDR, ruins the image data and its CRCs
  const planted: [string, Buffer][] = [
    [join(root, 'train', 'a', 'a000_truncated.JPEG'), jpeg.subarray(0, Math.floor(jpeg.length / 2))],
    [join(root, 'train', 'a', 'a001_empty.jpg'), Buffer.alloc(0)],
    [join(root, 'train', 'b', 'b000_text.jpg'), Buffer.from('this is not an image\n')],
    [join(root, 'train', 'b', 'b001_corrupt.png'), corruptPng],
  ];
  for (const [path, bytes] of planted) writeFileSync(path, bytes);
  return { root, bad: planted.map(([path]) => path).sort() };
}
