// Mixup/CutMix (native/src/ops/mixup.h). The application and the targets for a given (lam, box)
// against timm's Mixup._mix_batch and mixup_target run by PyTorch (scripts/fixtures/generate_losses.py);
// the draw against timm's distributions and rules: Beta(alpha, alpha) moments, the cutmix and
// no-mix frequencies, boxes inside the image with timm's sizes, the area-corrected lam, and the same
// parameters for the same (seed, step). The draws are seeded, so these checks never flake: each
// tolerance is over four standard errors of the estimate it bounds.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadEngine, type MixupConfig, type MixupParams, type Tensor } from '../../../electron/host/engine/addon';
import { floats, maxRelativeError } from '../../helpers/compare';
import { readFixture } from '../../helpers/fixtures';

const engine = loadEngine();
const { Tensor } = engine;
const fixture = readFixture('losses.safetensors');
const params = JSON.parse(fixture.metadata.params!) as {
  smoothing: number; mixup_lam: number; cutmix_box: [number, number, number, number]; cutmix_lam: number;
};

function stored(name: string): Tensor {
  const t = fixture.tensors.get(name)!;
  return Tensor.fromArray(t.data as Float32Array | BigInt64Array, t.shape);
}

describe('mixup application against timm in PyTorch', () => {
  const labels = stored('mixup.labels');
  const classes = 5;

  it('mixes the batch with its flip at lam', () => {
    const x = stored('mixup.x');
    engine.mixupApply(x, { lam: params.mixup_lam, cutmix: false, box: { y0: 0, y1: 0, x0: 0, x1: 0 } });
    assert.ok(maxRelativeError(floats(x), floats(stored('mixup.mixed'))) <= 1e-6);
    const targets = engine.mixupTargets(labels, classes, { lam: params.mixup_lam, smoothing: params.smoothing });
    assert.ok(maxRelativeError(floats(targets), floats(stored('mixup.targets'))) <= 1e-6);
  });

  it('pastes the flipped batch into the box, with lam corrected to the box area', () => {
    const [y0, y1, x0, x1] = params.cutmix_box;
    const x = stored('mixup.x');
    const [, h, w] = x.shape as [number, number, number];
    engine.mixupApply(x, { lam: params.cutmix_lam, cutmix: true, box: { y0, y1, x0, x1 } });
    assert.deepEqual(floats(x), floats(stored('cutmix.mixed')));
    assert.equal(params.cutmix_lam, 1 - ((y1 - y0) * (x1 - x0)) / (h * w));
    const targets = engine.mixupTargets(labels, classes, { lam: params.cutmix_lam, smoothing: params.smoothing });
    assert.ok(maxRelativeError(floats(targets), floats(stored('cutmix.targets'))) <= 1e-6);
  });

  it('leaves the batch as it is at lam 1 or with an empty box', () => {
    const original = floats(stored('mixup.x'));
    const x = stored('mixup.x');
    engine.mixupApply(x, { lam: 1, cutmix: false, box: { y0: 0, y1: 0, x0: 0, x1: 0 } });
    engine.mixupApply(x, { lam: 1, cutmix: true, box: { y0: 3, y1: 3, x0: 0, x1: 9 } });
    assert.deepEqual(floats(x), original);
    assert.deepEqual(floats(engine.mixupTargets(labels, classes, { lam: 1 })), floats(engine.smoothOneHot(labels, classes, 0)));
  });
});

const recipe: MixupConfig = { mixupAlpha: 0.8, cutmixAlpha: 1.0, prob: 1, switchProb: 0.5 };
const DRAWS = 10_000;

function draws(config: MixupConfig, height = 224, width = 224, seed = 0): MixupParams[] {
  return Array.from({ length: DRAWS }, (_, step) => engine.mixupDraw(config, { height, width, seed, step }));
}

function moments(values: number[]): { mean: number; variance: number } {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  return { mean, variance: values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length };
}

function fraction(list: MixupParams[], test: (p: MixupParams) => boolean): number {
  return list.filter(test).length / list.length;
}

