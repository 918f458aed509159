// The recipe's optimizers (SGD with Nesterov momentum, plain momentum, AdamW, timm's LAMB) and timm's
// ModelEma against PyTorch (scripts/fixtures/generate_optim.py): three steps from the seeded
// pix_resnet_tiny_cs with seeded gradients, every parameter after every step, the exported optimizer
// state under torch's names and layouts, the pre-clip gradient norm and the EMA state dict. Then the
// parameter groups, clipping, checkpoint round trips and argument errors. Tolerance: max error
// relative to each reference tensor's scale <= 1e-5 (f32).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadEngine, type Model } from '../../../electron/host/engine/addon';
import { floats } from '../../helpers/compare';
import {
  assertClose, assertEmaState, expected, meta, MODEL, optimizerOptions, sample, SCENARIOS, setGrads, setStepBuffers, startModel, STEPS,
  stepOptions, stored,
} from '../../helpers/optim_fixture';

const engine = loadEngine();
const { Model: EngineModel, Optimizer, ModelEma, Tensor } = engine;

/** A model with the same state as `from`. */
function copyModel(from: Model): Model {
  const to = new EngineModel(MODEL);
  for (const e of from.stateEntries()) to.setState(e.key, from.getState(e.key));
  return to;
}

function assertSameState(a: Model, b: Model, what: string) {
  for (const e of a.stateEntries()) {
    assert.deepEqual(a.getState(e.key).toArray(), b.getState(e.key).toArray(), `${what}: ${e.key}`);
  }
}

for (const [name, scenario] of Object.entries(SCENARIOS)) {
  describe(`${name} (${scenario.type}) against PyTorch`, () => {
    it('matches every parameter after each step, the gradient norm and the exported state', () => {
      const { model, entries } = startModel();
      const optimizer = new Optimizer(model, optimizerOptions(scenario));
      const norms = stored(`${name}.grad_norm`).data as Float64Array;
      for (let step = 1; step <= STEPS; step++) {
        setGrads(model, entries, step);
        const { gradNorm } = optimizer.step(stepOptions(scenario, step));
        const norm = norms[step - 1]!;
        assert.ok(Math.abs(gradNorm - norm) <= 1e-9 * norm, `step ${step}: gradNorm ${gradNorm} != ${norm}`);
        assert.equal(optimizer.stepCount, step);
        for (const e of entries) {
          if (!e.parameter) continue;
          const actual = sample(floats(model.getState(e.key)));
          assertClose(actual, expected(`${name}.step${step}.${e.key}`), `step ${step} ${e.key}`);
        }
      }
      const state = optimizer.stateDict();
      const sgd = scenario.type === 'sgd' || scenario.type === 'momentum';
      const slots = sgd ? ['momentum_buffer'] : ['exp_avg', 'exp_avg_sq'];
      const params = entries.filter((e) => e.parameter);
      const names = params.flatMap((e) => slots.map((slot) => `${slot}.${e.key}`));
      assert.deepEqual(Object.keys(state).sort(), [...names, 'step'].sort());
      assert.deepEqual([...(state.step!.toArray() as BigInt64Array)], [BigInt(STEPS)]);
      for (const e of params) {
        for (const slot of slots) {
          const t = state[`${slot}.${e.key}`]!;
          assert.deepEqual(t.shape, e.shape, `${slot}.${e.key}`);
          assertClose(sample(floats(t)), expected(`${name}.state.${slot}.${e.key}`), `${slot}.${e.key}`);
        }
      }
    });
  });
}

describe('LAMB (the recipe optimizer) in full', () => {
  it('matches every element of every parameter after three steps', () => {
    const scenario = SCENARIOS.lamb!;
    const { model, entries } = startModel();
    const optimizer = new Optimizer(model, optimizerOptions(scenario));
    for (let step = 1; step <= STEPS; step++) {
      setGrads(model, entries, step);
      optimizer.step(stepOptions(scenario, step));
    }
    for (const e of entries) {
      if (e.parameter) assertClose(floats(model.getState(e.key)), expected(`lamb.final.${e.key}`), e.key);
    }
  });
});

