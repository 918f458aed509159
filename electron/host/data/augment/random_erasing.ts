// timm's RandomErasing (timm.data.random_erasing, as create_transform builds it from --reprob,
// --remode and --recount): the parameters and the per-sample draw of the boxes, from the sample's
// Random stream. The engine's normalizeErase fills the boxes after normalisation, with noise from
// the seed drawn here, so a sample is erased the same way on any thread.
// Not here: the filling itself (native/src/image/normalize_erase) and timm's num_splits (the
// recipe's loader does not split batches).
import type { EraseBox } from '../../engine/addon';
import type { Random } from '../sample_random';
import { randint, roundHalfEven, uniform } from './python_numbers';

export type EraseMode = 'pixel' | 'rand' | 'const';

/** Plain data, so it crosses to loader worker threads as it is. */
export interface RandomErasingConfig {
  /** Probability that an image is erased at all. */
  probability: number;
  mode: EraseMode;
  /** Boxes per erased image: randint(minCount, maxCount) when they differ. */
  minCount: number;
  maxCount: number;
  /** Box area as a fraction of the image, divided by the count. */
  minArea: number;
  maxArea: number;
  /** Box aspect (height / width), drawn log-uniformly. */
  minAspect: number;
  maxAspect: number;
}

/** create_transform's RandomErasing(re_prob, mode=re_mode, max_count=re_count), timm's other defaults. */
export function randomErasingConfig(reprob: number, remode: string, recount: number): RandomErasingConfig {
  if (!(reprob >= 0 && reprob <= 1)) throw new Error(`--reprob must be a probability in [0, 1], got ${reprob}`);
  if (remode !== 'pixel' && remode !== 'rand' && remode !== 'const') throw new Error(`--remode must be 'pixel', 'rand' or 'const', got '${remode}'`);
  if (!(Number.isInteger(recount) && recount >= 1)) throw new Error(`--recount must be a positive integer, got ${recount}`);
  return { probability: reprob, mode: remode, minCount: 1, maxCount: recount, minArea: 0.02, maxArea: 1 / 3, minAspect: 0.3, maxAspect: 1 / 0.3 };
}

export interface ErasingDraw {
  boxes: EraseBox[];
  /** Seed of the engine's fill noise. */
  seed: number;
}

/**
 * timm RandomErasing._erase's decisions for a height x width image: skip with 1 - probability,
 * else a count, and per box up to 10 tries of (area, aspect) until the box fits strictly inside,
 * placed uniformly. A box whose side rounds to 0 erases nothing and is left out.
 */
export function drawErasing(config: RandomErasingConfig, height: number, width: number, random: Random): ErasingDraw | null {
  if (random() > config.probability) return null;
  const area = height * width;
  const count = config.minCount === config.maxCount ? config.minCount : randint(random, config.minCount, config.maxCount);
  const logAspect = [Math.log(config.minAspect), Math.log(config.maxAspect)] as const;
  const boxes: EraseBox[] = [];
  for (let b = 0; b < count; b++) {
    for (let attempt = 0; attempt < 10; attempt++) {
      const targetArea = (uniform(random, config.minArea, config.maxArea) * area) / count;
      const aspect = Math.exp(uniform(random, logAspect[0], logAspect[1]));
      const h = roundHalfEven(Math.sqrt(targetArea * aspect));
      const w = roundHalfEven(Math.sqrt(targetArea / aspect));
      if (w < width && h < height) {
        const top = randint(random, 0, height - h);
        const left = randint(random, 0, width - w);
        if (h > 0 && w > 0) boxes.push({ top, left, height: h, width: w });
        break;
      }
    }
  }
  return { boxes, seed: Math.floor(random() * 2 ** 32) };
}