describe('mixup draw', () => {
  it('gives the same parameters for the same seed and step, and others elsewhere', () => {
    const at = { height: 224, width: 224, seed: 42, step: 7 };
    assert.deepEqual(engine.mixupDraw(recipe, at), engine.mixupDraw(recipe, at));
    assert.notDeepEqual(engine.mixupDraw(recipe, at), engine.mixupDraw(recipe, { ...at, step: 8 }));
    assert.notDeepEqual(engine.mixupDraw(recipe, at), engine.mixupDraw(recipe, { ...at, seed: 43 }));
  });

  // Beta(a, a) has mean 1/2 and variance 1 / (4 (2a + 1)), which singles out a.
  for (const alpha of [0.15, 0.8, 1, 4]) {
    it(`draws mixup lam from Beta(${alpha}, ${alpha})`, () => {
      const list = draws({ mixupAlpha: alpha, cutmixAlpha: 0 }, 224, 224, 3);
      assert.ok(list.every((p) => !p.cutmix && p.lam > 0 && p.lam <= 1));
      const { mean, variance } = moments(list.map((p) => p.lam));
      assert.ok(Math.abs(mean - 0.5) < 0.02, `mean ${mean}`);
      assert.ok(Math.abs(variance - 1 / (4 * (2 * alpha + 1))) < 0.005, `variance ${variance}`);
    });
  }

  it('stays inside [0, 1] for tiny alphas', () => {
    const list = draws({ mixupAlpha: 0.005 }).map((p) => p.lam);
    assert.ok(list.every((lam) => lam >= 0 && lam <= 1));
    assert.ok(moments(list).variance > 0.24);  // nearly all mass at 0 and 1
  });

  for (const switchProb of [0.5, 0.2]) {
    it(`chooses cutmix with probability switchProb = ${switchProb}`, () => {
      const share = fraction(draws({ ...recipe, switchProb }), (p) => p.cutmix);
      assert.ok(Math.abs(share - switchProb) < 0.02, `cutmix share ${share}`);
    });
  }

  it('mixes a batch with probability prob', () => {
    const list = draws({ ...recipe, prob: 0.6 });
    const share = fraction(list, (p) => p.lam === 1 && !p.cutmix);
    assert.ok(Math.abs(share - 0.4) < 0.02, `unmixed share ${share}`);
  });

  it('cuts only with cutmix alone', () => {
    assert.ok(draws({ mixupAlpha: 0, cutmixAlpha: 1 }).every((p) => p.cutmix));
  });

  for (const [h, w] of [[224, 224], [7, 9], [1, 1]] as const) {
    it(`corrects cutmix lam to 1 - box area / image area, boxes inside ${h}x${w}`, () => {
      for (const p of draws({ ...recipe, switchProb: 1 }, h, w)) {
        const { y0, y1, x0, x1 } = p.box;
        assert.ok(p.cutmix && 0 <= y0 && y0 <= y1 && y1 <= h && 0 <= x0 && x0 <= x1 && x1 <= w, JSON.stringify(p));
        assert.equal(p.lam, 1 - ((y1 - y0) * (x1 - x0)) / (h * w));
      }
    });
  }

  it("cuts timm's rand_bbox: sides of 2 * (int(side * sqrt(1 - lam)) // 2), clipped at the border", () => {
    const [h, w] = [37, 53];
    let inner = 0;
    for (const p of draws({ ...recipe, switchProb: 1, correctLam: false }, h, w)) {
      const { y0, y1, x0, x1 } = p.box;
      const cut = (side: number) => 2 * Math.floor(Math.floor(side * Math.sqrt(1 - p.lam)) / 2);
      assert.ok(y0 >= 0 && y1 <= h && x0 >= 0 && x1 <= w);
      assert.ok(y1 - y0 <= cut(h) && x1 - x0 <= cut(w), JSON.stringify(p));
      if (y0 > 0 && y1 < h) assert.equal(y1 - y0, cut(h), JSON.stringify(p));
      if (x0 > 0 && x1 < w) assert.equal(x1 - x0, cut(w), JSON.stringify(p));
      if (y0 > 0 && y1 < h && x0 > 0 && x1 < w) inner++;
    }
    assert.ok(inner > DRAWS / 10, `only ${inner} boxes away from the border`);
  });

  it("cuts timm's rand_bbox_minmax boxes, always with the corrected lam", () => {
    const [h, w] = [40, 60];
    const sides = { h: new Set<number>(), w: new Set<number>() };
    for (const p of draws({ mixupAlpha: 0, cutmixMinmax: [0.2, 0.8], correctLam: false }, h, w)) {
      const { y0, y1, x0, x1 } = p.box;
      assert.ok(p.cutmix && y0 >= 0 && y1 <= h && x0 >= 0 && x1 <= w);
      assert.ok(y1 - y0 >= 8 && y1 - y0 < 32 && x1 - x0 >= 12 && x1 - x0 < 48, JSON.stringify(p));
      assert.equal(p.lam, 1 - ((y1 - y0) * (x1 - x0)) / (h * w));
      sides.h.add(y1 - y0);
      sides.w.add(x1 - x0);
    }
    assert.equal(sides.h.size, 32 - 8);
    assert.equal(sides.w.size, 48 - 12);
  });
});

