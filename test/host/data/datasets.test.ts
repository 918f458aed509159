// Which folders a run trains and evaluates on (the official build_dataset): IMNET's train/ and val/,
// image_folder's data_path and eval_data_path with the official nb_classes assertion, CIFAR-100's files,
// and every mistake named with its flag. A data folder given without --data_set (pix data, the
// host API): its layout detected, and a folder in none of them refused with each named.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fixturesDir } from '../../helpers/fixtures';
import { dataFolderSplits, datasetSplits, DatasetFlagError, detectDataSet, runEvaluates, unusedDatasetFlags, type DatasetFlags } from '../../../electron/host/data/datasets';

process.env.XDG_CACHE_HOME = mkdtempSync(join(tmpdir(), 'pix-cache-'));

function tree(files: string[]): string {
  const root = mkdtempSync(join(tmpdir(), 'pix-splits-'));
  for (const file of files) {
    mkdirSync(join(root, file, '..'), { recursive: true });
    writeFileSync(join(root, file), '');
  }
  return root;
}

const flags = (overrides: Partial<DatasetFlags>): DatasetFlags => ({ data_set: 'IMNET', data_path: '', eval_data_path: '', nb_classes: 1000, ...overrides });

/** The error datasetSplits throws, which must be a DatasetFlagError naming `flag`. */
function refusal(f: DatasetFlags, flag: string, message: RegExp, evaluation = true): void {
  assert.throws(() => datasetSplits(f, { evaluation, cache: false }), (error: unknown) => {
    assert.ok(error instanceof DatasetFlagError, String(error));
    assert.equal(error.flag, flag);
    assert.match(error.message, message);
    return true;
  });
}

const relative = (root: string, paths: { path: string; label: number }[]) => paths.map((s) => [s.path.slice(root.length + 1), s.label]);

describe('datasetSplits', () => {
  it('IMNET: data_path/train and data_path/val; only train/ when the run never evaluates', () => {
    const root = tree(['train/cat/a.jpg', 'train/dog/b.jpg', 'val/cat/c.jpg', 'val/dog/d.jpg']);
    const { train, val } = datasetSplits(flags({ data_path: root, nb_classes: 7 }));  // nb_classes is unused with IMNET
    assert.deepEqual(relative(root, train.samples), [['train/cat/a.jpg', 0], ['train/dog/b.jpg', 1]]);
    assert.deepEqual(relative(root, val.samples), [['val/cat/c.jpg', 0], ['val/dog/d.jpg', 1]]);
    const noVal = tree(['train/cat/a.jpg']);
    assert.equal(datasetSplits(flags({ data_path: noVal }), { evaluation: false }).val, null);
    refusal(flags({ data_path: noVal }), 'data_path', /has no val\/ folder: the ImageNet layout is/);
    refusal(flags({ data_path: '' }), 'data_path', /--data_path is empty/);
  });

  it('image_folder: trains on data_path itself and evaluates on eval_data_path', () => {
    const trainRoot = tree(['cat/a.jpg', 'cat/b.jpg', 'dog/c.png']);
    const evalRoot = tree(['cat/d.jpg', 'dog/e.jpg']);
    const { train, val } = datasetSplits(flags({ data_set: 'image_folder', data_path: trainRoot, eval_data_path: evalRoot, nb_classes: 2 }));
    assert.deepEqual(train.classes, ['cat', 'dog']);
    assert.deepEqual(relative(trainRoot, train.samples), [['cat/a.jpg', 0], ['cat/b.jpg', 0], ['dog/c.png', 1]]);
    assert.deepEqual(relative(evalRoot, val.samples), [['cat/d.jpg', 0], ['dog/e.jpg', 1]]);
    // Without evaluation eval_data_path is neither needed nor opened, as the official script never builds it.
    assert.equal(datasetSplits(flags({ data_set: 'image_folder', data_path: trainRoot, nb_classes: 2 }), { evaluation: false }).val, null);
  });

  it('image_folder: names a missing folder, a class count other than nb_classes, and classes that differ', () => {
    const trainRoot = tree(['cat/a.jpg', 'dog/c.png']);
    const base = flags({ data_set: 'image_folder', data_path: trainRoot, nb_classes: 2 });
    refusal({ ...base, data_path: '' }, 'data_path', /--data_set image_folder trains on --data_path, which is empty/);
    refusal(base, 'eval_data_path', /--data_set image_folder evaluates on --eval_data_path, which is empty: .*or --disable_eval true/);
    refusal({ ...base, nb_classes: 1000 }, 'nb_classes',
      /--nb_classes is 1000 but --data_path .* holds 2 class folders \(cat, dog\); .*as the official script asserts: pass --nb_classes 2$/);
    refusal({ ...base, eval_data_path: tree(['cat/x.jpg', 'dog/y.jpg', 'eel/z.jpg']) }, 'nb_classes', /--nb_classes is 2 but --eval_data_path .* holds 3 class folders/);
    refusal({ ...base, eval_data_path: tree(['cat/x.jpg', 'eel/z.jpg']) }, 'eval_data_path',
      /--data_path .* and --eval_data_path .* name different classes .*; only in --data_path .*: dog; only in --eval_data_path .*: eel/);
    refusal({ ...base, eval_data_path: join(tmpdir(), 'pix-no-such-folder') }, 'eval_data_path', /pix-no-such-folder is not a folder/);
    refusal({ ...base, data_path: join(tmpdir(), 'pix-no-such-folder') }, 'data_path', /pix-no-such-folder is not a folder/);
    // An ImageNet-layout folder passed as image_folder: its "classes" train and val hold folders, not images; the message says what to pass.
    const imagenet = tree(['train/cat/a.jpg', 'val/cat/b.jpg']);
    refusal({ ...base, data_path: imagenet }, 'data_path',
      /2 class folders hold no images \(train, val\).*looks like the ImageNet layout \(train\/ and val\/\): pass --data_set IMNET, or --data_path .*\/train --eval_data_path .*\/val$/);
  });

  it('CIFAR: train and test of data_path/cifar-100-python, 100 classes whatever nb_classes says', () => {
    const root = join(fixturesDir, 'cifar', 'py2');
    const { train, val, notes } = datasetSplits(flags({ data_set: 'CIFAR', data_path: root, nb_classes: 1000 }));
    assert.equal(train.classes.length, 100);
    assert.deepEqual([train.samples.length, val.samples.length], [40, 20]);
    assert.ok(train.samples.every((s) => s.packed));
    // One line per file: meta once, train, test.
    assert.deepEqual(notes!.map((n) => n.split(' ')[0]!.split('/').at(-1)), ['meta', 'train', 'test']);
    assert.equal(datasetSplits(flags({ data_set: 'CIFAR', data_path: root }), { evaluation: false }).val, null);
  });

  it('refuses a CIFAR folder that is not there, naming where to fetch it, and unknown kinds', () => {
    refusal(flags({ data_set: 'CIFAR', data_path: tree(['a/b.jpg']) }), 'data_path',
      /holds no cifar-100-python folder\. The official script downloads it; training here downloads nothing: run pix data fetch-cifar --data_path .*, or fetch https:\/\/www\.cs\.toronto\.edu\/~kriz\/cifar-100-python\.tar\.gz and extract it into /);
    refusal(flags({ data_set: 'CIFAR' }), 'data_path', /--data_set CIFAR reads CIFAR-100 from --data_path\/cifar-100-python, and --data_path is empty/);
    refusal(flags({ data_set: 'INAT' }), 'data_set', /--data_set INAT: must be IMNET, image_folder or CIFAR/);
  });

  it('says which dataset flags are unused, and when a run evaluates', () => {
    assert.deepEqual(unusedDatasetFlags(flags({ data_path: '/d' })), []);
    assert.match(unusedDatasetFlags(flags({ data_path: '/d', eval_data_path: '/e' }))[0]!, /--eval_data_path \/e is unused with --data_set IMNET/);
    assert.deepEqual(unusedDatasetFlags(flags({ data_set: 'image_folder', data_path: '/d', eval_data_path: '/e' })), []);
    assert.match(unusedDatasetFlags(flags({ data_set: 'CIFAR', data_path: '/d', eval_data_path: '/e' }))[0]!, /--eval_data_path \/e is unused with --data_set CIFAR/);
    assert.equal(runEvaluates({ eval: false, disable_eval: false }), true);
    assert.equal(runEvaluates({ eval: false, disable_eval: true }), false);
    assert.equal(runEvaluates({ eval: true, disable_eval: true }), true);
  });
});

