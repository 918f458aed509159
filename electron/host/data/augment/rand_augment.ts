// timm's RandAugment (timm.data.auto_augment, timm 1.0): the parser of its config string
// ('rand-m7-mstd0.5-inc1'), its op lists, and the per-sample draw that turns a config into the
// engine's image ops (native/src/image) with timm's probabilities, magnitude noise, level-to-argument
// mappings, random signs and interpolation choice. Every draw comes from the sample's Random stream,
// so a sample augments the same way whatever thread decodes it.
// The ops and their draws serve AugMix too (aug_mix.ts). Not here: the pixel work (the engine's),
// timm's AutoAugment policies (refused by name), and the '3a' op sets, whose GaussianBlur and
// Desaturate ops the engine does not have.
import type { ImageOp } from '../../engine/addon';
import type { Random } from '../sample_random';
import { gauss, roundHalfEven } from './python_numbers';

export type RandOpName =
  | 'AutoContrast' | 'Equalize' | 'Invert' | 'Rotate'
  | 'Posterize' | 'PosterizeIncreasing' | 'Solarize' | 'SolarizeIncreasing' | 'SolarizeAdd'
  | 'Color' | 'ColorIncreasing' | 'Contrast' | 'ContrastIncreasing'
  | 'Brightness' | 'BrightnessIncreasing' | 'Sharpness' | 'SharpnessIncreasing'
  | 'ShearX' | 'ShearY' | 'TranslateXRel' | 'TranslateYRel';

/** timm's _RAND_TRANSFORMS. */
export const RAND_TRANSFORMS: readonly RandOpName[] = [
  'AutoContrast', 'Equalize', 'Invert', 'Rotate', 'Posterize', 'Solarize', 'SolarizeAdd', 'Color', 'Contrast',
  'Brightness', 'Sharpness', 'ShearX', 'ShearY', 'TranslateXRel', 'TranslateYRel'];

/** timm's _RAND_INCREASING_TRANSFORMS ('inc'): every op grows more severe with the magnitude. */
export const RAND_INCREASING_TRANSFORMS: readonly RandOpName[] = [
  'AutoContrast', 'Equalize', 'Invert', 'Rotate', 'PosterizeIncreasing', 'SolarizeIncreasing', 'SolarizeAdd',
  'ColorIncreasing', 'ContrastIncreasing', 'BrightnessIncreasing', 'SharpnessIncreasing', 'ShearX', 'ShearY',
  'TranslateXRel', 'TranslateYRel'];

/** timm's _RAND_WEIGHTED_0 ('tweights'): ops chosen without replacement with these weights. */
export const RAND_WEIGHTED_0: ReadonlyArray<readonly [RandOpName, number]> = [
  ['Rotate', 3], ['ShearX', 2], ['ShearY', 2], ['TranslateXRel', 1], ['TranslateYRel', 1], ['ColorIncreasing', 0.25],
  ['SharpnessIncreasing', 0.25], ['AutoContrast', 0.25], ['SolarizeIncreasing', 0.05], ['SolarizeAdd', 0.05],
  ['ContrastIncreasing', 0.05], ['BrightnessIncreasing', 0.05], ['Equalize', 0.05], ['PosterizeIncreasing', 0.05],
  ['Invert', 0.05]];

/** PIL's affine data (a, b, c, d, e, f): output (x, y) samples the input at (a x + b y + c, d x + e y + f). */
export type AffineMatrix = [number, number, number, number, number, number];

/** timm's _LEVEL_DENOM: magnitudes are tenths of an op's full range. */
const LEVEL_DENOM = 10;

/** A parsed RandAugment string: plain data, so it crosses to loader worker threads as it is. */
export interface RandAugmentConfig {
  /** The string it was parsed from. */
  spec: string;
  /** 'm': the magnitude (default 10). */
  magnitude: number;
  /** 'n': ops per image (default 2). */
  numLayers: number;
  /** 'p': probability of applying each chosen op (default 0.5). */
  prob: number;
  /** 'mstd': standard deviation of the per-op magnitude noise; Infinity (mstd > 100) draws uniformly in [0, m]. */
  magnitudeStd: number;
  /** 'mmax': the clip of the noisy magnitude, instead of 10. */
  magnitudeMax: number | null;
  ops: RandOpName[];
  /** Normalised choice weights ('tweights'), or null for a uniform choice with replacement. */
  weights: number[] | null;
}

