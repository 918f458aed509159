// decodeBatch's two outputs (electron/host/data/batch_decode.ts): the u8 pixels and erasing draws,
// normalised and erased by the engine's normalizeEraseBatch, are exactly the f32 batch's bytes,
// for training with RandAugment and RandomErasing in every mode with several boxes, and for
// evaluation; on JPEGs (the engine's decoder) and PNGs (sharp) alike.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { decodeBatch, type DecodeTask } from '../../../electron/host/data/batch_decode';
import { scanImageFolder } from '../../../electron/host/data/image_folder';
import { IMAGENET_MEAN, IMAGENET_STD, trainTransformFromFlags, type Transform } from '../../../electron/host/data/transforms';
import { loadEngine } from '../../../electron/host/engine/addon';
import { floatBytes } from '../../helpers/erase_batches';
import { imageTree } from '../../helpers/image_tree';

const engine = loadEngine();

/** The f32 batch and the u8 batch normalised by the engine, for the same task. */
async function bothWays(task: Omit<DecodeTask, 'output'>) {
  const f32 = await decodeBatch({ ...task, output: 'f32' });
  const u8 = await decodeBatch({ ...task, output: 'u8' });
  assert.equal(f32.output, 'f32');
  assert.equal(u8.output, 'u8');
  if (u8.output !== 'u8' || f32.output !== 'f32') throw new Error('unreachable');
  assert.ok(u8.images instanceof Uint8Array);
  assert.equal(u8.images.length, f32.images.length);
  assert.deepEqual(u8.bad, f32.bad);
  const { size } = task.transform;
  const x = engine.Tensor.fromArray(u8.images, [task.items.length, size, size, 3]);
  const y = engine.normalizeEraseBatch(x, { mean: [...IMAGENET_MEAN], std: [...IMAGENET_STD], erase: u8.erase }).toArray() as Float32Array;
  return { f32, u8, y };
}

describe('decodeBatch u8 output', () => {
  const tree = imageTree(12, false);
  const items = async () => scanImageFolder(join((await tree).root, 'train')).samples.map((s, index) => ({ index, path: s.path }));

  for (const [remode, recount] of [['pixel', 1], ['pixel', 3], ['rand', 3], ['const', 2]] as const) {
    it(`gives the f32 batch's bytes: RandAugment, erasing '${remode}' with up to ${recount} boxes`, async () => {
      const transform = trainTransformFromFlags({ input_size: 32, scale: [0.08, 1], hflip: 0.5, train_interpolation: 'random',
        aa: 'rand-m9-mstd0.5-inc1', reprob: 0.75, remode, recount });
      const { f32, u8, y } = await bothWays({ seed: 4, epoch: 1, transform, items: await items() });
      assert.ok(floatBytes(y).equals(floatBytes(f32.images)));
      if (u8.output !== 'u8') throw new Error('unreachable');
      // The case is a real one: erased and untouched samples, and more than one box where asked.
      assert.ok(u8.erase.some((e) => e === null) && u8.erase.some((e) => e !== null && e.boxes.length > 0));
      assert.ok(u8.erase.every((e) => e === null || e.mode === remode));
      if (recount > 1) assert.ok(u8.erase.some((e) => e !== null && e.boxes.length > 1));
    });
  }

  it("gives the f32 batch's bytes for evaluation, with no erasing", async () => {
    const transform: Transform = { kind: 'eval', size: 24, cropPct: 0.875, interpolation: 'bicubic' };
    const { f32, u8, y } = await bothWays({ seed: 0, epoch: 0, transform, items: await items() });
    assert.ok(floatBytes(y).equals(floatBytes(f32.images)));
    if (u8.output !== 'u8') throw new Error('unreachable');
    assert.ok(u8.erase.every((e) => e === null));
  });

  it('leaves a bad file\'s slot zero and unerased, and reports it like the f32 output', async () => {
    const good = await items();
    const transform = trainTransformFromFlags({ input_size: 16, scale: [0.5, 1], hflip: 0.5, train_interpolation: 'bicubic',
      aa: null, reprob: 1, remode: 'pixel', recount: 1 });
    const broken = [good[0]!, { index: 99, path: join((await tree).root, 'missing.jpg') }, good[1]!];
    const { f32, u8, y } = await bothWays({ seed: 1, epoch: 0, transform, items: broken });
    assert.deepEqual(u8.bad.map((b) => b.slot), [1]);
    if (u8.output !== 'u8') throw new Error('unreachable');
    assert.ok(u8.images.subarray(16 * 16 * 3, 2 * 16 * 16 * 3).every((v) => v === 0));
    assert.equal(u8.erase[1], null);
    // The f32 slot of a bad file is zeros, the u8 one normalises to (0 - mean) / std: only good slots compare.
    const pixels = 16 * 16 * 3;
    for (const slot of [0, 2]) assert.ok(floatBytes(y.subarray(slot * pixels, (slot + 1) * pixels)).equals(floatBytes(f32.images.subarray(slot * pixels, (slot + 1) * pixels))));
  });
});
