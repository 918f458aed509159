// Where `pix train` may run (electron/host/train/cuda_device.ts): the device checked against the
// engine's CUDA report, each refusal saying why and what to pass, and the placement --use_amp
// gives. Runs everywhere: the reports are built here, and the refusal of this machine's engine is
// checked against what that engine says about itself.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultRunConfig } from '../../../shared/config';
import type { CudaBackendInfo } from '../../../shared/engine';
import { engineInfo, loadEngine } from '../../../electron/host/engine/addon';
import { unsupportedFlags } from '../../../electron/host/train/components';
import { deviceProblem, placement } from '../../../electron/host/train/cuda_device';

function report(overrides: Partial<CudaBackendInfo>): CudaBackendInfo {
  return { compiled: true, emulated: false, runtimeVersion: '13.0', driverVersion: '13.0', devices: [], unavailableReason: null,
    architectures: ['90'], cudnn: false, conv: null, cudnnPath: null, cublas: false, gemm: 'own kernel', gemmTf32: false, cublasPath: null, nccl: false,
    ncclLibrary: null, ...overrides };
}

const h100 = { name: 'NVIDIA H100 80GB HBM3', capability: '9.0', totalMemoryBytes: 80e9, multiprocessors: 132 };

describe('deviceProblem', () => {
  it('accepts the CPU anywhere, and a device the engine sees', () => {
    assert.equal(deviceProblem('cpu', report({ compiled: false })), null);
    const two = report({ devices: [{ index: 0, ...h100 }, { index: 1, ...h100 }] });
    for (const device of ['cuda', 'cuda:0', 'cuda:1']) assert.equal(deviceProblem(device, two), null, device);
  });

  it('refuses with the reason: no CUDA backend, no usable device, a missing ordinal, a bad name', () => {
    const off = 'this build has no CUDA backend: it was built with CUDA turned off (PIX_CUDA=0)';
    assert.equal(deviceProblem('cuda', report({ compiled: false, unavailableReason: off })), `${off}; use --device cpu`);
    assert.equal(deviceProblem('cuda', report({ compiled: false })), 'this build of the engine has no CUDA backend; use --device cpu');
    assert.equal(deviceProblem('cuda', report({ unavailableReason: 'no usable CUDA device: no CUDA-capable device is detected' })),
      'no usable CUDA device: no CUDA-capable device is detected; use --device cpu');
    assert.equal(deviceProblem('cuda:2', report({ devices: [{ index: 0, ...h100 }] })), 'cuda:2 does not exist (this machine has cuda:0)');
    assert.equal(deviceProblem('gpu', report({})), "'gpu' is not cpu, cuda or cuda:N");
  });
});

describe('placement', () => {
  it('gives bf16 activations only for --use_amp on CUDA, and names cuda:0 for cuda', () => {
    assert.deepEqual(placement({ device: 'cuda', use_amp: true }), { device: 'cuda:0', activations: 'bf16' });
    assert.deepEqual(placement({ device: 'cuda:1', use_amp: false }), { device: 'cuda:1', activations: 'f32' });
    assert.deepEqual(placement({ device: 'cpu', use_amp: true }), { device: 'cpu', activations: 'f32' });
  });
});

describe('unsupportedFlags and --device', () => {
  const cuda = engineInfo().backends.cuda;
  const usable = cuda.compiled && cuda.devices.length > 0;

  it('refuses --device cuda with the engine\'s reason where no device is usable, and admits it where one is', () => {
    const lines = unsupportedFlags({ ...defaultRunConfig(), device: 'cuda' }).filter((l) => l.startsWith('--device'));
    if (usable) assert.deepEqual(lines, []);
    else assert.deepEqual(lines, [`--device cuda: ${deviceProblem('cuda', cuda)}`]);
  });

  it('admits several processes on CUDA where NCCL loads, and otherwise refuses them saying what is missing', { skip: usable ? false : 'needs a usable CUDA device' }, () => {
    const lines = unsupportedFlags({ ...defaultRunConfig(), device: 'cuda', nproc_per_node: 2 }).filter((l) => l.startsWith('--device'));
    const nccl = loadEngine().ncclLibraryStatus();
    if (nccl.available) assert.deepEqual(lines, []);
    else assert.ok(lines.some((l) => l.includes(nccl.reason!) && /--nproc_per_node 1/.test(l)), lines.join('\n'));
  });
});
