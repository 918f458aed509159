// RunView's checkpoint list: checkpoint-best and checkpoint-best-ema say which epoch they hold (the
// trainer records it in their metadata; their names do not), numbered ones first, newest first.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { readSafetensorsMetadata, writeSafetensors } from '../../../electron/host/checkpoints/safetensors';
import { RunView } from '../../../electron/host/runs/run_view';

const weights = { 'model.fc.weight': { dtype: 'F32' as const, shape: [2], data: new Float32Array([1, 2]) } };

function runFolder(): string {
  const dir = mkdtempSync(join(tmpdir(), 'pix-run-view-'));
  writeSafetensors(join(dir, 'checkpoint-0.safetensors'), weights, { epoch: '0' });
  writeSafetensors(join(dir, 'checkpoint-1.safetensors'), weights, { epoch: '1' });
  writeSafetensors(join(dir, 'checkpoint-best.safetensors'), weights, { epoch: '0', next_step: '132', config: '{}' });
  writeSafetensors(join(dir, 'checkpoint-best-ema.safetensors'), weights, { epoch: '1', next_step: '264' });
  return dir;
}

describe('RunView.checkpoints', () => {
  it('gives checkpoint-best and checkpoint-best-ema the epoch their metadata records', () => {
    const dir = runFolder();
    const list = new RunView(dir, dir, () => null).checkpoints();
    assert.deepEqual(list.map((c) => [c.name, c.epoch]), [
      ['checkpoint-1', 1], ['checkpoint-0', 0], ['checkpoint-best', 0], ['checkpoint-best-ema', 1],
    ]);
  });

  it('follows a best checkpoint replaced by a later epoch', () => {
    const dir = runFolder();
    const view = new RunView(dir, dir, () => null);
    assert.equal(view.checkpoints().find((c) => c.name === 'checkpoint-best')?.epoch, 0);
    writeSafetensors(join(dir, 'checkpoint-best.safetensors'), { ...weights, 'model.fc.bias': { dtype: 'F32', shape: [1], data: new Float32Array([0]) } }, { epoch: '7' });
    assert.equal(view.checkpoints().find((c) => c.name === 'checkpoint-best')?.epoch, 7);
  });

  it('lists a best checkpoint without an epoch, or a damaged one, with epoch null', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pix-run-view-'));
    writeSafetensors(join(dir, 'checkpoint-best.safetensors'), weights);
    writeFileSync(join(dir, 'checkpoint-best-ema.safetensors'), 'not a checkpoint');
    writeFileSync(join(dir, 'checkpoint-best.pth'), 'PK');
    const list = new RunView(dir, dir, () => null).checkpoints();
    assert.deepEqual(list.map((c) => [c.name, c.epoch]), [['checkpoint-best', null], ['checkpoint-best', null], ['checkpoint-best-ema', null]]);
  });
});

describe('readSafetensorsMetadata', () => {
  it('reads the metadata from the header alone, and refuses what readSafetensors refuses', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pix-run-view-'));
    const path = join(dir, 'a.safetensors');
    writeSafetensors(path, weights, { epoch: '3', model: 'pix_resnet_tiny_cs' });
    assert.deepEqual(readSafetensorsMetadata(path), { epoch: '3', model: 'pix_resnet_tiny_cs' });
    writeSafetensors(path, weights);
    assert.deepEqual(readSafetensorsMetadata(path), {});
    const short = join(dir, 'short.safetensors');
    writeFileSync(short, Buffer.from([1, 2, 3]));
    assert.throws(() => readSafetensorsMetadata(short), /too short for the 8-byte header length/);
    const cut = join(dir, 'cut.safetensors');
    const header = Buffer.alloc(8);
    header.writeBigUInt64LE(1000n);
    writeFileSync(cut, Buffer.concat([header, Buffer.from('{"__metadata__":{}}')]));
    assert.throws(() => readSafetensorsMetadata(cut), /runs past the end/);
    const huge = join(dir, 'huge.safetensors');
    header.writeBigUInt64LE(2n ** 40n);
    writeFileSync(huge, Buffer.concat([header, Buffer.from('{}')]));
    assert.throws(() => readSafetensorsMetadata(huge), /over the limit/);
  });
});