describe('parameter groups and clipping', () => {
  it('decays only weights with 2+ dims (AdamW, zero gradients): not BatchNorm gamma/beta nor biases', () => {
    const { model, entries } = startModel();
    for (const e of entries) if (e.parameter) model.setGrad(e.key, Tensor.zeros(e.shape));
    const before = new Map(entries.filter((e) => e.parameter).map((e) => [e.key, floats(model.getState(e.key))]));
    new Optimizer(model, { type: 'adamw' }).step({ lr: 0.1, weightDecay: 0.5 });
    const factor = Math.fround(1 - 0.1 * 0.5);
    for (const e of entries) {
      if (!e.parameter) continue;
      const decays = e.kind === 'conv_weight' || e.kind === 'linear_weight';
      const want = before.get(e.key)!.map((v) => (decays ? Math.fround(v * factor) : v));
      assert.deepEqual(Array.from(floats(model.getState(e.key))), Array.from(want), `${e.key} (${e.kind})`);
    }
  });

  it('reports the norm before clipping and leaves clip_grad_norm_\'s scaled gradients, as torch does', () => {
    const { model, entries } = startModel();
    setGrads(model, entries, 1);
    const optimizer = new Optimizer(model, { type: 'adamw' });
    const { gradNorm } = optimizer.step({ lr: 1e-3, weightDecay: 0.05, clipGrad: 0.5 });
    const norm = (stored('adamw_clip.grad_norm').data as Float64Array)[0]!;
    assert.ok(Math.abs(gradNorm - norm) <= 1e-9 * norm, `gradNorm ${gradNorm} != ${norm}`);
    let sum = 0;
    for (const e of entries) if (e.parameter) for (const g of floats(model.getGrad(e.key))) sum += g * g;
    assert.ok(Math.abs(Math.sqrt(sum) - 0.5) < 1e-5, `clipped norm ${Math.sqrt(sum)}`);
  });

  it('has gradients that LAMB clips on steps 1 and 3 only (a check of the fixture itself)', () => {
    const norms = stored('lamb.grad_norm').data as Float64Array;
    assert.ok(norms[0]! > 1 && norms[1]! < 1 && norms[2]! > 1, `norms ${norms}`);
  });
});

describe('optimizer checkpoints', () => {
  for (const name of ['sgd', 'adamw', 'lamb']) {
    it(`${name}: a resumed optimizer continues exactly as the original`, () => {
      const scenario = SCENARIOS[name]!;
      const { model, entries } = startModel();
      const original = new Optimizer(model, optimizerOptions(scenario));
      for (let step = 1; step <= 2; step++) {
        setGrads(model, entries, step);
        original.step(stepOptions(scenario, step));
      }
      const resumedModel = copyModel(model);
      const resumed = new Optimizer(resumedModel, optimizerOptions(scenario));
      resumed.loadStateDict(original.stateDict());
      assert.equal(resumed.stepCount, 2);
      for (const m of [model, resumedModel]) setGrads(m, entries, 3);
      original.step(stepOptions(scenario, 3));
      resumed.step(stepOptions(scenario, 3));
      assertSameState(model, resumedModel, 'after step 3');
    });
  }

  it('refuses incomplete or foreign state and then keeps its own', () => {
    const { model, entries } = startModel();
    setGrads(model, entries, 1);
    const adamw = new Optimizer(model, { type: 'adamw' });
    adamw.step({ lr: 1e-3 });
    const state = adamw.stateDict();
    const fresh = new Optimizer(model, { type: 'adamw' });
    const { 'exp_avg.conv_stem.weight': _, ...missing } = state;
    assert.throws(() => fresh.loadStateDict(missing),
      /optimizer state: 'exp_avg.conv_stem.weight' is missing \(step 1\)/);
    assert.equal(fresh.stepCount, 0);
    assert.deepEqual(Object.keys(fresh.stateDict()), ['step']);
    assert.throws(() => new Optimizer(model, { type: 'sgd' }).loadStateDict(state),
      /'exp_avg\.[\w.]+' is not a state of this optimizer at step 1 \(it keeps: momentum_buffer\)/);
    assert.throws(() => fresh.loadStateDict({ ...state, step: Tensor.zeros([]) }), /'step' must be one i64 value/);
    assert.throws(() => fresh.loadStateDict({ ...state, 'exp_avg.conv_stem.weight': Tensor.zeros([16, 3, 3]) }),
      /'conv_stem.weight' has shape \(16,3,3\), the model expects \(16,3,3,3\)/);
    assert.throws(() => fresh.loadStateDict({ ...state, step: 1 as never }), /argument 'step' must be a Tensor/);
  });
});

