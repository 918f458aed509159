// CUDA faults during training (electron/host/train/cuda_faults.ts): the engine's out-of-memory
// message becomes advice on --batch_size, its other CUDA errors a lost device, each with where
// training was; errors that are not the device's are left alone. The messages are the engine's
// own (native/src/core/cuda), so this runs without a GPU.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classifyCudaFault } from '../../../electron/host/train/cuda_faults';

const at = { device: 'cuda:0', batchSize: 128, useAmp: false, epoch: 3, step: 1500 };
const oom = new Error('CUDA out of memory on cuda:0: tried to allocate 2048 MiB with 70000 MiB in use by the engine, 1024 of ' +
  '81000 MiB free on the device (out of memory); try a smaller batch size');

describe('classifyCudaFault', () => {
  it('turns out-of-memory into a smaller --batch_size (and --use_amp when off), keeping the engine\'s numbers', () => {
    const fault = classifyCudaFault(oom, at)!;
    assert.equal(fault.kind, 'out_of_memory');
    assert.match(fault.reason, /^cuda:0 ran out of memory at epoch 3, step 1500 with --batch_size 128: try a smaller --batch_size \(e\.g\. 64;/);
    assert.match(fault.reason, /--use_amp true/);
    assert.match(fault.reason, /the last checkpoint is kept/);
    assert.match(fault.reason, /tried to allocate 2048 MiB/);
    assert.doesNotMatch(classifyCudaFault(oom, { ...at, useAmp: true })!.reason, /--use_amp/);
  });

  it('says when the fault came before the first step', () => {
    const fault = classifyCudaFault(oom, { device: 'cuda:1', batchSize: 1, useAmp: true })!;
    assert.match(fault.reason, /^cuda:1 ran out of memory before training began with --batch_size 1/);
  });

  it('calls any other CUDA error a lost device, with the engine\'s message and how to continue', () => {
    for (const message of [
      'CUDA error in cudaStreamSynchronize(s): an illegal memory access was encountered (caching_allocator.cu:40)',
      'CUDA launch of conv2d failed: unspecified launch failure',
      'cuda:0 is not usable: unknown error',
    ]) {
      const fault = classifyCudaFault(new Error(message), at)!;
      assert.equal(fault?.kind, 'device_lost', message);
      assert.equal(fault.reason, `cuda:0 failed at epoch 3, step 1500: ${message}. Training stopped; the last checkpoint is kept. ` +
        'Check the device (nvidia-smi), then continue with --auto_resume true.');
    }
  });

  it('leaves errors that are not the device\'s to the caller', () => {
    assert.equal(classifyCudaFault(new Error('soft_target_cross_entropy: targets have shape (2,3) but the logits (2,4)'), at), null);
    assert.equal(classifyCudaFault('ENOSPC: no space left on device', at), null);
  });
});
