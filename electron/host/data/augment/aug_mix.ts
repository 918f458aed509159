// timm's AugMix (timm.data.auto_augment, timm 1.0: augment_and_mix_transform and AugMixAugment), as
// create_transform applies it for --aa augmix-…: `width` chains of 1 to 3 ops (or `depth`), each
// chain applied to the image on its own; the chains' images summed with Dirichlet(alpha) weights in
// float32, clipped and truncated to 8 bits, then PIL's Image.blend of the image and that mix by a
// Beta(alpha, alpha) factor. The "blended" form (b) instead blends each chain's image into the
// running result with weights that give the same expected mix.
//
// The draws (weights, factor, depths, ops, each op's magnitude, sign and interpolation) come from
// the sample's Random stream in timm's order, so a sample augments the same way on any thread; the
// gamma variates behind the Dirichlet and Beta draws follow Marsaglia and Tsang (numpy's method for
// alpha >= 1, and its boost below 1). Each chain's ops run in the engine (native/src/image, the
// same ops as RandAugment's); the mixing arithmetic is here, in PIL's and numpy's float32 steps,
// checked byte for byte against them (test/fixtures/augmix.json).
// Not here: the JSD loss's split batches (timm's --jsd), which the official script does not offer.
import type { ImageOp } from '../../engine/addon';
import type { Random } from '../sample_random';
import { gauss } from './python_numbers';
import { drawMagnitude, opFor, type RandAugmentHparams, type RandOpName } from './rand_augment';

/** timm's _AUGMIX_TRANSFORMS: the paper's ops and four colour ops it adds, each growing with the magnitude. */
export const AUGMIX_TRANSFORMS: readonly RandOpName[] = [
  'AutoContrast', 'ColorIncreasing', 'ContrastIncreasing', 'BrightnessIncreasing', 'SharpnessIncreasing', 'Equalize',
  'Rotate', 'PosterizeIncreasing', 'SolarizeIncreasing', 'ShearX', 'ShearY', 'TranslateXRel', 'TranslateYRel'];

/** create_transform sets translate_pct to 0.3 for AugMix (RandAugment keeps 0.45). */
export const AUGMIX_TRANSLATE_PCT = 0.3;

/** A parsed AugMix string: plain data, so it crosses to loader worker threads as it is. */
export interface AugMixConfig {
  spec: string;
  /** 'm': the ops' magnitude (default 3). */
  magnitude: number;
  /** 'w': the number of chains (default 3). */
  width: number;
  /** 'd': ops per chain; -1 (the default) draws 1 to 3 per chain. */
  depth: number;
  /** 'a': the Dirichlet and Beta concentration (default 1). */
  alpha: number;
  /** 'b': the blended form. */
  blended: boolean;
  /** 'mstd': the magnitude noise's standard deviation; Infinity (the default) draws uniformly in [0, m]. */
  magnitudeStd: number;
}

const INTEGER = /^-?\d+$/;
const FLOAT = /^\d+(\.\d*)?([eE][+-]?\d+)?$/;

/**
 * timm's augment_and_mix_transform grammar: 'augmix' then dash-separated sections: m<int>, w<int>,
 * d<int>, a<float>, b<anything> (Python's bool of a non-empty string: b0 too), mstd<float>.
 * Sections without a number are skipped, as timm skips them; unknown keys and malformed numbers,
 * which timm asserts on, are errors naming the section.
 */
export function parseAugMix(spec: string): AugMixConfig {
  const [head, ...sections] = spec.split('-');
  if (head !== 'augmix') throw new Error(`--aa ${spec}: an AugMix string starts with 'augmix' (e.g. augmix-m5-w4-d2)`);
  const config: AugMixConfig = { spec, magnitude: 3, width: 3, depth: -1, alpha: 1, blended: false, magnitudeStd: Infinity };
  const number = (section: string, value: string, integer: boolean) => {
    if (!(integer ? INTEGER : FLOAT).test(value)) throw new Error(`--aa ${spec}: '${section}' needs ${integer ? 'an integer' : 'a number'} after its key, got '${value}'`);
    return Number(value);
  };
  for (const section of sections) {
    const digit = section.search(/\d/);
    if (digit < 0) continue;
    const key = section.slice(0, digit);
    const value = section.slice(digit);
    switch (key) {
      case 'mstd': config.magnitudeStd = number(section, value, false); break;
      case 'm': config.magnitude = number(section, value, true); break;
      case 'w': config.width = number(section, value, true); break;
      case 'd': config.depth = number(section, value, true); break;
      case 'a': config.alpha = number(section, value, false); break;
      case 'b': config.blended = true; break;
      default: throw new Error(`--aa ${spec}: unknown section '${section}' (AugMix's sections are m, w, d, a, b and mstd followed by a number)`);
    }
  }
  if (config.width < 1) throw new Error(`--aa ${spec}: 'w' must be at least 1, got ${config.width}`);
  if (!(config.alpha > 0)) throw new Error(`--aa ${spec}: 'a' must be above 0, got ${config.alpha}`);
  return config;
}

