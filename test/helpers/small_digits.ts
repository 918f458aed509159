// A small copy of the embedded demo digits for tests that train or evaluate for real: the first
// `train` images of each digit to train on and `val` to validate, in the ImageNet layout.
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