/** What timm's create_transform hands RandAugment (its aa_params). */
export interface RandAugmentHparams {
  /** int(img_size * 0.45); only the absolute translations read it, and RandAugment has none. */
  translateConst: number;
  /** The relative translations' full range: 0.45, or 0.3 as create_transform sets it for AugMix. */
  translatePct: number;
  /** The fill colour of the geometric ops: round(255 * mean) per channel. */
  imgMean: [number, number, number];
  /** The training interpolation; 'random' lets each geometric op pick bilinear or bicubic. */
  interpolation: 'bilinear' | 'bicubic' | 'random';
}

const INTEGER = /^\d+$/;
const FLOAT = /^\d+(\.\d*)?([eE][+-]?\d+)?$/;
const AUTO_AUGMENT_POLICIES = new Set(['original', 'originalr', 'v0', 'v0r']);

function parseNumber(section: string, value: string, integer: boolean, spec: string): number {
  if (!(integer ? INTEGER : FLOAT).test(value)) {
    throw new Error(`--aa ${spec}: '${section}' needs ${integer ? 'an integer' : 'a number'} after its key, got '${value}'`);
  }
  return Number(value);
}

/**
 * timm's rand_augment_transform grammar: 'rand' then dash-separated sections in any order:
 * m<int> magnitude, n<int> ops per image, p<float> op probability, mstd<float> magnitude noise
 * (over 100: uniform), mmax<int> magnitude clip, inc<int> increasing op set, t<name> op set
 * ('weights'). As in timm, 'inc' with any value (inc0 included: Python's bool('0') is True) selects
 * the increasing set. Unknown or malformed sections, which timm skips or asserts on, are errors here.
 */
export function parseRandAugment(spec: string): RandAugmentConfig {
  const [head, ...sections] = spec.split('-');
  if (head !== 'rand') {
    if (AUTO_AUGMENT_POLICIES.has(head ?? '')) throw new Error(`--aa ${spec}: AutoAugment policies are not available in this build; use a RandAugment string such as rand-m9-mstd0.5-inc1, or none`);
    throw new Error(`--aa ${spec}: expected 'none', a RandAugment string starting with 'rand' (e.g. rand-m9-mstd0.5-inc1) or an AugMix one starting with 'augmix' (e.g. augmix-m5-w4-d2)`);
  }
  let magnitude = LEVEL_DENOM;
  let numLayers = 2;
  let prob = 0.5;
  let magnitudeStd = 0;
  let magnitudeMax: number | null = null;
  let increasing = false;
  let opSet: string | null = null;
  for (const section of sections) {
    if (section.startsWith('t')) {
      opSet = section.slice(1);
      continue;
    }
    const digit = section.search(/\d/);
    if (digit < 0) throw new Error(`--aa ${spec}: unknown section '${section}' (sections are m, n, p, mstd, mmax, inc followed by a number, or t<op set>)`);
    const key = section.slice(0, digit);
    const value = section.slice(digit);
    switch (key) {
      case 'mstd': {
        const std = parseNumber(section, value, false, spec);
        magnitudeStd = std > 100 ? Infinity : std;
        break;
      }
      case 'mmax': magnitudeMax = parseNumber(section, value, true, spec); break;
      case 'inc': parseNumber(section, value, true, spec); increasing = true; break;
      case 'm': magnitude = parseNumber(section, value, true, spec); break;
      case 'n': numLayers = parseNumber(section, value, true, spec); break;
      case 'p':
        prob = parseNumber(section, value, false, spec);
        if (prob > 1) throw new Error(`--aa ${spec}: 'p' is a probability, got ${prob}`);
        break;
      default:
        throw new Error(`--aa ${spec}: unknown section '${section}' (sections are m, n, p, mstd, mmax, inc followed by a number, or t<op set>)`);
    }
  }
  let ops: RandOpName[] = [...(increasing ? RAND_INCREASING_TRANSFORMS : RAND_TRANSFORMS)];
  let weights: number[] | null = null;
  if (opSet === 'weights') {
    ops = RAND_WEIGHTED_0.map(([name]) => name);
    const total = RAND_WEIGHTED_0.reduce((sum, [, w]) => sum + w, 0);
    weights = RAND_WEIGHTED_0.map(([, w]) => w / total);
    if (numLayers > ops.length) throw new Error(`--aa ${spec}: weighted op choice is without replacement, so n must be at most ${ops.length}`);
  } else if (opSet === '3a' || opSet === '3aw') {
    throw new Error(`--aa ${spec}: the '${opSet}' op set needs GaussianBlur and Desaturate, which this build does not have`);
  } else if (opSet !== null) {
    throw new Error(`--aa ${spec}: unknown op set 't${opSet}' (this build knows 'tweights')`);
  }
  return { spec, magnitude, numLayers, prob, magnitudeStd, magnitudeMax, ops, weights };
}

