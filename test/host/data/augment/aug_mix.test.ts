// timm's AugMix: the mixing (plain and blended) byte for byte against timm's arithmetic on PIL
// (test/fixtures/augmix.json, scripts/fixtures/generate_augmix.py), the config grammar, the draws
// (reproducible per sample, timm's op set and ranges), the gamma variates behind the Dirichlet and
// Beta weights, and the training transform that applies it.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  applyAugMix, AUGMIX_TRANSLATE_PCT, blendedWeights, drawAugMix, gammaVariate, parseAugMix, type AugMixDraw,
} from '../../../../electron/host/data/augment/aug_mix';
import { randAugmentHparams } from '../../../../electron/host/data/augment/rand_augment';
import { sampleRandom } from '../../../../electron/host/data/sample_random';
import { loadPixelsInto, trainTransformFromFlags } from '../../../../electron/host/data/transforms';
import { loadEngine, type ImageOp } from '../../../../electron/host/engine/addon';
import { fixturesDir } from '../../../helpers/fixtures';

interface FixtureCase {
  chains: ImageOp[][];
  weights: number[];
  m: number;
  blended_weights: number[];
  basic: string;
  blended: string;
}

const fixture = JSON.parse(readFileSync(join(fixturesDir, 'augmix.json'), 'utf8')) as { size: number; image: string; cases: FixtureCase[] };
const bytes = (b64: string) => new Uint8Array(Buffer.from(b64, 'base64'));

describe('AugMix mixing against timm on PIL', () => {
  const engine = loadEngine();
  const { size } = fixture;
  const apply = (pixels: Uint8Array, ops: ImageOp[]) => engine.augmentImage(pixels, size, size, ops);
  fixture.cases.forEach((c, i) => {
    it(`case ${i}: ${c.chains.length} chains, m ${c.m.toFixed(3)}, plain and blended`, () => {
      for (const blended of [false, true]) {
        const pixels = bytes(fixture.image);
        const draw: AugMixDraw = { chains: c.chains, weights: c.weights, m: c.m, blended };
        applyAugMix(pixels, draw, apply);
        const want = bytes(blended ? c.blended : c.basic);
        const differing = pixels.reduce((n, v, k) => n + (v === want[k] ? 0 : 1), 0);
        assert.equal(differing, 0, `${blended ? 'blended' : 'plain'}: ${differing} of ${pixels.length} values differ`);
      }
      assert.deepEqual(blendedWeights(c.weights, c.m), c.blended_weights);
    });
  });
});

describe('parseAugMix', () => {
  it("reads timm's sections, with its defaults", () => {
    assert.deepEqual(parseAugMix('augmix'), { spec: 'augmix', magnitude: 3, width: 3, depth: -1, alpha: 1, blended: false, magnitudeStd: Infinity });
    assert.deepEqual(parseAugMix('augmix-m5-w4-d2'), { spec: 'augmix-m5-w4-d2', magnitude: 5, width: 4, depth: 2, alpha: 1, blended: false, magnitudeStd: Infinity });
    const all = parseAugMix('augmix-a0.5-b0-mstd0.5-jsd');  // b0 is true (Python's bool('0')); 'jsd' has no number: skipped
    assert.deepEqual([all.alpha, all.blended, all.magnitudeStd], [0.5, true, 0.5]);
  });

  it('refuses what timm asserts on, naming the section', () => {
    assert.throws(() => parseAugMix('augmix-m5-q4'), /--aa augmix-m5-q4: unknown section 'q4'/);
    assert.throws(() => parseAugMix('augmix-m5.5'), /'m5.5' needs an integer after its key, got '5.5'/);
    assert.throws(() => parseAugMix('augmix-w0'), /'w' must be at least 1, got 0/);
    assert.throws(() => parseAugMix('augmix-a0'), /'a' must be above 0, got 0/);
  });
});

