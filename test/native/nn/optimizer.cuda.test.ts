// The optimizers and the EMA on CUDA parameters against PyTorch directly (the fixture of
// optimizer.test.ts, scripts/fixtures/generate_optim.py): the multi-tensor kernels, the gradient
// norm and clipping computed on the device, every parameter after every step and the exported
// state, within the CPU's tolerance; and zeroGrad's multi-tensor launch. pix_resnet_tiny_cs's parameters span several multi-tensor
// launches, so a tensor lost at a launch's edge fails here. Skips, printing why, where no CUDA
// device is usable.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadEngine } from '../../../electron/host/engine/addon';
import { floats } from '../../helpers/compare';
import { cudaSkipReason } from '../../helpers/cuda';
import {
  assertClose, assertEmaState, expected, optimizerOptions, sample, SCENARIOS, setGrads, setStepBuffers, startModel, STEPS, stepOptions, stored,
} from '../../helpers/optim_fixture';

const skip = cudaSkipReason();
const DEVICE = 'cuda:0';

describe('optimizers on CUDA against PyTorch', { skip }, () => {
  const { Optimizer, ModelEma } = loadEngine();

  for (const [name, scenario] of Object.entries(SCENARIOS)) {
    it(`${name} (${scenario.type}): every parameter after each step, the gradient norm and the exported state`, () => {
      const { model, entries } = startModel(DEVICE);
      assert.ok(entries.filter((e) => e.parameter).length > 24, 'the parameters span more than one launch');
      const optimizer = new Optimizer(model, optimizerOptions(scenario));
      const norms = stored(`${name}.grad_norm`).data as Float64Array;
      for (let step = 1; step <= STEPS; step++) {
        setGrads(model, entries, step);
        const { gradNorm } = optimizer.step(stepOptions(scenario, step));
        assert.ok(Math.abs(gradNorm - norms[step - 1]!) <= 1e-9 * norms[step - 1]!, `step ${step}: gradNorm ${gradNorm} != ${norms[step - 1]}`);
        for (const e of entries) {
          if (e.parameter) assertClose(sample(floats(model.getState(e.key))), expected(`${name}.step${step}.${e.key}`), `step ${step} ${e.key}`);
        }
      }
      const state = optimizer.stateDict();
      for (const [slot, t] of Object.entries(state)) {
        if (slot !== 'step') assertClose(sample(floats(t)), expected(`${name}.state.${slot}`), slot);
      }
    });
  }

  it('LAMB (the recipe optimizer): every element of every parameter after three steps', () => {
    const scenario = SCENARIOS.lamb!;
    const { model, entries } = startModel(DEVICE);
    const optimizer = new Optimizer(model, optimizerOptions(scenario));
    for (let step = 1; step <= STEPS; step++) {
      setGrads(model, entries, step);
      optimizer.step(stepOptions(scenario, step));
    }
    for (const e of entries) if (e.parameter) assertClose(floats(model.getState(e.key)), expected(`lamb.final.${e.key}`), e.key);
  });

  it('zeroGrad zeroes every gradient, across launches', () => {
    const { model, entries } = startModel(DEVICE);
    setGrads(model, entries, 1);
    model.zeroGrad();
    for (const e of entries) if (e.parameter) assert.ok(floats(model.getGrad(e.key)).every((v) => v === 0), e.key);
  });

  it('ModelEma along the LAMB run: every floating entry, num_batches_tracked copied', () => {
    const scenario = SCENARIOS.lamb!;
    const { model, entries } = startModel(DEVICE);
    const optimizer = new Optimizer(model, optimizerOptions(scenario));
    const ema = new ModelEma(model, { decay: 0.9 });
    for (let step = 1; step <= STEPS; step++) {
      setGrads(model, entries, step);
      optimizer.step(stepOptions(scenario, step));
      setStepBuffers(model, entries, step);
      ema.update(model);
      assertEmaState(ema.stateDict(), entries, step);
    }
  });
});