/** timm's aa_params for an image size, a normalisation mean and the training interpolation. */
export function randAugmentHparams(imgSize: number, mean: readonly number[], interpolation: RandAugmentHparams['interpolation']): RandAugmentHparams {
  const fill = mean.map((m) => Math.min(255, roundHalfEven(255 * m)));
  return { translateConst: Math.floor(imgSize * 0.45), translatePct: 0.45, imgMean: [fill[0]!, fill[1]!, fill[2]!], interpolation };
}

/** timm's _randomly_negate: the sign flips when random() > 0.5. */
function randomlyNegate(value: number, random: Random): number {
  return random() > 0.5 ? -value : value;
}

/** The arguments timm's LEVEL_TO_ARG gives an op at a (clipped) magnitude, before any sign draw. */
export function levelToArg(name: RandOpName, magnitude: number, translatePct = 0.45): number | null {
  const level = magnitude / LEVEL_DENOM;
  switch (name) {
    case 'AutoContrast': case 'Equalize': case 'Invert': return null;
    case 'Rotate': return level * 30;
    case 'Posterize': return Math.trunc(level * 4);
    case 'PosterizeIncreasing': return 4 - Math.trunc(level * 4);
    case 'Solarize': return Math.min(256, Math.trunc(level * 256));
    case 'SolarizeIncreasing': return 256 - Math.min(256, Math.trunc(level * 256));
    case 'SolarizeAdd': return Math.min(128, Math.trunc(level * 110));
    case 'Color': case 'Contrast': case 'Brightness': case 'Sharpness': return level * 1.8 + 0.1;
    case 'ColorIncreasing': case 'ContrastIncreasing': case 'BrightnessIncreasing': case 'SharpnessIncreasing': return level * 0.9;
    case 'ShearX': case 'ShearY': return level * 0.3;
    case 'TranslateXRel': case 'TranslateYRel': return level * translatePct;
  }
}

/** Python's float modulo: the result takes the divisor's sign. */
function pythonMod(a: number, b: number): number {
  const m = a % b;
  return m !== 0 && m < 0 !== b < 0 ? m + b : m === 0 ? 0 : m;
}

/** Python's round(x, 15), which PIL applies to the rotation's sines and cosines. */
function round15(x: number): number {
  return Number(x.toFixed(15));
}

/**
 * The matrix PIL's Image.rotate(degrees) hands Image.transform for a w x h image (centre of
 * rotation at the image centre, no expansion), or null when the angle is a multiple of 360 (PIL
 * returns a copy).
 */
export function rotateMatrix(degrees: number, width: number, height: number): AffineMatrix | null {
  const angle = pythonMod(degrees, 360);
  if (angle === 0) return null;
  const radians = -(angle * (Math.PI / 180));
  const a = round15(Math.cos(radians));
  const b = round15(Math.sin(radians));
  const d = round15(-Math.sin(radians));
  const e = round15(Math.cos(radians));
  const cx = width / 2;
  const cy = height / 2;
  const c = a * -cx + b * -cy + 0 + cx;
  const f = d * -cx + e * -cy + 0 + cy;
  return [a, b, c, d, e, f];
}

function chooseOps(config: RandAugmentConfig, random: Random): RandOpName[] {
  const { ops, weights, numLayers } = config;
  if (!weights) return Array.from({ length: numLayers }, () => ops[Math.floor(random() * ops.length)]!);
  // numpy's choice without replacement: each pick proportional to the weights still left.
  const left = ops.map((name, i) => ({ name, weight: weights[i]! }));
  const chosen: RandOpName[] = [];
  for (let k = 0; k < numLayers; k++) {
    const total = left.reduce((sum, o) => sum + o.weight, 0);
    let r = random() * total;
    let pick = left.length - 1;
    for (let i = 0; i < left.length; i++) {
      r -= left[i]!.weight;
      if (r < 0) {
        pick = i;
        break;
      }
    }
    chosen.push(left[pick]!.name);
    left.splice(pick, 1);
  }
  return chosen;
}