/** The hparams AugMix's ops take: RandAugment's, with create_transform's translate_pct of 0.3. */
export function augMixHparams(hparams: RandAugmentHparams): RandAugmentHparams {
  return { ...hparams, translatePct: AUGMIX_TRANSLATE_PCT };
}

/** Gamma(shape, 1) by Marsaglia and Tsang; below shape 1, Gamma(shape + 1) * U^(1/shape). */
export function gammaVariate(random: Random, shape: number): number {
  if (shape < 1) return gammaVariate(random, shape + 1) * Math.pow(1 - random(), 1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = gauss(random, 0, 1);
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = 1 - random();
    if (u < 1 - 0.0331 * x ** 4 || Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
  }
}

/** One image's AugMix: the chains of engine ops and the float32 weights they are mixed with. */
export interface AugMixDraw {
  chains: ImageOp[][];
  /** The Dirichlet mixing weights, one per chain (np.float32). */
  weights: number[];
  /** The Beta blend factor (np.float32). */
  m: number;
  blended: boolean;
}

/** The draws of AugMixAugment.__call__ for a width x height image, in timm's order. */
export function drawAugMix(config: AugMixConfig, hparams: RandAugmentHparams, width: number, height: number, random: Random): AugMixDraw {
  const gammas = Array.from({ length: config.width }, () => gammaVariate(random, config.alpha));
  const total = gammas.reduce((sum, g) => sum + g, 0);
  const weights = gammas.map((g) => Math.fround(g / total));
  const x = gammaVariate(random, config.alpha);
  const m = Math.fround(x / (x + gammaVariate(random, config.alpha)));
  const opHparams = augMixHparams(hparams);
  const magnitude = { magnitude: config.magnitude, magnitudeStd: config.magnitudeStd, magnitudeMax: null };
  const chains = weights.map(() => {
    const depth = config.depth > 0 ? config.depth : 1 + Math.floor(random() * 3);  // np.random.randint(1, 4)
    const names = Array.from({ length: depth }, () => AUGMIX_TRANSFORMS[Math.floor(random() * AUGMIX_TRANSFORMS.length)]!);
    return names.map((name) => opFor(name, drawMagnitude(magnitude, random), opHparams, width, height, random)).filter((op): op is ImageOp => op !== null);
  });
  return { chains, weights, m, blended: config.blended };
}

/** PIL's Image.blend of two 8-bit values for 0 <= alpha <= 1: a + alpha * (b - a) in float32, truncated. */
function blend(a: number, b: number, alpha: number): number {
  return Math.trunc(Math.fround(a + Math.fround(alpha * (b - a))));
}

/** timm's _calc_blended_weights in float32: each chain's share of what the later ones leave. */
export function blendedWeights(weights: readonly number[], m: number): number[] {
  const scaled = weights.map((w) => Math.fround(w * m));
  const out: number[] = [];
  let left = 1;
  for (let i = scaled.length - 1; i >= 0; i--) {
    const alpha = Math.fround(scaled[i]! / left);
    left = Math.fround(left * Math.fround(1 - alpha));
    out.unshift(alpha);
  }
  return out;
}

/** Runs one chain's ops on a copy of the image. */
export type ApplyChain = (pixels: Uint8Array, ops: ImageOp[]) => void;

/** Mixes the chains' images into `pixels` (HWC, 8-bit) as AugMixAugment does; `apply` runs a chain's ops in place. */
export function applyAugMix(pixels: Uint8Array, draw: AugMixDraw, apply: ApplyChain): void {
  const original = pixels.slice();
  const chainImage = (ops: ImageOp[]) => {
    const image = original.slice();
    if (ops.length > 0) apply(image, ops);
    return image;
  };
  if (draw.blended) {
    const weights = blendedWeights(draw.weights, draw.m);
    draw.chains.forEach((ops, c) => {
      const image = chainImage(ops);
      for (let i = 0; i < pixels.length; i++) pixels[i] = blend(pixels[i]!, image[i]!, weights[c]!);
    });
    return;
  }
  const mixed = new Float32Array(pixels.length);
  draw.chains.forEach((ops, c) => {
    const image = chainImage(ops);
    const w = draw.weights[c]!;
    for (let i = 0; i < mixed.length; i++) mixed[i] = mixed[i]! + Math.fround(w * image[i]!);
  });
  for (let i = 0; i < pixels.length; i++) {
    const value = Math.trunc(Math.min(255, Math.max(0, mixed[i]!)));  // np.clip, then astype(np.uint8)
    pixels[i] = blend(original[i]!, value, draw.m);
  }
}
