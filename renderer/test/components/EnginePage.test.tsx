// The Engine page: what the host's engine runs on, including which implementation does CUDA's
// matrix products and convolutions and why NCCL does not load, as `pix info` reports them.
import { cleanup, screen } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import type { EngineInfo } from '../../../shared/engine';
import { EnginePage } from '../../src/pages/EnginePage';
import { fakeClient } from '../fakeClient';
import { renderWithStores } from '../render';

afterEach(cleanup);

const info: EngineInfo = {
  version: '0.1.0',
  addonPath: '/app/native/build/Release/pix_engine.node',
  backends: {
    cpu: { threads: 2, simd: 'avx512', features: ['avx512_bf16'] },
    cuda: {
      compiled: true, emulated: false, runtimeVersion: '13.0', driverVersion: null, devices: [], unavailableReason: 'no usable CUDA device',
      architectures: ['90'], cudnn: false, conv: 'own im2col + gemm (cuDNN not found: tried libcudnn.so.9)', cudnnPath: null, cublas: false,
      gemm: 'own kernel (cuBLAS not found: tried libcublas.so.13)',
      gemmTf32: false, cublasPath: null, nccl: false, ncclLibrary: 'NCCL library libnccl.so.2 not found: NCCL_ROOT is not set',
    },
  },
};

describe('EnginePage', () => {
  it("says what runs CUDA's matrix products and convolutions, and why NCCL is missing", async () => {
    renderWithStores(<EnginePage />, fakeClient({ engineInfo: async () => info }));
    expect(await screen.findByText('own kernel (cuBLAS not found: tried libcublas.so.13)')).toBeTruthy();
    expect(screen.getByText('own im2col + gemm (cuDNN not found: tried libcudnn.so.9)')).toBeTruthy();
    expect(screen.getByText(/cuDNN ✗/).getAttribute('title')).toBe('Not loaded at run time');
    expect(screen.getByText('NCCL library libnccl.so.2 not found: NCCL_ROOT is not set')).toBeTruthy();
    expect(screen.getByText(/cuBLAS ✗/).getAttribute('title')).toBe('Not loaded at run time');
    // The host's reason, written to follow "pix: ", reads as a sentence of its own here.
    expect(screen.getByText('No usable CUDA device')).toBeTruthy();
  });
});