function geometric(matrix: AffineMatrix, hparams: RandAugmentHparams, random: Random): ImageOp {
  // timm's _check_args_tf: a tuple of interpolations means random.choice per op call.
  const resample = hparams.interpolation === 'random' ? (Math.floor(random() * 2) === 0 ? 'bilinear' : 'bicubic') : hparams.interpolation;
  return { op: 'affine', matrix, resample, fill: hparams.imgMean };
}

/** One chosen op at its drawn magnitude as an engine op, or null where timm leaves the image as it is. */
export function opFor(name: RandOpName, magnitude: number, hparams: RandAugmentHparams, width: number, height: number, random: Random): ImageOp | null {
  const arg = levelToArg(name, magnitude, hparams.translatePct)!;
  switch (name) {
    case 'AutoContrast': return { op: 'autocontrast' };
    case 'Equalize': return { op: 'equalize' };
    case 'Invert': return { op: 'invert' };
    case 'Rotate': {
      const matrix = rotateMatrix(randomlyNegate(arg, random), width, height);
      // timm draws the interpolation before PIL's copy shortcut for 0 degrees, so it is drawn either way.
      const op = geometric(matrix ?? [1, 0, 0, 0, 1, 0], hparams, random);
      return matrix ? op : null;
    }
    case 'Posterize': case 'PosterizeIncreasing':
      // timm returns the image for 8 bits or more; PIL's mask blackens the image for 0 bits or fewer.
      return arg >= 8 ? null : { op: 'posterize', bits: Math.max(0, arg) };
    case 'Solarize': case 'SolarizeIncreasing': return { op: 'solarize', threshold: arg };
    case 'SolarizeAdd': return { op: 'solarize_add', add: arg, threshold: 128 };
    case 'Color': return { op: 'color', factor: arg };
    case 'Contrast': return { op: 'contrast', factor: arg };
    case 'Brightness': return { op: 'brightness', factor: arg };
    case 'Sharpness': return { op: 'sharpness', factor: arg };
    case 'ColorIncreasing': return { op: 'color', factor: Math.max(0.1, 1 + randomlyNegate(arg, random)) };
    case 'ContrastIncreasing': return { op: 'contrast', factor: Math.max(0.1, 1 + randomlyNegate(arg, random)) };
    case 'BrightnessIncreasing': return { op: 'brightness', factor: Math.max(0.1, 1 + randomlyNegate(arg, random)) };
    case 'SharpnessIncreasing': return { op: 'sharpness', factor: Math.max(0.1, 1 + randomlyNegate(arg, random)) };
    case 'ShearX': return geometric([1, randomlyNegate(arg, random), 0, 0, 1, 0], hparams, random);
    case 'ShearY': return geometric([1, 0, 0, randomlyNegate(arg, random), 1, 0], hparams, random);
    case 'TranslateXRel': return geometric([1, 0, randomlyNegate(arg, random) * width, 0, 1, 0], hparams, random);
    case 'TranslateYRel': return geometric([1, 0, 0, 0, 1, randomlyNegate(arg, random) * height], hparams, random);
  }
}

/** timm AugmentOp.__call__'s magnitude: optional noise, then the clip to [0, mmax or 10]. */
export function drawMagnitude(config: Pick<RandAugmentConfig, 'magnitude' | 'magnitudeStd' | 'magnitudeMax'>, random: Random): number {
  let magnitude = config.magnitude;
  if (config.magnitudeStd === Infinity) magnitude = random() * magnitude;
  else if (config.magnitudeStd > 0) magnitude = gauss(random, magnitude, config.magnitudeStd);
  const upper = config.magnitudeMax || LEVEL_DENOM;  // timm's `magnitude_max or 10`: mmax0 means 10
  return Math.max(0, Math.min(magnitude, upper));
}

/** One image's RandAugment: the ops timm would apply to a width x height image, in order. */
export function drawRandAugment(config: RandAugmentConfig, hparams: RandAugmentHparams, width: number, height: number, random: Random): ImageOp[] {
  const out: ImageOp[] = [];
  for (const name of chooseOps(config, random)) {
    if (config.prob < 1 && random() > config.prob) continue;
    const op = opFor(name, drawMagnitude(config, random), hparams, width, height, random);
    if (op) out.push(op);
  }
  return out;
}
