// `pix inspect`, `pix convert` and `pix predict` on PyTorch .pth files, as a new user tries them on
// a checkpoint in the official training layout: inspected (metadata and every tensor's statistics),
// converted to safetensors and back, and run to PyTorch's logits within 1e-4.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { extractStateDict, readPth } from '../../electron/host/checkpoints/pth/read_pth';
import { readSafetensors, writeSafetensors, type StoredTensor } from '../../electron/host/checkpoints/safetensors';
import { maxRelativeError } from '../helpers/compare';
import { fixturesDir, readFixture } from '../helpers/fixtures';

const pix = join(__dirname, '..', '..', '..', 'bin', 'pix.js');
const dir = mkdtempSync(join(tmpdir(), 'pix-inspect-'));
const training = join(fixturesDir, 'pth', 'pix_resnet_tiny_cs.training.pth');
const expected = readFixture('pth/expected.safetensors').tensors;

function run(...args: string[]) {
  return spawnSync(process.execPath, [pix, ...args], { encoding: 'utf8' });
}

function sameValues(actual: Map<string, StoredTensor>, reference: Map<string, StoredTensor>): void {
  assert.deepEqual([...actual.keys()].sort(), [...reference.keys()].sort());
  for (const [key, t] of reference) {
    const a = actual.get(key)!;
    assert.deepEqual([a.dtype, a.shape], [t.dtype, t.shape], key);
    assert.deepEqual(Array.from(a.data as ArrayLike<number | bigint>), Array.from(t.data as ArrayLike<number | bigint>), key);
  }
}

interface InspectJson {
  format: string;
  stateDictKey: string | null;
  metadata: { epoch?: number; args?: Record<string, unknown> };
  tensors: { name: string; shape: number[]; dtype: string; min: number | null; max: number | null; mean: number | null; std: number | null }[];
}

describe('pix inspect', () => {
  it('lists the metadata and every tensor of a training checkpoint with its statistics, as JSON', () => {
    const result = run('inspect', training, '--json');
    assert.equal(result.status, 0, result.stderr);
    const report = JSON.parse(result.stdout) as InspectJson;
    assert.deepEqual([report.format, report.stateDictKey, report.metadata.epoch], ['pth', 'model', 7]);
    assert.equal(report.metadata.args?.lr, 1e-3);
    assert.equal(report.metadata.args?.model, 'pix_resnet_tiny_cs');
    const state = extractStateDict(readPth(training));
    assert.deepEqual(report.tensors.map((t) => t.name), [...state.keys()]);

    const weight = report.tensors.find((t) => t.name === 'conv_stem.weight')!;
    const values = Array.from(state.get('conv_stem.weight')!.data as Float32Array);
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    const std = Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (values.length - 1));
    assert.deepEqual([weight.dtype, weight.shape, weight.min, weight.max], ['F32', [16, 3, 3, 3], Math.min(...values), Math.max(...values)]);
    assert.ok(Math.abs(weight.mean! - mean) < 1e-12 && Math.abs(weight.std! - std) < 1e-12);
    const counter = report.tensors.find((t) => t.name === 'bn_stem.num_batches_tracked')!;
    assert.deepEqual([counter.dtype, counter.min, counter.max, counter.std], ['I64', 1, 1, null]);
  });

  it('prints a readable table for people', () => {
    const result = run('inspect', training);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /PyTorch checkpoint, state dict under 'model'/);
    assert.match(result.stdout, /^epoch: 7$/m);
    assert.match(result.stdout, /^ {2}lr: 0\.001$/m);
    assert.match(result.stdout, /^name +shape +dtype +min +max +mean +std$/m);
    assert.match(result.stdout, /^conv_stem\.weight +\[16,3,3,3\] +F32 /m);
    assert.match(result.stdout, /^\d+ tensors, [\d,]+ values$/m);
  });

  it('inspects safetensors too', () => {
    const result = run('inspect', '--json', join(fixturesDir, 'pth', 'expected.safetensors'));
    assert.equal(result.status, 0, result.stderr);
    const report = JSON.parse(result.stdout) as InspectJson;
    assert.equal(report.format, 'safetensors');
    assert.deepEqual(report.tensors.map((t) => t.name).sort(), ['input', 'logits.eval']);
  });

  it('says when a file is no checkpoint at all', () => {
    const result = run('inspect', join(fixturesDir, 'param_counts.json'));
    assert.equal(result.status, 1);
    assert.match(result.stderr, /param_counts\.json: neither a PyTorch checkpoint \(\.pth\) nor a safetensors file/);
  });

  it('refuses a malicious pickle, naming the global', () => {
    const result = run('inspect', join(fixturesDir, 'pth', 'malicious', 'os_system.pth'));
    assert.equal(result.status, 1);
    assert.match(result.stderr, /os_system\.pth: refusing global os\.system/);
  });
});

describe('pix convert', () => {
  it('converts a training checkpoint to safetensors and back to a .pth with the same state dict', () => {
    const state = extractStateDict(readPth(training));
    const safetensors = join(dir, 'converted.safetensors');
    let result = run('convert', training, safetensors);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /wrote \d+ tensors of .* \(the state dict under 'model'\)/);
    const converted = readSafetensors(safetensors);
    sameValues(converted.tensors, state);
    assert.equal(converted.metadata.epoch, '7');
    assert.equal((JSON.parse(converted.metadata.args!) as Record<string, unknown>).lr, 1e-3);

    const pth = join(dir, 'back.pth');
    result = run('convert', safetensors, pth);
    assert.equal(result.status, 0, result.stderr);
    const back = readPth(pth) as Record<string, unknown>;
    assert.deepEqual(Object.keys(back), ['model', 'epoch']);
    assert.equal(back.epoch, 7);
    sameValues(extractStateDict(back), state);
  });

  it('says which output extensions it knows', () => {
    const result = run('convert', training, join(dir, 'out.bin'));
    assert.equal(result.status, 1);
    assert.match(result.stderr, /must end in \.safetensors, \.pth or \.pt/);
  });
});

describe('pix predict on a .pth', () => {
  const input = join(dir, 'input.safetensors');
  writeSafetensors(input, new Map([['input', expected.get('input')!]]));

  it("reads the same input as the model's safetensors fixture", () => {
    const fixtureInput = readFixture('pix_resnet_tiny_cs.safetensors').tensors.get('input')!;
    assert.deepEqual(Array.from(expected.get('input')!.data as Float32Array), Array.from(fixtureInput.data as Float32Array));
  });

  const cases = [['the official training checkpoint', training], ['its conversion to safetensors', join(dir, 'predict.safetensors')]];
  for (const [i, [what, checkpoint]] of cases.entries()) {
    it(`gives PyTorch's logits within 1e-4 from ${what}`, () => {
      if (checkpoint!.endsWith('.safetensors')) assert.equal(run('convert', training, checkpoint!).status, 0);
      const output = join(dir, `logits-${i}.safetensors`);
      const result = run('predict', '--model', 'pix_resnet_tiny_cs', '--checkpoint', checkpoint!, '--input', input, '--output', output);
      assert.equal(result.status, 0, result.stderr);
      const logits = readSafetensors(output).tensors.get('logits')!;
      const reference = expected.get('logits.eval')!;
      assert.deepEqual(logits.shape, reference.shape);
      assert.ok(maxRelativeError(logits.data as Float32Array, reference.data as Float32Array) <= 1e-4);
    });
  }
});