describe('drawAugMix', () => {
  const hparams = randAugmentHparams(224, [0.485, 0.456, 0.406], 'random');

  it('is the same for the same sample, with float32 weights that sum to 1 and a factor in [0, 1]', () => {
    const config = parseAugMix('augmix-m5-w4');
    const draw = drawAugMix(config, hparams, 224, 224, sampleRandom(3, 1, 42));
    assert.deepEqual(drawAugMix(config, hparams, 224, 224, sampleRandom(3, 1, 42)), draw);
    assert.notDeepEqual(drawAugMix(config, hparams, 224, 224, sampleRandom(3, 1, 43)), draw);
    assert.equal(draw.weights.length, 4);
    assert.ok(draw.weights.every((w) => w >= 0 && Math.fround(w) === w));
    assert.ok(Math.abs(draw.weights.reduce((a, b) => a + b, 0) - 1) < 1e-6);
    assert.ok(draw.m >= 0 && draw.m <= 1 && Math.fround(draw.m) === draw.m);
  });

  it("draws 1 to 3 ops per chain (or d), from timm's AugMix set, translations within 0.3 of the image", () => {
    const kinds = new Set<string>();
    const depths = new Set<number>();
    for (let index = 0; index < 400; index++) {
      const draw = drawAugMix(parseAugMix('augmix-m10'), hparams, 200, 100, sampleRandom(0, 0, index));
      for (const chain of draw.chains) {
        depths.add(chain.length);
        for (const op of chain) {
          kinds.add(op.op);
          if (op.op === 'affine' && op.matrix[0] === 1 && op.matrix[1] === 0 && op.matrix[3] === 0) {
            assert.ok(Math.abs(op.matrix[2]) <= AUGMIX_TRANSLATE_PCT * 200 + 1e-9 && Math.abs(op.matrix[5]) <= AUGMIX_TRANSLATE_PCT * 100 + 1e-9);
          }
        }
      }
      for (const chain of drawAugMix(parseAugMix('augmix-d2'), hparams, 64, 64, sampleRandom(1, 0, index)).chains) assert.ok(chain.length <= 2);
    }
    assert.deepEqual([...depths].filter((d) => d > 0).sort(), [1, 2, 3]);
    // No Invert or SolarizeAdd: they are RandAugment's, not AugMix's.
    assert.deepEqual([...kinds].sort(), ['affine', 'autocontrast', 'brightness', 'color', 'contrast', 'equalize', 'posterize', 'sharpness', 'solarize']);
  });

  it('draws gamma variates with the mean and variance of their shape', () => {
    for (const shape of [0.5, 1, 2.5]) {
      const random = sampleRandom(7, 0, Math.round(shape * 10));
      const draws = Array.from({ length: 20000 }, () => gammaVariate(random, shape));
      const mean = draws.reduce((a, b) => a + b, 0) / draws.length;
      const variance = draws.reduce((a, b) => a + (b - mean) ** 2, 0) / draws.length;
      assert.ok(Math.abs(mean - shape) < 0.05 * shape + 0.02, `shape ${shape}: mean ${mean}`);
      assert.ok(Math.abs(variance - shape) < 0.1 * shape + 0.03, `shape ${shape}: variance ${variance}`);
    }
  });
});

describe('the training transform with --aa augmix', () => {
  it('mixes each sample the same way on any call, unlike the transform without it', async () => {
    const image = join(fixturesDir, '..', '..', 'resources', 'demo-digits', 'train', '3');
    const { readdirSync } = await import('node:fs');
    const file = join(image, readdirSync(image)[0]!);
    const flags = { input_size: 28, scale: [0.5, 1] as [number, number], hflip: 0, train_interpolation: 'bicubic', reprob: 0, remode: 'pixel', recount: 1 };
    const augmix = trainTransformFromFlags({ ...flags, aa: 'augmix-m9-w3' });
    assert.equal(augmix.augMix?.width, 3);
    assert.equal(augmix.randAugment, undefined);
    const load = async (aa: string, index: number) => {
      const out = new Uint8Array(28 * 28 * 3);
      await loadPixelsInto(file, trainTransformFromFlags({ ...flags, aa }), sampleRandom(2, 0, index), out);
      return Buffer.from(out);
    };
    assert.ok((await load('augmix-m9-w3', 5)).equals(await load('augmix-m9-w3', 5)));
    const mixed = await Promise.all([5, 6, 7].map((i) => load('augmix-m9-w3', i)));
    const plain = await Promise.all([5, 6, 7].map((i) => load('none', i)));
    assert.ok(mixed.some((m, i) => !m.equals(plain[i]!)));
  });
});
