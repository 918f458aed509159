// What the engine says of its own build: without the CUDA backend, why (the reason CMake recorded
// in build_config.h: CUDA turned off, no compiler, or no toolkit), in `pix info` and in the error a
// CUDA tensor meets. Checked against the CMake cache of the build that made the addon, where there
// is one; a CUDA build says nothing of the kind.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { engineInfo, loadEngine } from '../../../electron/host/engine/addon';

const info = engineInfo();
const cuda = info.backends.cuda;
const cachePath = join(dirname(dirname(info.addonPath)), 'CMakeCache.txt');
const cache = existsSync(cachePath) ? readFileSync(cachePath, 'utf8') : null;

describe('the engine\'s report of its build', () => {
  it('says why a build has no CUDA backend, as its CMake configuration decided', { skip: cuda.compiled && 'this build has the CUDA backend' }, () => {
    assert.match(cuda.unavailableReason!, /^this build has no CUDA backend: (it was built with CUDA turned off|no CUDA compiler was found|CMake found nvcc)/);
    const requested = cache && /^PIX_CUDA:BOOL=(.*)$/m.exec(cache)?.[1];
    if (requested && /^(OFF|0|NO|FALSE)$/i.test(requested)) assert.match(cuda.unavailableReason!, /turned off \(PIX_CUDA=0/);
    if (requested && /^(ON|1|YES|TRUE)$/i.test(requested)) assert.doesNotMatch(cuda.unavailableReason!, /turned off/);
    // A CUDA tensor meets the same reason.
    const { Tensor } = loadEngine();
    assert.throws(() => Tensor.zeros([2], 'f32', 'cuda'), (e: Error) =>
      e.message.includes(cuda.unavailableReason!.replace('this build has no CUDA backend: ', '')) && /use device 'cpu'/.test(e.message));
  });

  it('gives no such reason when CUDA is compiled in', { skip: !cuda.compiled && 'this build has no CUDA backend' }, () => {
    assert.doesNotMatch(cuda.unavailableReason ?? '', /this build has no CUDA backend/);
  });
});
