// The job queue's rule: one CPU run at a time, GPUs handed out lowest first, FIFO with
// reservation (a big GPU run collects GPUs and is not overtaken), runs for other devices go ahead,
// impossible requests refused up front, queue positions.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DeviceQueue, requestOf, visibleDevicesFor } from '../../../electron/host/jobs/device_queue';

describe('DeviceQueue', () => {
  it('runs one CPU job at a time, in arrival order', () => {
    const queue = new DeviceQueue(0);
    queue.enqueue('a', { kind: 'cpu' });
    queue.enqueue('b', { kind: 'cpu' });
    assert.deepEqual(queue.schedule(), [{ id: 'a', devices: ['cpu'] }]);
    assert.equal(queue.position('b'), 1);
    assert.deepEqual(queue.schedule(), []);
    queue.remove('a');
    assert.deepEqual(queue.schedule(), [{ id: 'b', devices: ['cpu'] }]);
    assert.equal(queue.position('b'), null);
  });

  it('keeps GPUs for a waiting multi-GPU run instead of letting later single-GPU runs take them', () => {
    const queue = new DeviceQueue(4);
    queue.enqueue('one', requestOf('cuda', 1));
    assert.deepEqual(queue.schedule(), [{ id: 'one', devices: ['cuda:0'] }]);
    queue.enqueue('four', requestOf('cuda', 4));
    queue.enqueue('small', requestOf('cuda', 1));
    queue.enqueue('cpu', requestOf('cpu', 1));
    // three GPUs are free, but 'four' is ahead and reserves them; the CPU run is not in its way.
    assert.deepEqual(queue.schedule(), [{ id: 'cpu', devices: ['cpu'] }]);
    assert.deepEqual([queue.position('four'), queue.position('small')], [1, 2]);
    queue.remove('one');
    assert.deepEqual(queue.schedule(), [{ id: 'four', devices: ['cuda:0', 'cuda:1', 'cuda:2', 'cuda:3'] }]);
    queue.remove('four');
    assert.deepEqual(queue.schedule(), [{ id: 'small', devices: ['cuda:0'] }]);
  });

  it('gives a named GPU only that GPU, and lets a waiting named-GPU run block only its own device', () => {
    const queue = new DeviceQueue(2);
    queue.enqueue('first', requestOf('cuda:1', 1));
    queue.enqueue('second', requestOf('cuda:1', 1));
    queue.enqueue('any', requestOf('cuda', 1));
    assert.deepEqual(queue.schedule(), [{ id: 'first', devices: ['cuda:1'] }, { id: 'any', devices: ['cuda:0'] }]);
    assert.equal(queue.position('second'), 1);
  });

  it('refuses requests this machine can never meet, naming them', () => {
    const queue = new DeviceQueue(1);
    assert.throws(() => queue.enqueue('x', requestOf('cuda', 2)), /nproc_per_node 2 asks for 2 GPUs; this machine has 1/);
    assert.throws(() => queue.enqueue('x', requestOf('cuda:3', 1)), /cuda:3: this machine has CUDA devices 0..0/);
    assert.throws(() => new DeviceQueue(0).enqueue('x', requestOf('cuda', 1)), /asks for 1 GPUs; this machine has 0/);
    assert.throws(() => requestOf('cuda:0', 2), /needs device cuda/);
  });
});

describe('visibleDevicesFor', () => {
  it('makes the GPUs a multi-GPU run holds its cuda:0..N-1, through the host\'s own CUDA_VISIBLE_DEVICES', () => {
    assert.equal(visibleDevicesFor(['cuda:2', 'cuda:3'], undefined), '2,3');
    assert.equal(visibleDevicesFor(['cuda:0', 'cuda:1'], '4,5,6'), '4,5');
    assert.equal(visibleDevicesFor(['cuda:1', 'cuda:2'], 'GPU-aa, GPU-bb, GPU-cc'), 'GPU-bb,GPU-cc');
  });

  it('leaves the CPU and a single GPU alone, and refuses a mixed holding', () => {
    assert.equal(visibleDevicesFor(['cpu'], undefined), undefined);
    assert.equal(visibleDevicesFor(['cuda:3'], '0,1,2,3'), undefined);
    assert.throws(() => visibleDevicesFor(['cuda:0', 'cpu'], undefined), /holds 'cpu', not a GPU/);
  });
});