describe('ModelEma against PyTorch (timm ModelEma, decay 0.9, along the LAMB run)', () => {
  it('averages every floating entry, copies num_batches_tracked, and copies into a model', () => {
    const scenario = SCENARIOS.lamb!;
    const { model, entries } = startModel();
    const optimizer = new Optimizer(model, optimizerOptions(scenario));
    const ema = new ModelEma(model, { decay: Number(meta.ema_decay) });
    assert.equal(ema.decay, 0.9);
    for (let step = 1; step <= STEPS; step++) {
      setGrads(model, entries, step);
      optimizer.step(stepOptions(scenario, step));
      setStepBuffers(model, entries, step);  // what a training forward would do to the BatchNorm buffers
      ema.update(model);
      assertEmaState(ema.stateDict(), entries, step);
    }
    const evalModel = new EngineModel(MODEL);
    ema.copyTo(evalModel);
    const state = ema.stateDict();
    for (const e of entries) assert.deepEqual(evalModel.getState(e.key).toArray(), state[e.key]!.toArray(), e.key);

    const restored = new ModelEma(new EngineModel(MODEL), { decay: 0.9 });
    restored.loadStateDict(state);
    for (const [key, t] of Object.entries(restored.stateDict())) {
      assert.deepEqual(t.toArray(), state[key]!.toArray(), key);
    }
  });

  it('names a model of another architecture and incomplete state', () => {
    const ema = new ModelEma(new EngineModel(MODEL));
    assert.equal(ema.decay, 0.9999);
    assert.throws(() => ema.update(new EngineModel('resnet_tiny')),
      /ModelEma.update: the model has 140 state entries, the average 110/);
    assert.throws(() => ema.copyTo(new EngineModel('resnet_tiny')), /ModelEma.copy_to: /);
    const { 'bn_stem.running_var': _, ...missing } = ema.stateDict();
    assert.throws(() => ema.loadStateDict(missing), /EMA state: 'bn_stem.running_var' is missing/);
    assert.throws(() => ema.loadStateDict({ ...ema.stateDict(), extra: Tensor.zeros([1]) }),
      /EMA state: 'extra' is not a key of the model/);
    assert.throws(() => new ModelEma(new EngineModel(MODEL), { decay: 1.5 }), /decay must be in \[0, 1\], got 1.5/);
  });
});

describe('argument errors', () => {
  const model = new EngineModel('resnet_tiny');

  it('names bad optimizer types and options', () => {
    assert.throws(() => new Optimizer(model, { type: 'adam' as never }),
      /new Optimizer: unknown optimizer type 'adam' \(valid: sgd, momentum, adamw, lamb\)/);
    assert.throws(() => new Optimizer(model, undefined as never), /new Optimizer: argument 'options' must be an object/);
    assert.throws(() => new Optimizer({} as never, { type: 'sgd' }), /new Optimizer: argument 'model' must be a Model/);
    assert.throws(() => new Optimizer(model, { type: 'momentum', momentum: 1.5 }),
      /momentum must be in \[0, 1\), got 1.5/);
    assert.throws(() => new Optimizer(model, { type: 'sgd', momentum: 0 }), /Nesterov momentum needs momentum > 0/);
    assert.throws(() => new Optimizer(model, { type: 'lamb', betas: [0.9] as never }),
      /'betas' must be an array of two numbers/);
    assert.throws(() => new Optimizer(model, { type: 'adamw', betas: [0.9, 1] }),
      /betas must be in \[0, 1\), got \[0.9, 1\]/);
    assert.throws(() => new Optimizer(model, { type: 'adamw', eps: -1 }), /eps must be a non-negative number/);
    assert.equal(new Optimizer(model, { type: 'lamb' }).type, 'lamb');
  });

  it('names bad step options', () => {
    const optimizer = new Optimizer(model, { type: 'lamb' });
    assert.throws(() => optimizer.step({ lr: -1 }), /lr must be a non-negative number, got -1/);
    assert.throws(() => optimizer.step({} as never), /lr must be a non-negative number, got nan/);
    assert.throws(() => optimizer.step({ lr: 1e-3, weightDecay: -0.1 }), /weight decay must be a non-negative number/);
    assert.throws(() => optimizer.step({ lr: 1e-3, clipGrad: 0 }),
      /clipGrad must be a positive number \(or null for none\)/);
    assert.throws(() => optimizer.step({ lr: '1' as never }), /'lr' must be a number/);
    assert.equal(optimizer.stepCount, 0);
    optimizer.step({ lr: 1e-3, clipGrad: null });
    assert.equal(optimizer.stepCount, 1);
  });

  it('refuses a busy model', async () => {
    const busy = new EngineModel('resnet_tiny');
    const optimizer = new Optimizer(busy, { type: 'adamw' });
    const ema = new ModelEma(busy);
    const running = busy.forward(Tensor.zeros([2, 3, 16, 16]));
    assert.throws(() => optimizer.step({ lr: 1e-3 }), /Optimizer.step: the model is busy/);
    assert.throws(() => ema.update(busy), /ModelEma.update: the model is busy/);
    assert.throws(() => ema.copyTo(busy), /ModelEma.copyTo: the model is busy/);
    assert.throws(() => new ModelEma(busy), /new ModelEma: the model is busy/);
    await running;
    optimizer.step({ lr: 1e-3 });
  });
});
