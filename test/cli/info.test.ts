// `pix info`: the JSON parses and says what the build has; the text form names the backends.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { EngineInfo } from '../../shared/engine';

const pix = join(__dirname, '..', '..', '..', 'bin', 'pix.js');

describe('pix info', () => {
  it('prints parseable JSON with both backends', () => {
    const info = JSON.parse(execFileSync(process.execPath, [pix, 'info', '--json'], { encoding: 'utf8' })) as EngineInfo;
    assert.match(info.version, /^\d+\.\d+\.\d+/);
    assert.ok(info.backends.cpu.threads >= 1);
    assert.ok(['avx512', 'avx2', 'portable'].includes(info.backends.cpu.simd));
    assert.equal(typeof info.backends.cuda.compiled, 'boolean');
    for (const key of ['cudnn', 'cublas', 'nccl'] as const) assert.equal(typeof info.backends.cuda[key], 'boolean');
    if (info.backends.cuda.devices.length === 0) assert.ok(info.backends.cuda.unavailableReason);
  });

  it('honours PIX_NUM_THREADS', () => {
    const out = execFileSync(process.execPath, [pix, 'info', '--json'], {
      encoding: 'utf8', env: { ...process.env, PIX_NUM_THREADS: '3' },
    });
    assert.equal((JSON.parse(out) as EngineInfo).backends.cpu.threads, 3);
  });

  it('prints a readable summary', () => {
    const out = execFileSync(process.execPath, [pix, 'info'], { encoding: 'utf8' });
    assert.match(out, /^PiX engine /);
    assert.match(out, /cpu +\d+ threads?, SIMD/);
    assert.match(out, /cuda +/);
  });

  it('suggests the closest command for a typo', () => {
    const result = spawnSync(process.execPath, [pix, 'inof'], { encoding: 'utf8' });
    assert.equal(result.status, 2);
    assert.match(result.stderr, /did you mean 'info'/);
  });
});