describe('dataFolderSplits', () => {
  it('detects the ImageNet layout and an image folder, which is its own evaluation split', () => {
    const imnet = tree(['train/cat/a.jpg', 'train/dog/b.jpg', 'val/cat/c.jpg', 'val/dog/d.jpg']);
    const splits = dataFolderSplits(imnet, { cache: false });
    assert.equal(splits.data_set, 'IMNET');
    assert.deepEqual(relative(imnet, splits.val!.samples), [['val/cat/c.jpg', 0], ['val/dog/d.jpg', 1]]);
    const folder = tree(['cat/a.jpg', 'cat/b.PNG', 'dog/c.jpeg', 'notes.txt']);
    const own = dataFolderSplits(folder, { cache: false });
    assert.equal(own.data_set, 'image_folder');
    assert.deepEqual(relative(folder, own.train.samples), [['cat/a.jpg', 0], ['cat/b.PNG', 0], ['dog/c.jpeg', 1]]);
    assert.equal(own.val, own.train);
    assert.equal(dataFolderSplits(folder, { cache: false, evaluation: false }).val, null);
    assert.equal(detectDataSet(join(imnet, 'train')), 'image_folder');
    const cifar = join(fixturesDir, 'cifar', 'py2');
    for (const root of [cifar, join(cifar, 'cifar-100-python')]) {
      const found = dataFolderSplits(root);
      assert.deepEqual([found.data_set, found.train.samples.length, found.val!.samples.length, found.train.classes.length], ['CIFAR', 40, 20, 100]);
    }
  });

  it('refuses a folder in none of the layouts, naming each and what it holds', () => {
    const neither = (root: string, holds: RegExp) => assert.throws(() => dataFolderSplits(root, { cache: false }), (error: unknown) => {
      assert.ok(error instanceof DatasetFlagError, String(error));
      assert.equal(error.flag, 'data_path');
      assert.match(error.message, /the ImageNet layout \(.*train\/<class>\/<image> and .*val\/<class>\/<image>, as --data_set IMNET\), an image folder \(.*\/<class>\/<image>, as --data_set image_folder\) or CIFAR-100's files \(.*\/cifar-100-python\/\{train,test,meta\}, as --data_set CIFAR\)/);
      assert.match(error.message, holds);
      return true;
    });
    neither(tree(['train/cat/a.jpg', 'readme.txt']), /it holds train\/, readme\.txt/);  // train/ without val/, no images one level down
    neither(tree(['a.jpg', 'b.jpg']), /it holds a\.jpg, b\.jpg \(images need one folder per class\)/);
    neither(mkdtempSync(join(tmpdir(), 'pix-empty-')), /it is empty/);
    neither('/nonexistent/data', /\/nonexistent\/data is not a folder/);
  });
});
