// ReaL labels as timm's RealLabelsImagenet scores them: entries named ILSVRC2012_val_{n:08d}.JPEG,
// images without classes left out, correct at k when any of the k highest logits is a ReaL class;
// and the files and configs that cannot work, refused with their reason.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { defaultRunConfig } from '../../../shared/config';
import { readRealLabels, RealLabels, realLabelFileName, realLabelsProblems, realLabelsUnused } from '../../../electron/host/train/real_labels';

const dir = mkdtempSync(join(tmpdir(), 'pix-real-'));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/** Samples in the order a loader sees them: class folders, then file names; `names[i]` for sample i. */
const samples = (names: string[]) => names.map((name, i) => ({ path: join('/val', `n0${i % 3}`, name), label: i % 3 }));

describe('ReaL labels', () => {
  it('names the entries as timm does', () => {
    assert.equal(realLabelFileName(0), 'ILSVRC2012_val_00000001.JPEG');
    assert.equal(realLabelFileName(49999), 'ILSVRC2012_val_00050000.JPEG');
  });

  it('reads real.json and names what is wrong with a bad one', () => {
    assert.deepEqual(readRealLabels(file('ok.json', '[[1], [], [2, 3]]')), [[1], [], [2, 3]]);
    assert.throws(() => readRealLabels(join(dir, 'missing.json')), /--real_labels .*missing\.json: cannot be read/);
    assert.throws(() => readRealLabels(file('text.json', 'not json')), /text\.json: not JSON/);
    assert.throws(() => readRealLabels(file('object.json', '{"a": 1}')), /must be a JSON list with one list of class indices per validation image/);
    assert.throws(() => readRealLabels(file('bad.json', '[[1], [2.5]]')), /entry 1 \(ILSVRC2012_val_00000002\.JPEG\) must be a list of class indices, got \[2\.5\]/);
    assert.throws(() => readRealLabels(file('neg.json', '[[1], 3]')), /entry 1 .* got 3/);
  });

  it('pairs each image with its own entry by file name, whatever the order of the folders', () => {
    // Sample 0 is the third validation image, sample 2 the first: scores follow the names, not the positions.
    const names = ['ILSVRC2012_val_00000003.JPEG', 'ILSVRC2012_val_00000002.JPEG', 'ILSVRC2012_val_00000001.JPEG'];
    const real = new RealLabels([[0], [1], [2]], samples(names), 'real.json');
    const scorer = real.scorer();
    const logits = Float32Array.of(
      0, 0, 9,  // sample 0 (entry 2: class 2): top-1 right
      0, 9, 0,  // sample 1 (entry 1: class 1): top-1 right
      0, 0, 9,  // sample 2 (entry 0: class 0): wrong at top-1
    );
    scorer.add(logits, 3, Uint32Array.of(0, 1, 2));
    const score = scorer.score();
    assert.equal(score.images, 3);
    assert.equal(score.acc1, (100 * 2) / 3);
    assert.equal(score.acc5, 100);  // 3 classes: top-5 is every class
  });

  it('leaves out images without classes, counts any of several, ranks ties by the lower class', () => {
    const names = Array.from({ length: 5 }, (_, i) => realLabelFileName(i));
    const real = new RealLabels([[3, 7], [], [5], [2], [9]], samples(names), 'real.json');
    const classes = 10;
    const logits = new Float32Array(5 * classes);
    const row = (i: number, values: Record<number, number>) => { for (const [c, v] of Object.entries(values)) logits[i * classes + Number(c)] = v; };
    row(0, { 7: 5, 1: 4 });           // class 7 (a ReaL class) is top-1
    row(1, { 0: 9 });                 // no ReaL classes: left out whatever it predicts
    row(2, { 0: 5, 1: 4, 2: 3, 3: 2, 4: 1 });  // class 5 (logit 0) ties with 6..9 and ranks first among them: 6th
    row(3, { 2: 1, 1: 1 });           // class 2 ties class 1 at the top: ranked second, right at top-5 only
    row(4, { 9: 1, 8: 1, 7: 1, 6: 1, 5: 1 });  // class 9 ties four lower classes: 5th, right at top-5
    const scorer = real.scorer();
    scorer.add(logits, classes, Uint32Array.of(0, 1, 2, 3, 4));
    assert.deepEqual(scorer.score(), { acc1: 25, acc5: 75, images: 4 });
    // Each pass starts from zero.
    assert.deepEqual(real.scorer().score().images, 0);
  });

  it('refuses a folder that is not the set real.json describes', () => {
    const names = [realLabelFileName(0), realLabelFileName(1)];
    assert.throws(() => new RealLabels([[1], [2], [3]], samples(names), 'real.json'),
      /--real_labels real\.json has entries for 3 images but the evaluation folder has 2: .*the official script asserts the counts agree/);
    assert.throws(() => new RealLabels([[1], [2]], samples([realLabelFileName(0), 'cat.jpg']), 'real.json'),
      /the evaluation image \/val\/n01\/cat\.jpg has no entry; entries are named ILSVRC2012_val_00000001\.JPEG to ILSVRC2012_val_00000002\.JPEG/);
    assert.throws(() => new RealLabels([[1], [2]], samples([realLabelFileName(0), realLabelFileName(0)]), 'real.json'),
      /\/val\/n00\/ILSVRC2012_val_00000001\.JPEG and \/val\/n01\/ILSVRC2012_val_00000001\.JPEG have the same name/);
  });

  it('says when the config cannot score them after training, and when they are unused', () => {
    const base = { ...defaultRunConfig(), real_labels: '/data/real.json', output_dir: '/runs/a' };
    assert.deepEqual(realLabelsProblems({ ...base, eval: true }), []);
    assert.deepEqual(realLabelsProblems({ ...base, model_ema: true, model_ema_eval: true }), []);
    assert.deepEqual(realLabelsProblems({ ...base, real_labels: '', model_ema_eval: true }), []);
    const problems = realLabelsProblems({ ...base, model_ema_eval: true, disable_eval: true, output_dir: '' });
    assert.equal(problems.length, 3);
    assert.match(problems[0]!, /^--real_labels \/data\/real\.json: after training the official script scores checkpoint-best-ema with them, which needs --model_ema true$/);
    assert.match(problems[1]!, /is saved by the evaluations that --disable_eval true turns off/);
    assert.match(problems[2]!, /needs --output_dir and --save_ckpt true/);
    assert.match(realLabelsUnused(base)!, /--real_labels \/data\/real\.json has no effect here: the official script scores ReaL labels with --eval true/);
    assert.equal(realLabelsUnused({ ...base, eval: true }), null);
    assert.equal(realLabelsUnused({ ...base, model_ema: true, model_ema_eval: true }), null);
  });
});
