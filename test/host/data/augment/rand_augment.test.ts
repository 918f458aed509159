// timm's RandAugment in TypeScript (electron/host/data/augment/rand_augment.ts): the config-string
// grammar and its errors, the op lists, the level-to-argument numbers of timm's LEVEL_TO_ARG
// (worked out from timm 1.0's formulas with Python's float and int()), PIL's rotation matrix
// (against the matrices PIL itself used, recorded by scripts/fixtures/generate_augment.py), and the
// per-sample draw's frequencies and reproducibility. Frequencies come from seeded streams, so the
// checks never flake; each tolerance is over four standard errors.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ImageOp } from '../../../../electron/host/engine/addon';
import {
  drawRandAugment, levelToArg, parseRandAugment, RAND_INCREASING_TRANSFORMS, RAND_TRANSFORMS, RAND_WEIGHTED_0,
  randAugmentHparams, rotateMatrix, type RandOpName,
} from '../../../../electron/host/data/augment/rand_augment';
import { sampleRandom } from '../../../../electron/host/data/sample_random';
import { readFixture } from '../../../helpers/fixtures';

describe('parseRandAugment: timm grammar', () => {
  it('reads the recipe string', () => {
    const c = parseRandAugment('rand-m7-mstd0.5-inc1');
    assert.deepEqual({ ...c, ops: undefined }, { spec: 'rand-m7-mstd0.5-inc1', magnitude: 7, numLayers: 2, prob: 0.5, magnitudeStd: 0.5, magnitudeMax: null, ops: undefined, weights: null });
    assert.deepEqual(c.ops, RAND_INCREASING_TRANSFORMS);
  });

  it('has timm defaults: m10, n2, p0.5, no noise, the plain op set', () => {
    const c = parseRandAugment('rand');
    assert.equal(c.magnitude, 10);
    assert.equal(c.numLayers, 2);
    assert.equal(c.prob, 0.5);
    assert.equal(c.magnitudeStd, 0);
    assert.deepEqual(c.ops, RAND_TRANSFORMS);
  });

  it('reads every section in any order', () => {
    const c = parseRandAugment('rand-n3-p0.7-mmax15-m12-mstd1.5');
    assert.deepEqual([c.numLayers, c.prob, c.magnitudeMax, c.magnitude, c.magnitudeStd], [3, 0.7, 15, 12, 1.5]);
    assert.equal(parseRandAugment('rand-mstd101').magnitudeStd, Infinity, 'mstd over 100 means uniform');
    assert.equal(parseRandAugment('rand-mstd100').magnitudeStd, 100);
    assert.deepEqual(parseRandAugment('rand-inc0').ops, RAND_INCREASING_TRANSFORMS, "timm's bool('0') is True");
    const weighted = parseRandAugment('rand-m9-tweights');
    assert.deepEqual(weighted.ops, RAND_WEIGHTED_0.map(([name]) => name));
    assert.ok(Math.abs(weighted.weights!.reduce((s, w) => s + w, 0) - 1) < 1e-12);
    assert.ok(Math.abs(weighted.weights![0]! - 3 / 10.1) < 1e-12, 'Rotate: 3 of a total weight 10.1');
  });

  it('refuses what timm would skip, assert on or what this build lacks, naming it', () => {
    assert.throws(() => parseRandAugment('rand-m9-x3'), /--aa rand-m9-x3: unknown section 'x3'/);
    assert.throws(() => parseRandAugment('rand-m9-mstd'), /unknown section 'mstd'/);
    assert.throws(() => parseRandAugment('rand-m7.5'), /'m7.5' needs an integer after its key, got '7.5'/);
    assert.throws(() => parseRandAugment('rand-mstd0.5.1'), /'mstd0.5.1' needs a number/);
    assert.throws(() => parseRandAugment('rand-p2'), /'p' is a probability, got 2/);
    assert.throws(() => parseRandAugment('rand-t3a'), /'3a' op set needs GaussianBlur and Desaturate/);
    assert.throws(() => parseRandAugment('rand-tfoo'), /unknown op set 'tfoo'/);
    assert.throws(() => parseRandAugment('rand-n16-tweights'), /n must be at most 15/);
    assert.throws(() => parseRandAugment('original-mstd0.5'), /AutoAugment policies are not available in this build/);
    assert.throws(() => parseRandAugment('randaug-m9'), /expected 'none', a RandAugment string starting with 'rand' .* or an AugMix one starting with 'augmix'/);
  });
});

