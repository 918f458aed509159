// The ImageFolder index cache: a second scan reads the cache instead of the folders; adding,
// removing or renaming a file or a class invalidates it; a corrupt cache file is ignored and
// rewritten; a folder changed too recently to trust its time is not cached.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { scanImageFolder } from '../../../electron/host/data/image_folder';
import { cacheDir, indexCachePath, readCachedIndex } from '../../../electron/host/data/index_cache';

process.env.XDG_CACHE_HOME = mkdtempSync(join(tmpdir(), 'pix-cache-'));

const HOUR_AGO = new Date(Date.now() - 3_600_000);

/** A split folder whose folders look untouched for an hour (so it is not "racy"). */
function split(files: string[]): string {
  const root = mkdtempSync(join(tmpdir(), 'pix-split-'));
  for (const file of files) {
    mkdirSync(join(root, file, '..'), { recursive: true });
    writeFileSync(join(root, file), '');
  }
  age(root, ...new Set(files.map((f) => join(root, f, '..'))));
  return root;
}

function age(...folders: string[]): void {
  for (const folder of folders) utimesSync(folder, HOUR_AGO, HOUR_AGO);
}

function names(root: string): string[] {
  return scanImageFolder(root).samples.map((s) => `${s.label}:${s.path.slice(root.length + 1)}`);
}

describe('index cache', () => {
  it('lives under XDG_CACHE_HOME, keyed by the absolute path', () => {
    assert.equal(cacheDir(), join(process.env.XDG_CACHE_HOME!, 'pix-workbench'));
    assert.notEqual(indexCachePath('/data/a/train'), indexCachePath('/data/b/train'));
    assert.equal(indexCachePath('/data/a/train'), indexCachePath('/data/a/x/../train'));
  });

  it('is written by a scan and read by the next one', () => {
    const root = split(['cat/a.jpg', 'cat/b.jpg', 'dog/c.png']);
    assert.equal(readCachedIndex(root), undefined);
    const first = names(root);
    assert.deepEqual(readCachedIndex(root), { classes: ['cat', 'dog'], files: [['a.jpg', 'b.jpg'], ['c.png']] });
    // Proof that the second scan reads the cache: a cache entry edited in place (stamps intact) is believed.
    const path = indexCachePath(root);
    const cached = JSON.parse(readFileSync(path, 'utf8')) as { files: string[][] };
    cached.files[1] = ['c.png', 'z.png'];
    writeFileSync(path, JSON.stringify(cached));
    assert.deepEqual(names(root), [...first, '1:dog/z.png']);
  });

  for (const [change, edit] of [
    ['adding a file', (root: string) => writeFileSync(join(root, 'dog', 'd.jpg'), '')],
    ['removing a file', (root: string) => rmSync(join(root, 'cat', 'b.jpg'))],
    ['renaming a file', (root: string) => renameSync(join(root, 'cat', 'a.jpg'), join(root, 'cat', 'e.jpg'))],
    ['adding a class', (root: string) => { mkdirSync(join(root, 'eel')); writeFileSync(join(root, 'eel', 'f.jpg'), ''); }],
    ['renaming a class', (root: string) => renameSync(join(root, 'dog'), join(root, 'doe'))],
  ] as const) {
    it(`is invalidated by ${change}`, () => {
      const root = split(['cat/a.jpg', 'cat/b.jpg', 'dog/c.png']);
      names(root);
      assert.ok(readCachedIndex(root));
      edit(root);
      assert.equal(readCachedIndex(root), undefined);
      assert.deepEqual(names(root), scanImageFolder(root, { cache: false }).samples.map((s) => `${s.label}:${s.path.slice(root.length + 1)}`));
    });
  }

  it('ignores a corrupt cache file and rewrites it', () => {
    const root = split(['cat/a.jpg']);
    names(root);
    writeFileSync(indexCachePath(root), '{"format": "pix-image-folder-index/1", "classes": [');
    assert.equal(readCachedIndex(root), undefined);
    assert.deepEqual(names(root), ['0:cat/a.jpg']);
    assert.ok(readCachedIndex(root));
  });

  it('does not cache a folder changed within the last seconds', () => {
    const root = split(['cat/a.jpg']);
    writeFileSync(join(root, 'cat', 'b.jpg'), '');
    assert.deepEqual(names(root), ['0:cat/a.jpg', '0:cat/b.jpg']);
    assert.equal(existsSync(indexCachePath(root)), false);
  });

  it('never fails a scan when the cache cannot be written', () => {
    const saved = process.env.XDG_CACHE_HOME;
    const blocker = join(mkdtempSync(join(tmpdir(), 'pix-cache-')), 'file');
    writeFileSync(blocker, '');
    process.env.XDG_CACHE_HOME = blocker;  // a file where the cache folder would be
    try {
      assert.deepEqual(names(split(['cat/a.jpg'])), ['0:cat/a.jpg']);
    } finally {
      process.env.XDG_CACHE_HOME = saved;
    }
  });
});
