// torchvision's ColorJitter as timm's create_transform applies it: only when no auto-augment policy is
// set, with brightness, contrast and saturation each jittered by the script's --color_jitter j (hue
// untouched). The order of the three is a random permutation, and each factor is drawn uniformly
// from [max(0, 1 - j), 1 + j]; on PIL images torchvision applies them as PIL's ImageEnhance
// Brightness, Contrast and Color, which are the engine's brightness, contrast and color ops (the
// ones RandAugment uses). torchvision draws from torch's generator; this draws from the sample's
// stream, so the distribution is the same and the sequence is the workbench's own.
import type { ImageOp } from '../../engine/addon';
import type { Random } from '../sample_random';
import { uniform } from './python_numbers';

const ADJUSTMENTS = ['brightness', 'contrast', 'color'] as const;

/** The ops of one sample's jitter, in the order they apply; none when j is 0. */
export function drawColorJitter(j: number, random: Random): ImageOp[] {
  if (!(j >= 0) || !Number.isFinite(j)) throw new Error(`--color_jitter must be a number >= 0, got ${j}`);
  if (j === 0) return [];
  // torch.randperm(4) in get_params (hue's slot included, then skipped): a Fisher-Yates shuffle.
  const order = [0, 1, 2, 3];
  for (let i = order.length - 1; i > 0; i--) {
    const k = Math.floor(random() * (i + 1));
    [order[i], order[k]] = [order[k]!, order[i]!];
  }
  // The factors are drawn in get_params' order (brightness, contrast, saturation), before any applies.
  const factors = ADJUSTMENTS.map(() => uniform(random, Math.max(0, 1 - j), 1 + j));
  return order.filter((slot) => slot < ADJUSTMENTS.length).map((slot) => ({ op: ADJUSTMENTS[slot]!, factor: factors[slot]! }));
}
