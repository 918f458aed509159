// `pix bench` on the tiny networks: images/s and peak memory per (model, mode), the PiX/ResNet
// ratios, and with --profile each network's stem, blocks and head in milliseconds per step, as JSON
// and as the side-by-side table; bad flags named. Figures are only checked to exist and be positive:
// their size is the benchmark's business, not a test's.
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';

const pix = join(__dirname, '..', '..', '..', 'bin', 'pix.js');
const tiny = ['--models', 'pix_resnet_tiny_cs,resnet_tiny', '--batch_size', '4', '--input_size', '32', '--warmup', '1', '--repeats', '2'];

function run(args: string[]): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [pix, 'bench', ...args], { encoding: 'utf8', env: { ...process.env, PIX_NUM_THREADS: '1' } });
}

interface Part { name: string; forwardMs: number; backwardMs: number }
interface Report {
  results: { model: string; mode: string; imagesPerSecond: number; peakRssBytes: number; parts?: Part[] }[];
  ratios: { mode: string; pix: string; resnet: string; ratio: number }[];
}

describe('pix bench', () => {
  it('reports images/s per model and mode, and the PiX/ResNet ratios, as JSON', () => {
    const result = run([...tiny, '--json']);
    assert.equal(result.status, 0, result.stderr);
    const report = JSON.parse(result.stdout) as Report;
    assert.deepEqual(report.results.map((r) => `${r.mode} ${r.model}`),
      ['train pix_resnet_tiny_cs', 'train resnet_tiny', 'infer pix_resnet_tiny_cs', 'infer resnet_tiny']);
    for (const r of report.results) {
      assert.ok(r.imagesPerSecond > 0 && r.peakRssBytes > 0, JSON.stringify(r));
      assert.equal(r.parts, undefined, 'no profile without --profile');
    }
    assert.deepEqual(report.ratios.map((r) => r.mode), ['train', 'infer']);
  });

  it('--profile times every part of each network, per step', () => {
    const result = run([...tiny, '--profile', '--json']);
    assert.equal(result.status, 0, result.stderr);
    const report = JSON.parse(result.stdout) as Report;
    for (const r of report.results) {
      const parts = r.parts!;
      assert.equal(parts[0]!.name, 'stem');
      assert.equal(parts.at(-1)!.name, 'head');
      const blocks = parts.slice(1, -1).map((p) => p.name);
      assert.ok(blocks.length > 0 && blocks.every((b) => /^layer[1-4]\.(blocks\.)?\d+$/.test(b)), blocks.join());
      for (const p of parts) {
        assert.ok(p.forwardMs > 0, `${r.model} ${r.mode} ${p.name}: no forward time`);
        assert.equal(p.backwardMs > 0, r.mode === 'train', `${r.model} ${r.mode} ${p.name}: backward ${p.backwardMs}`);
      }
    }
  });

  it('--profile prints the networks side by side, block by block', () => {
    const result = run([...tiny, '--mode', 'train', '--profile']);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /train step, ms \(forward \+ backward\) per part:/);
    assert.match(result.stdout, /^part\s+pix_resnet_tiny_cs\s+resnet_tiny\s+resnet_tiny \/ pix_resnet_tiny_cs$/m);
    // PiX's 'layer1.blocks.0' and ResNet's 'layer1.0' share a row.
    assert.match(result.stdout, /^layer1\.0\s+[\d.]+ \+ [\d.]+\s+[\d.]+ \+ [\d.]+\s+[\d.]+x$/m);
    assert.match(result.stdout, /^total\s+[\d.]+\s+[\d.]+\s+[\d.]+x$/m);
  });

  it('names a bad mode, precision or count', () => {
    assert.match(run(['--mode', 'fast']).stderr, /--mode must be train, infer or both, got 'fast'/);
    assert.match(run(['--precision', 'fp16']).stderr, /--precision must be fp32 or bf16, got 'fp16'/);
    assert.match(run(['--repeats', '0']).stderr, /--repeats must be a positive integer, got '0'/);
  });
});
