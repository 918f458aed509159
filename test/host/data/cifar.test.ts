// CIFAR-100's pickles read as torchvision reads them (fixtures from scripts/fixtures/generate_cifar.py,
// checked there with pickle.load(encoding='latin1')): the published Python 2 form and Python 3's
// protocols 2 and 4 give the same classes, labels and HWC pixels; where the folder may be; the
// refusals, each naming the file; and the per-process cache, which a check leaves untouched.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CifarError, readCifar100 } from '../../../electron/host/data/cifar';
import { packedPixels } from '../../../electron/host/data/image_folder';
import { fixturesDir } from '../../helpers/fixtures';

interface Expected {
  classes: string[];
  train: { labels: number[]; hwc_sha256: string };
  test: { labels: number[]; hwc_sha256: string };
}

const fixture = (variant: string) => join(fixturesDir, 'cifar', variant);
const expected = (variant: string) => JSON.parse(readFileSync(join(fixture(variant), 'expected.json'), 'utf8')) as Expected;

/** A copy of the py2 fixture whose `file` (train, test or meta) is replaced by `bytes`. */
function withFile(file: string, bytes: Uint8Array): string {
  const root = mkdtempSync(join(tmpdir(), 'pix-cifar-'));
  cpSync(fixture('py2'), root, { recursive: true });
  writeFileSync(join(root, 'cifar-100-python', file), bytes);
  return root;
}

function refused(root: string, split: 'train' | 'test', message: RegExp): void {
  assert.throws(() => readCifar100(root, split), (error: unknown) => {
    assert.ok(error instanceof CifarError, String(error));
    assert.match(error.message, message);
    return true;
  });
}

describe('CIFAR-100 pickles', () => {
  for (const variant of ['py2', 'py3_p2', 'py3_p4']) {
    it(`reads the ${variant} form: classes, labels and HWC pixels as torchvision gives them`, () => {
      const want = expected(variant);
      for (const split of ['train', 'test'] as const) {
        const folder = readCifar100(fixture(variant), split);
        assert.deepEqual(folder.classes, want.classes);
        assert.deepEqual(folder.samples.map((s) => s.label), want[split].labels);
        const hash = createHash('sha256');
        for (const sample of folder.samples) hash.update(packedPixels(sample.packed!));
        assert.equal(hash.digest('hex'), want[split].hwc_sha256);
        const last = folder.samples.length - 1;
        assert.match(folder.samples[last]!.path, new RegExp(`cifar-100-python/${split}\\[${last}\\]$`));
        assert.ok(folder.samples[0]!.packed!.images.pixels.buffer instanceof SharedArrayBuffer);
        assert.equal(folder.notes.length, 2);  // meta and the split
        assert.match(folder.notes[1]!, new RegExp(`cifar-100-python/${split} is not the published CIFAR-100 file \\(MD5 [0-9a-f]{32}, not [0-9a-f]{32}\\): used as it is$`));
      }
    });
  }

  it('takes data_path/cifar-100-python or that folder itself', () => {
    const inner = readCifar100(join(fixture('py2'), 'cifar-100-python'), 'test');
    assert.equal(inner.samples.length, expected('py2').test.labels.length);
  });

  it('refuses a missing folder or file, saying where CIFAR-100 is published', () => {
    refused(mkdtempSync(join(tmpdir(), 'pix-cifar-')), 'train',
      /holds no cifar-100-python folder\. The official script downloads it; training here downloads nothing: run pix data fetch-cifar --data_path .*, or fetch https:\/\/www\.cs\.toronto\.edu\/~kriz\/cifar-100-python\.tar\.gz and extract it into .* \(tar -xzf cifar-100-python\.tar\.gz -C /);
    const root = mkdtempSync(join(tmpdir(), 'pix-cifar-'));
    cpSync(fixture('py2'), root, { recursive: true });
    const noTest = join(root, 'cifar-100-python', 'test');
    writeFileSync(noTest, '');
    refused(root, 'test', /test: the pickle is truncated .*not a CIFAR-100 pickle as torchvision reads it/);
  });

  it('refuses damaged and foreign pickles by name, running nothing', () => {
    const train = readFileSync(join(fixture('py2'), 'cifar-100-python', 'train'));
    refused(withFile('train', train.subarray(0, 5000)), 'train', /cifar-100-python\/train: the pickle is truncated/);
    // os.system("true") as a protocol-2 pickle: the allow-list refuses the name before anything is called.
    const hostile = Buffer.concat([Buffer.from('\x80\x02cos\nsystem\nU\x04true\x85R.', 'latin1')]);
    refused(withFile('train', hostile), 'train', /refusing global os\.system: it is not on the allow-list of a CIFAR-100 file's numpy arrays/);
    // A plain dict without 'data': not a CIFAR file.
    refused(withFile('train', Buffer.from('\x80\x02}q\x01(U\x06labelsq\x02]q\x03u.', 'latin1')), 'train', /train: no 'data' entry \(it has labels\)/);
  });

  it('refuses labels outside the classes and data of the wrong shape', () => {
    const train = readFileSync(join(fixture('py2'), 'cifar-100-python', 'train'));
    // The first fine label (BININT1 after the fine_labels list's MARK) set to 200.
    const at = train.indexOf(Buffer.from('U\x0bfine_labels', 'latin1'));
    const bad = Buffer.from(train);
    const first = bad.indexOf(Buffer.from('(K', 'latin1'), at) + 2;
    bad[first] = 200;
    refused(withFile('train', bad), 'train', /train: image 0 has the label 200, outside the 100 classes of .*meta/);
    // 3072 -> 3071 values per row in the array's shape (BININT2 0x0c00 -> 0x0bff).
    const shape = Buffer.from(train);
    const m = shape.indexOf(Buffer.from('M\x00\x0c', 'latin1'));
    shape[m + 1] = 0xff;
    shape[m + 2] = 0x0b;
    refused(withFile('train', shape), 'train', /'data' is 40x3071 with 122880 bytes, not N x 3072/);
  });

  it('reads a split once per process while its files are unchanged', () => {
    const root = mkdtempSync(join(tmpdir(), 'pix-cifar-'));
    cpSync(fixture('py2'), root, { recursive: true });
    const first = readCifar100(root, 'train');
    assert.equal(readCifar100(root, 'train'), first);
    const later = new Date(Date.now() + 5000);
    utimesSync(join(root, 'cifar-100-python', 'train'), later, later);
    assert.notEqual(readCifar100(root, 'train'), first);
  });

  it('keeps nothing for a caller that only checks (keep: false), leaving the cache as it was', () => {
    const root = mkdtempSync(join(tmpdir(), 'pix-cifar-'));
    cpSync(fixture('py2'), root, { recursive: true });
    const checked = readCifar100(root, 'test', { keep: false });
    assert.equal(checked.samples.length, 20);
    assert.notEqual(readCifar100(root, 'test', { keep: false }), checked);
    const kept = readCifar100(root, 'test');
    assert.notEqual(kept, checked);  // the checks left nothing to find
    assert.equal(readCifar100(root, 'test'), kept);
    assert.equal(readCifar100(root, 'test', { keep: false }), kept);  // a kept split is shared, never read twice
  });
});
