// ImageFolder scanning: torchvision's class order, case-insensitive extensions, followed symbolic
// links, and the layout mistakes users make, each named with advice.
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { scanImageFolder, scanImageNetLayout } from '../../../electron/host/data/image_folder';

process.env.XDG_CACHE_HOME = mkdtempSync(join(tmpdir(), 'pix-cache-'));

function tree(files: string[]): string {
  const root = mkdtempSync(join(tmpdir(), 'pix-folder-'));
  for (const file of files) {
    mkdirSync(join(root, file, '..'), { recursive: true });
    writeFileSync(join(root, file), '');
  }
  return root;
}

describe('ImageFolder', () => {
  it('sorts classes like torchvision and matches extensions case-insensitively', () => {
    const root = tree(['n02/b.JPEG', 'n02/a.jpg', 'n01/x.Png', 'n01/notes.txt', 'B/y.webp', 'a/z.bmp']);
    const folder = scanImageFolder(root);
    assert.deepEqual(folder.classes, ['B', 'a', 'n01', 'n02']);
    assert.deepEqual(folder.samples.map((s) => [s.path.slice(root.length + 1), s.label]),
      [['B/y.webp', 0], ['a/z.bmp', 1], ['n01/x.Png', 2], ['n02/a.jpg', 3], ['n02/b.JPEG', 3]]);
  });

  it('names empty classes and the accepted extensions', () => {
    assert.throws(() => scanImageFolder(tree(['cat/a.jpg', 'dog/readme.md'])), /1 class folder holds no images \(dog\); accepted extensions: \.jpg/);
  });

  it('explains the flat ILSVRC validation folder', () => {
    assert.throws(() => scanImageFolder(tree(['ILSVRC2012_val_00000001.JPEG', 'ILSVRC2012_val_00000002.JPEG'])),
      /holds 2 images but no class folders.*flat ILSVRC2012 validation folder/);
  });

  it('checks the ImageNet layout', () => {
    assert.throws(() => scanImageNetLayout(join(tmpdir(), 'pix-does-not-exist')), /is not a folder/);
    assert.throws(() => scanImageNetLayout(tree(['train/cat/a.jpg'])), /has no val\/ folder: the ImageNet layout is .*\(it holds train\/\)/);
    assert.throws(() => scanImageNetLayout(tree(['n01/a.jpg', 'n02/b.jpg'])), /has no train\/ or val\/ folder: .*\(it holds n01\/, n02\/\)/);
    assert.throws(() => scanImageNetLayout(tree(['train/cat/a.jpg', 'train/dog/b.jpg', 'val/cat/c.jpg', 'val/eel/d.jpg'])),
      /train\/ and val\/ name different classes .*; only in train\/: dog; only in val\/: eel/);
    assert.throws(() => scanImageNetLayout(tree(['train/cat/a.jpg', 'val/ILSVRC2012_val_00000001.JPEG'])),
      /val holds 1 images but no class folders.*valprep/);
    const layout = scanImageNetLayout(tree(['train/cat/a.jpg', 'val/cat/b.png']));
    assert.equal(layout.train.samples.length, 1);
    assert.equal(layout.val.samples.length, 1);
  });

  it('follows symbolic links to class folders and to images, as torchvision does', () => {
    const elsewhere = tree(['dogs/a.jpg', 'b.png']);
    const root = tree(['cat/c.jpg']);
    symlinkSync(join(elsewhere, 'dogs'), join(root, 'dog'));
    symlinkSync(join(elsewhere, 'b.png'), join(root, 'cat', 'b.png'));
    symlinkSync(join(elsewhere, 'missing.jpg'), join(root, 'cat', 'dangling.jpg'));
    const folder = scanImageFolder(root);
    assert.deepEqual(folder.classes, ['cat', 'dog']);
    assert.deepEqual(folder.samples.map((s) => s.path.slice(root.length + 1)), ['cat/b.png', 'cat/c.jpg', 'dog/a.jpg']);
  });

  it('names a folder it may not read', (t) => {
    if (process.getuid?.() === 0) {
      t.skip('running as root, which reads any folder');
      return;
    }
    const root = tree(['cat/a.jpg', 'dog/b.jpg']);
    chmodSync(join(root, 'dog'), 0o000);
    try {
      assert.throws(() => scanImageFolder(root, { cache: false }), /cannot read the folder .*dog: permission denied/);
    } finally {
      chmodSync(join(root, 'dog'), 0o755);
    }
  });

  it('finds the embedded demo dataset (made by npm install)', () => {
    const { train, val } = scanImageNetLayout(join(__dirname, '..', '..', '..', '..', 'resources', 'demo-digits'));
    assert.deepEqual(train.classes, ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    assert.equal(train.samples.length + val.samples.length, 10_000);
    assert.ok(val.samples.length > 1400 && val.samples.length < 1600);
  });
});
