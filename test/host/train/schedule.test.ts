// The cosine schedules against values computed from the official formula by hand.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cosineSchedule } from '../../../electron/host/train/schedule';

describe('cosineSchedule', () => {
  it('warms up linearly including both ends, then follows the cosine', () => {
    const s = cosineSchedule({ base: 1, final: 0, epochs: 3, itersPerEpoch: 2, warmupEpochs: 1 });
    // warm-up: linspace(0, 1, 2) = [0, 1]; cosine over 4 iterations: 0.5 * (1 + cos(pi * i / 4))
    const expected = [0, 1, 1, 0.5 * (1 + Math.SQRT1_2), 0.5, 0.5 * (1 - Math.SQRT1_2)];
    assert.deepEqual(Array.from(s).map((v) => +v.toFixed(12)), expected.map((v) => +v.toFixed(12)));
  });

  it('lets warmup_steps override warmup_epochs, and runs without warm-up', () => {
    assert.equal(cosineSchedule({ base: 2, final: 1, epochs: 2, itersPerEpoch: 5, warmupEpochs: 1, warmupSteps: 3 })[2], 2);
    const wd = cosineSchedule({ base: 0.05, final: 0.05, epochs: 1, itersPerEpoch: 4 });
    assert.deepEqual(Array.from(wd), [0.05, 0.05, 0.05, 0.05]);
  });

  it('refuses an empty schedule or a warm-up longer than training', () => {
    assert.throws(() => cosineSchedule({ base: 1, final: 0, epochs: 1, itersPerEpoch: 0 }), /at least one iteration/);
    assert.throws(() => cosineSchedule({ base: 1, final: 0, epochs: 1, itersPerEpoch: 2, warmupEpochs: 2 }), /longer than training/);
  });
});
