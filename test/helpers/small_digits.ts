// A small copy of the embedded demo digits for tests that train or evaluate for real: the first
// `train` images of each digit to train on and `val` to validate, in the ImageNet layout; at their
// own 28x28, or resized for runs at another --input_size (the official transforms resize nothing
// at input_size <= 32, so evaluation there needs images of exactly that size).
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { DEMO_DATASET } from '../../electron/host/train/demo_preset';

export function smallDigits(train = 30, val = 10): string {
  const root = mkdtempSync(join(tmpdir(), 'pix-digits-'));
  for (const [split, count] of [['train', train], ['val', val]] as const) {
    for (let digit = 0; digit < 10; digit++) {
      const from = join(DEMO_DATASET, split, String(digit));
      const to = join(root, split, String(digit));
      mkdirSync(to, { recursive: true });
      for (const file of readdirSync(from).sort().slice(0, count)) copyFileSync(join(from, file), join(to, file));
    }
  }
  return root;
}

/** smallDigits resized to size x size: the same runs on fewer pixels (CUDA tests on the emulator, whose time goes with them). */
export async function smallDigitsAt(size: number, train = 30, val = 10): Promise<string> {
  const root = smallDigits(train, val);
  for (const split of ['train', 'val']) {
    for (const digit of readdirSync(join(root, split))) {
      for (const file of readdirSync(join(root, split, digit))) {
        const path = join(root, split, digit, file);
        writeFileSync(path, await sharp(path).resize(size, size, { fit: 'fill' }).png().toBuffer());
      }
    }
  }
  return root;
}