describe('mixup argument errors', () => {
  const at = { height: 8, width: 8, seed: 0, step: 0 };
  const none = { y0: 0, y1: 0, x0: 0, x1: 0 };

  it('refuses bad configurations', () => {
    assert.throws(() => engine.mixupDraw({ mixupAlpha: -1 }, at), /mixup_alpha must be >= 0, got -1/);
    assert.throws(() => engine.mixupDraw({ mixupAlpha: 0, cutmixAlpha: 0 }, at),
      /one of mixup_alpha > 0, cutmix_alpha > 0 or cutmix_minmax must be set/);
    assert.throws(() => engine.mixupDraw({ prob: 1.5 }, at), /prob must be in \[0, 1\], got 1.5/);
    assert.throws(() => engine.mixupDraw({ switchProb: -0.1 }, at), /switch_prob must be in \[0, 1\]/);
    assert.throws(() => engine.mixupDraw({ cutmixMinmax: [0.8, 0.2] }, at), /cutmix_minmax must be \[min, max\] with 0 <= min < max <= 1/);
    assert.throws(() => engine.mixupDraw({ mixupAlpha: 0, cutmixMinmax: [0.5, 0.6] }, { ...at, height: 4 }),
      /cutmix_minmax \[0.5, 0.6\] leaves no box side to draw for a 4x8 image/);
    assert.throws(() => engine.mixupDraw({ cutmixMinmax: [0.2] as unknown as [number, number] }, at), TypeError);
    assert.throws(() => engine.mixupDraw(recipe, { ...at, step: -1 }), /step must be a non-negative integer, got -1/);
    assert.throws(() => engine.mixupDraw(recipe, { ...at, width: 0 }), /image size must be at least 1x1, got 8x0/);
  });

  it('refuses bad batches and parameters', () => {
    const odd = Tensor.zeros([3, 4, 4, 2]);
    assert.throws(() => engine.mixupApply(odd, { lam: 0.5, cutmix: false, box: none }), /batch size must be even .* got N = 3/);
    const x = Tensor.zeros([2, 4, 5, 3]);
    assert.throws(() => engine.mixupApply(x, { lam: 0.5, cutmix: true, box: { y0: 0, y1: 5, x0: 0, x1: 5 } }),
      /box rows \[0, 5\) and columns \[0, 5\) do not lie in the 4x5 image/);
    assert.throws(() => engine.mixupApply(x, { lam: 1.5, cutmix: false, box: none }), /lam must be in \[0, 1\], got 1.5/);
    assert.throws(() => engine.mixupApply(x.cast('f64'), { lam: 0.5, cutmix: false, box: none }), /x must be f32 on the cpu, got f64/);
    assert.throws(() => engine.mixupApply(Tensor.zeros([2, 4, 5]), { lam: 0.5, cutmix: false, box: none }), /x must be 4-D \(N,H,W,C\)/);
    const labels = Tensor.fromArray(BigInt64Array.from([0n, 7n]), [2]);
    assert.throws(() => engine.mixupTargets(labels, 5, { lam: 0.5 }), /labels\[1\] = 7 is outside \[0, 5\)/);
    assert.throws(() => engine.mixupTargets(labels, 8, { lam: -0.5 }), /lam must be in \[0, 1\], got -0.5/);
    assert.throws(() => engine.mixupTargets(labels, 8, { smoothing: 1 } as unknown as { lam: number }), /'lam' must be a number/);
  });
});
