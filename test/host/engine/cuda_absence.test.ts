// The engine page and `pix info` said "nvcc was not found" for a build made with PIX_CUDA=0, where
// CUDA was turned off on purpose: the reason now comes from the build's CMake cache.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { engineInfo } from '../../../electron/host/engine/addon';
import { buildCacheOf, CUDA_TURNED_OFF, cudaAbsenceReason, NO_CUDA_BUILD, NVCC_NOT_FOUND } from '../../../electron/host/engine/cuda_absence';

const cache = (...lines: string[]) => ['# This is the CMakeCache file.', 'CMAKE_BUILD_TYPE:STRING=Release', ...lines, ''].join('\n');

describe('why a build has no CUDA backend', () => {
  it('says CUDA was turned off when the build was configured with PIX_CUDA OFF', () => {
    for (const off of ['OFF', 'off', '0', 'FALSE', 'NO']) assert.equal(cudaAbsenceReason(cache(`PIX_CUDA:BOOL=${off}`)), CUDA_TURNED_OFF, off);
    assert.doesNotMatch(CUDA_TURNED_OFF, /not found/);
  });

  it('says nvcc was not found when CUDA was asked for and CMake found no compiler', () => {
    assert.equal(cudaAbsenceReason(cache('PIX_CUDA:BOOL=ON')), NVCC_NOT_FOUND);
    assert.equal(cudaAbsenceReason(cache('PIX_CUDA:BOOL=ON', 'CMAKE_CUDA_COMPILER:FILEPATH=CMAKE_CUDA_COMPILER-NOTFOUND')), NVCC_NOT_FOUND);
    assert.equal(cudaAbsenceReason(cache('PIX_CUDA:BOOL=ON', 'CMAKE_CUDA_COMPILER:STRING=NOTFOUND')), NVCC_NOT_FOUND);
  });

  it('names the nvcc CMake found when the toolkit was missing', () => {
    const reason = cudaAbsenceReason(cache('PIX_CUDA:BOOL=ON', 'CMAKE_CUDA_COMPILER:FILEPATH=/opt/cuda/bin/nvcc'));
    assert.match(reason, /found nvcc \(\/opt\/cuda\/bin\/nvcc\).*not the CUDA toolkit/);
  });

  it('covers every case in its words when there is no cache to read', () => {
    assert.equal(cudaAbsenceReason(null), NO_CUDA_BUILD);
    assert.equal(cudaAbsenceReason(cache()), NO_CUDA_BUILD);
    assert.match(NO_CUDA_BUILD, /PIX_CUDA=0.*without nvcc/);
    assert.equal(buildCacheOf('/nonexistent/build/Release/pix_engine.node'), null);
  });

  it("is what engineInfo reports for this machine's build", () => {
    const info = engineInfo();
    if (info.backends.cuda.compiled) return;  // CUDA builds keep the engine's device reason
    const text = existsSync(join(dirname(dirname(info.addonPath)), 'CMakeCache.txt'))
      ? readFileSync(join(dirname(dirname(info.addonPath)), 'CMakeCache.txt'), 'utf8') : null;
    assert.equal(info.backends.cuda.unavailableReason, cudaAbsenceReason(text));
    if (text && /^PIX_CUDA:BOOL=OFF$/m.test(text)) assert.doesNotMatch(info.backends.cuda.unavailableReason ?? '', /nvcc was not found/);
  });
});
