// `pix data` and `pix train` on a folder with planted bad files (a truncated JPEG, a zero-byte
// file, text named .jpg, a corrupt PNG): check names each one with its reason and fails; training
// skips them, lists them in bad_files.txt, and stops once they exceed --max_bad_fraction. bench and
// preview on a clean folder, in the ImageNet layout and as an image folder (a folder of class
// folders); the error for a folder in none of the layouts; closest-flag hints.
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { imageTree } from '../helpers/image_tree';
import { fixturesDir } from '../helpers/fixtures';

const pix = join(__dirname, '..', '..', '..', 'bin', 'pix.js');
const cache = mkdtempSync(join(tmpdir(), 'pix-cache-'));

function run(args: string[]): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [pix, ...args], { encoding: 'utf8', env: { ...process.env, XDG_CACHE_HOME: cache } });
}

// --input_size above 32: these 40x30 images are resized, as the official script resizes them only there.
const trainFlags = ['--model', 'pix_resnet_tiny_cs', '--input_size', '36', '--batch_size', '5', '--epochs', '1', '--opt', 'momentum',
  '--lr', '0.01', '--warmup_epochs', '0', '--aa', 'none', '--reprob', '0', '--mixup', '0', '--cutmix', '0', '--num_workers', '2'];

describe('pix data', () => {
  const planted = imageTree(8, true);
  const clean = imageTree(12, false);

  it('check names every bad file with its reason and exits 1', async () => {
    const { root, bad } = await planted;
    const text = run(['data', 'check', '--data_path', root, '--num_workers', '2']);
    assert.equal(text.status, 1, text.stderr);
    assert.match(text.stdout, /2 classes; train\/ 20 images, val\/ 4 images/);
    assert.match(text.stdout, /^a\s+10\s+2$/m);
    const listed = text.stdout.split('\n').filter((l) => l.includes('\t'));
    assert.deepEqual(listed.map((l) => l.split('\t')[0]).sort(), bad);
    assert.match(text.stderr, /decoded 24\/24 images/);
    const json = run(['data', 'check', '--data_path', root, '--num_workers', '0', '--json']);
    const report = JSON.parse(json.stdout) as { train: { images: number; classes: { name: string; images: number }[] }; bad: { path: string; reason: string }[] };
    assert.deepEqual(report.train.classes, [{ name: 'a', images: 10 }, { name: 'b', images: 10 }]);
    assert.deepEqual(report.bad.map((b) => b.path).sort(), bad);
    for (const b of report.bad) assert.ok(b.reason.length > 0, b.path);
  });

  it('check passes a clean folder', async () => {
    const result = run(['data', 'check', '--data_path', (await clean).root]);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /every image decodes/);
  });

  it('check reads CIFAR-100\'s train and test files', () => {
    const result = run(['data', 'check', '--data_path', join(fixturesDir, 'cifar', 'py2'), '--num_workers', '2']);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /: CIFAR-100, 100 classes; train 40 images, test 20 images\n/);
    assert.match(result.stdout, /every image decodes/);
  });

  it('training skips the bad files and lists them in bad_files.txt', async () => {
    const { root, bad } = await planted;
    const out = mkdtempSync(join(tmpdir(), 'pix-run-'));
    const result = run(['train', '--data_path', root, '--output_dir', out, '--max_bad_fraction', '0.25', ...trainFlags]);
    assert.equal(result.status, 0, result.stderr);
    const lines = readFileSync(join(out, 'bad_files.txt'), 'utf8').trim().split('\n');
    assert.deepEqual(lines.map((l) => l.split('\t')[0]).sort(), bad);
    for (const line of lines) assert.match(line, /^[^\t]+\t\S.*$/);
  });

  it('training stops once the bad files exceed --max_bad_fraction, keeping the list', async () => {
    const { root } = await planted;
    const out = mkdtempSync(join(tmpdir(), 'pix-run-'));
    const result = run(['train', '--data_path', root, '--output_dir', out, ...trainFlags]);
    assert.equal(result.status, 1);
    assert.match(result.stderr, /1 of 20 images could not be decoded, more than the allowed 0\.001 of the dataset \(--max_bad_fraction\)/);
    assert.equal(readFileSync(join(out, 'bad_files.txt'), 'utf8').trim().split('\n').length, 1);
  });

  it('bench reports images/s of the training loader', async () => {
    const result = run(['data', 'bench', '--data_path', (await clean).root, '--num_workers', '1', '--batch_size', '4', '--input_size', '16', '--passes', '2', '--json']);
    assert.equal(result.status, 0, result.stderr);
    const report = JSON.parse(result.stdout) as { imagesPerSecond: number; imagesPerCpuSecond: number; passes: { images: number }[] };
    // 24 images make 6 batches of 4; the first of each pass is not timed.
    assert.deepEqual(report.passes.map((p) => p.images), [20, 20]);
    assert.ok(report.imagesPerSecond > 0 && report.imagesPerCpuSecond > 0);
    assert.equal((report as unknown as { output: string }).output, 'u8', 'the loader pix train uses');
    const f32 = run(['data', 'bench', '--data_path', (await clean).root, '--num_workers', '0', '--batch_size', '4', '--input_size', '16', '--passes', '1', '--batch_dtype', 'f32', '--json']);
    assert.equal(f32.status, 0, f32.stderr);
    assert.equal((JSON.parse(f32.stdout) as { output: string }).output, 'f32');
    const bad = run(['data', 'bench', '--data_path', (await clean).root, '--batch_dtype', 'f16']);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /--batch_dtype must be u8 or f32, got 'f16'/);
  });

  it('preview draws a grid of training samples, the same for the same seed', async () => {
    const { root } = await clean;
    const dir = mkdtempSync(join(tmpdir(), 'pix-preview-'));
    const png = (name: string, seed: string) => {
      const result = run(['data', 'preview', '--data_path', root, '--output', join(dir, name), '--count', '5', '--input_size', '16', '--seed', seed]);
      assert.equal(result.status, 0, result.stderr);
      return readFileSync(join(dir, name));
    };
    const [a, b, c] = [png('a.png', '1'), png('b.png', '1'), png('c.png', '2')];
    // 5 tiles: 3 columns, 2 rows of 16 px with 2 px between.
    const meta = await sharp(a).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height], ['png', 52, 34]);
    assert.ok(a.equals(b));
    assert.ok(!a.equals(c));
  });

  it('check, bench and preview take an image folder (class folders) too', async () => {
    const { root, bad } = await planted;
    const folder = join(root, 'train');  // train/{a,b}/: a folder of class folders
    const text = run(['data', 'check', '--data_path', folder, '--num_workers', '2']);
    assert.equal(text.status, 1, text.stderr);
    assert.match(text.stdout, /train: image folder, 2 classes, 20 images/);
    assert.match(text.stdout, /^a\s+10$/m);
    assert.deepEqual(text.stdout.split('\n').filter((l) => l.includes('\t')).map((l) => l.split('\t')[0]).sort(), bad);
    const json = JSON.parse(run(['data', 'check', '--data_path', folder, '--num_workers', '0', '--json']).stdout) as { dataSet: string; val: unknown };
    assert.deepEqual([json.dataSet, json.val], ['image_folder', null]);
    const clean12 = join((await clean).root, 'train');
    const bench = run(['data', 'bench', '--data_path', clean12, '--num_workers', '0', '--batch_size', '4', '--input_size', '16', '--passes', '1', '--json']);
    assert.equal(bench.status, 0, bench.stderr);
    assert.deepEqual((JSON.parse(bench.stdout) as { passes: { images: number }[] }).passes.map((p) => p.images), [20]);
    const output = join(mkdtempSync(join(tmpdir(), 'pix-preview-')), 'grid.png');
    const preview = run(['data', 'preview', '--data_path', clean12, '--output', output, '--count', '5', '--input_size', '16']);
    assert.equal(preview.status, 0, preview.stderr);
    assert.match(preview.stdout, /5 training samples/);
    assert.equal((await sharp(readFileSync(output)).metadata()).width, 52);
  });

  it('names every accepted layout for a folder in none of them', async () => {
    const loose = join((await clean).root, 'train', 'a');  // images with no class folders
    for (const sub of [['check'], ['bench'], ['preview', '--output', join(tmpdir(), 'never.png')]]) {
      const result = run(['data', sub[0]!, '--data_path', loose, ...sub.slice(1)]);
      assert.equal(result.status, 1, sub[0]);
      assert.match(result.stderr, /is in none of the layouts a data folder may have: the ImageNet layout \(.*, as --data_set IMNET\), an image folder \(.*, as --data_set image_folder\) or CIFAR-100's files \(.*, as --data_set CIFAR\); it holds a000\.JPEG/);
    }
  });

  it('names the closest flag or subcommand', () => {
    const flag = run(['data', 'bench', '--data_path', '/x', '--num_worker', '2']);
    assert.equal(flag.status, 1);
    assert.match(flag.stderr, /unknown flag --num_worker for pix data bench \(did you mean --num_workers\?\)/);
    assert.match(run(['data', 'preveiw']).stderr, /unknown subcommand 'preveiw' \(did you mean 'preview'\?\)/);
    assert.match(run(['data', 'preview', '--data_path', '/x']).stderr, /--output is required/);
  });
});