describe("timm's op lists and level mappings", () => {
  it('lists the 15 ops of _RAND_TRANSFORMS and _RAND_INCREASING_TRANSFORMS in order', () => {
    assert.deepEqual(RAND_TRANSFORMS, ['AutoContrast', 'Equalize', 'Invert', 'Rotate', 'Posterize', 'Solarize', 'SolarizeAdd',
      'Color', 'Contrast', 'Brightness', 'Sharpness', 'ShearX', 'ShearY', 'TranslateXRel', 'TranslateYRel']);
    assert.deepEqual(RAND_INCREASING_TRANSFORMS, ['AutoContrast', 'Equalize', 'Invert', 'Rotate', 'PosterizeIncreasing',
      'SolarizeIncreasing', 'SolarizeAdd', 'ColorIncreasing', 'ContrastIncreasing', 'BrightnessIncreasing',
      'SharpnessIncreasing', 'ShearX', 'ShearY', 'TranslateXRel', 'TranslateYRel']);
  });

  // Magnitudes 0, 3.3, 7, 10 and 13 (above 10 only with mmax), before the random sign.
  const table: Array<[RandOpName, number[]]> = [
    ['Rotate', [0, 9.899999999999999, 21, 30, 39]],
    ['Posterize', [0, 1, 2, 4, 5]],
    ['PosterizeIncreasing', [4, 3, 2, 0, -1]],
    ['Solarize', [0, 84, 179, 256, 256]],
    ['SolarizeIncreasing', [256, 172, 77, 0, 0]],
    ['SolarizeAdd', [0, 36, 77, 110, 128]],
    ['Color', [0.1, 0.694, 1.36, 1.9000000000000001, 2.4400000000000004]],
    ['Sharpness', [0.1, 0.694, 1.36, 1.9000000000000001, 2.4400000000000004]],
    ['ContrastIncreasing', [0, 0.297, 0.63, 0.9, 1.1700000000000002]],
    ['ShearY', [0, 0.09899999999999999, 0.21, 0.3, 0.39]],
    ['TranslateXRel', [0, 0.1485, 0.315, 0.45, 0.5850000000000001]],
  ];
  for (const [name, expected] of table) {
    it(`${name}: ${expected.join(', ')}`, () => {
      assert.deepEqual([0, 3.3, 7, 10, 13].map((m) => levelToArg(name, m)), expected);
    });
  }

  it("hparams: translate_const int(0.45 * size), fill round(255 * mean)", () => {
    assert.deepEqual(randAugmentHparams(224, [0.485, 0.456, 0.406], 'bicubic'), { translateConst: 100, translatePct: 0.45, imgMean: [124, 116, 104], interpolation: 'bicubic' });
  });
});

describe("PIL's rotation matrix", () => {
  const fixture = readFixture('augment.safetensors');
  const cases = (JSON.parse(fixture.metadata.cases!) as Array<{ input: string; op: ImageOp; rotate?: number }>).filter((c) => c.rotate !== undefined);

  it(`equals the matrix PIL's Image.rotate used, exactly (${cases.length} cases)`, () => {
    assert.ok(cases.length >= 10);
    for (const c of cases) {
      const [height, width] = fixture.tensors.get(c.input)!.shape as [number, number];
      assert.deepEqual(rotateMatrix(c.rotate!, width, height), (c.op as { matrix: number[] }).matrix, `${c.rotate} degrees on ${width}x${height}`);
    }
  });

  it('is none for whole turns (PIL copies the image)', () => {
    assert.equal(rotateMatrix(0, 10, 10), null);
    assert.equal(rotateMatrix(-0, 10, 10), null);
    assert.equal(rotateMatrix(360, 10, 10), null);
  });
});

