// The run-config schema's own messages: each check says what the value must be and the value it
// got, in words `pix train`, the run form and the host's 400 all show as they are.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runConfigSchema } from '../../shared/config';

/** The message for each field of `partial` the schema refuses. */
function messages(partial: Record<string, unknown>): Record<string, string> {
  const parsed = runConfigSchema.safeParse(partial);
  assert.ok(!parsed.success, 'the config was accepted');
  return Object.fromEntries(parsed.error.issues.map((issue) => [issue.path.join('.'), issue.message]));
}

describe('run config messages', () => {
  it('names the bound and the value of each numeric check', () => {
    assert.deepEqual(messages({ lr: 0, weight_decay: -0.5, reprob: 1.5, drop: 1, crop_pct: 0, master_port: 70000, model_ema_decays: [0.9, -1] }), {
      lr: 'must be above 0, got 0',
      weight_decay: 'must be 0 or more, got -0.5',
      reprob: 'must be between 0 and 1, got 1.5',
      drop: 'must be 0 or more and below 1, got 1',
      crop_pct: 'must be above 0 and at most 1, got 0',
      master_port: 'must be a port from 1 to 65535, got 70000',
      'model_ema_decays.1': 'must be between 0 and 1, got -1',
    });
  });

  it('names the kind a value must be, as a request to the host may get it wrong', () => {
    assert.deepEqual(messages({ epochs: 1.5, lr: '0.1', eval: 'yes', model: 3, scale: [], opt: 'adam', device: 'gpu' }), {
      epochs: 'must be a whole number, got 1.5',
      lr: "must be a number, got '0.1'",
      eval: "must be true or false, got 'yes'",
      model: 'must be text, got 3',
      scale: 'must be one or more numbers, got []',
      opt: "must be adamw, lamb, sgd or momentum, got 'adam'",
      device: "must be cpu, cuda or cuda:N, got 'gpu'",
    });
  });
});
