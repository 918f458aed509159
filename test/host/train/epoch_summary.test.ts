import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { epochSummary } from '../../../electron/host/train/epoch_summary';

describe('epochSummary', () => {
  it('gives the training loss alone for an epoch without evaluation', () => {
    assert.equal(epochSummary({ epoch: 3, train_loss: 1.234567 }), 'epoch 3: train loss 1.2346');
  });

  it('adds the evaluation of the network and of every EMA, in the record\'s order', () => {
    const record = { epoch: 0, train_loss: 2, test_acc1: 87.666, test_acc5: 99.1, test_loss: 0.5, ema_test_acc1: 80, ema_test_acc5: 98,
      ema_test_loss: 0.75, 'ema_0.999_test_acc1': 85.5, 'ema_0.999_test_acc5': 99, 'ema_0.999_test_loss': 0.6 };
    assert.equal(epochSummary(record), 'epoch 0: train loss 2.0000 test acc1 87.67% acc5 99.10% loss 0.5000 ' +
      'ema acc1 80.00% acc5 98.00% loss 0.7500 ema 0.999 acc1 85.50% acc5 99.00% loss 0.6000');
  });
});