describe('drawRandAugment', () => {
  const hparams = randAugmentHparams(224, [0.485, 0.456, 0.406], 'bicubic');

  it('is the same for the same stream and differs across samples', () => {
    const config = parseRandAugment('rand-m7-mstd0.5-inc1');
    const a = drawRandAugment(config, hparams, 224, 224, sampleRandom(5, 2, 17));
    assert.deepEqual(drawRandAugment(config, hparams, 224, 224, sampleRandom(5, 2, 17)), a);
    const differs = [18, 19, 20, 21].some((i) => JSON.stringify(drawRandAugment(config, hparams, 224, 224, sampleRandom(5, 2, i))) !== JSON.stringify(a));
    assert.ok(differs);
  });

  it("applies each of n ops with p, chooses ops uniformly, flips signs half the time, timm's fill", () => {
    const config = parseRandAugment('rand-m10-n3-p0.7');
    const trials = 20000;
    let applied = 0;
    let rotations = 0;
    let negative = 0;
    for (let i = 0; i < trials; i++) {
      const ops = drawRandAugment({ ...config, ops: ['Rotate'] }, hparams, 40, 30, sampleRandom(1, 0, i));
      applied += ops.length;
      for (const op of ops) {
        assert.equal(op.op, 'affine');
        const m = (op as { matrix: number[]; fill: number[]; resample: string });
        assert.deepEqual(m.fill, [124, 116, 104]);
        assert.equal(m.resample, 'bicubic');
        rotations++;
        if (m.matrix[1]! > 0) negative++;  // sin(-angle) > 0 for a clockwise (negated) turn
      }
    }
    const pApplied = applied / (3 * trials);
    assert.ok(Math.abs(pApplied - 0.7) < 4 * Math.sqrt(0.21 / (3 * trials)), `applied ${pApplied}`);
    assert.ok(Math.abs(negative / rotations - 0.5) < 4 * Math.sqrt(0.25 / rotations), `negated ${negative / rotations}`);

    const counts = new Map<string, number>();
    const plain = parseRandAugment('rand-m9-p1');
    for (let i = 0; i < trials; i++) {
      for (const op of drawRandAugment(plain, hparams, 224, 224, sampleRandom(2, 0, i))) {
        const key = op.op === 'affine' ? 'geometric' : op.op;
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
    }
    // 15 ops, 2 per image with replacement: each op 2/15 of draws; the six geometric ones share 'affine'.
    const n = 2 * trials;
    for (const [key, share] of [['autocontrast', 1 / 15], ['invert', 1 / 15], ['geometric', 5 / 15], ['color', 1 / 15]] as const) {
      const got = (counts.get(key) ?? 0) / n;
      assert.ok(Math.abs(got - share) < 4 * Math.sqrt((share * (1 - share)) / n), `${key}: ${got} vs ${share}`);
    }
  });

  it('draws the interpolation per geometric op when it is random, and clips noisy magnitudes to [0, 10]', () => {
    const random = parseRandAugment('rand-m10-mstd3-p1');
    const h = randAugmentHparams(224, [0.485, 0.456, 0.406], 'random');
    const resamples = new Map<string, number>();
    let shears = 0;
    for (let i = 0; i < 5000; i++) {
      for (const op of drawRandAugment({ ...random, ops: ['ShearX'] }, h, 50, 50, sampleRandom(3, 1, i))) {
        const { matrix, resample } = op as { matrix: number[]; resample: string };
        resamples.set(resample, (resamples.get(resample) ?? 0) + 1);
        assert.ok(Math.abs(matrix[1]!) <= 0.3 + 1e-15, `shear ${matrix[1]} beyond magnitude 10`);
        shears++;
      }
    }
    assert.deepEqual([...resamples.keys()].sort(), ['bicubic', 'bilinear']);
    assert.ok(Math.abs(resamples.get('bilinear')! / shears - 0.5) < 4 * Math.sqrt(0.25 / shears));
  });

  it('posterizes to 0 bits past magnitude 10 with mmax (PIL blackens), and skips 8 bits (timm returns the image)', () => {
    const ops = (m: number, name: RandOpName) => drawRandAugment({ ...parseRandAugment(`rand-m${m}-p1-n1-mmax30`), ops: [name] }, hparams, 8, 8, sampleRandom(0, 0, 0));
    assert.deepEqual(ops(13, 'PosterizeIncreasing'), [{ op: 'posterize', bits: 0 }]);
    assert.deepEqual(ops(20, 'Posterize'), []);
    assert.deepEqual(ops(30, 'Solarize'), [{ op: 'solarize', threshold: 256 }]);
  });
});
