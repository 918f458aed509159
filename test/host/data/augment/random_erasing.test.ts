// timm's RandomErasing draw (electron/host/data/augment/random_erasing.ts) against the statistics of
// timm's algorithm run in Python (scripts/fixtures/generate_augment.py, 200,000 draws each): how
// often an image is erased, boxes per erased image, and the moments of box area, log-aspect and
// position. Seeded, so never flaky; each tolerance is four combined standard errors.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { drawErasing, randomErasingConfig } from '../../../../electron/host/data/augment/random_erasing';
import { sampleRandom } from '../../../../electron/host/data/sample_random';
import { readFixture } from '../../../helpers/fixtures';

interface ErasingStats {
  p: number; min_count: number; max_count: number; height: number; width: number; samples: number;
  erased_fraction: number; boxes_per_erased: number; mean_area: number; mean_area_sq: number;
  mean_log_aspect: number; mean_log_aspect_sq: number; mean_centre_y: number; mean_centre_x: number;
}

const reference = JSON.parse(readFixture('augment.safetensors').metadata.erasing!) as ErasingStats[];

describe('randomErasingConfig', () => {
  it("is timm's create_transform RandomErasing", () => {
    assert.deepEqual(randomErasingConfig(0.25, 'pixel', 1), { probability: 0.25, mode: 'pixel', minCount: 1, maxCount: 1, minArea: 0.02, maxArea: 1 / 3, minAspect: 0.3, maxAspect: 1 / 0.3 });
  });
  it('refuses bad flags by name', () => {
    assert.throws(() => randomErasingConfig(1.5, 'pixel', 1), /--reprob must be a probability in \[0, 1\], got 1.5/);
    assert.throws(() => randomErasingConfig(0.25, 'noise', 1), /--remode must be 'pixel', 'rand' or 'const', got 'noise'/);
    assert.throws(() => randomErasingConfig(0.25, 'pixel', 0), /--recount must be a positive integer, got 0/);
  });
});

describe('drawErasing against timm run in Python', () => {
  for (const ref of reference) {
    it(`p ${ref.p}, count ${ref.min_count}..${ref.max_count}, ${ref.height}x${ref.width}`, () => {
      const config = { ...randomErasingConfig(ref.p, 'pixel', ref.max_count), minCount: ref.min_count };
      const samples = 40000;
      let erased = 0;
      let boxes = 0;
      const sum = { area: 0, areaSq: 0, logAspect: 0, logAspectSq: 0, cy: 0, cx: 0 };
      for (let i = 0; i < samples; i++) {
        const draw = drawErasing(config, ref.height, ref.width, sampleRandom(9, 0, i));
        if (!draw) continue;
        erased++;
        if (i < 100) assert.deepEqual(drawErasing(config, ref.height, ref.width, sampleRandom(9, 0, i)), draw, 'same stream, same draw');
        for (const b of draw.boxes) {
          assert.ok(b.top >= 0 && b.left >= 0 && b.top + b.height <= ref.height && b.left + b.width <= ref.width);
          assert.ok(b.height < ref.height && b.width < ref.width, 'timm keeps boxes strictly smaller than the image');
          boxes++;
          const area = (b.height * b.width) / (ref.height * ref.width);
          const la = Math.log(b.height / b.width);
          sum.area += area; sum.areaSq += area * area; sum.logAspect += la; sum.logAspectSq += la * la;
          sum.cy += (b.top + b.height / 2) / ref.height; sum.cx += (b.left + b.width / 2) / ref.width;
        }
      }
      const close = (name: string, ours: number, theirs: number, sd: number, n: number, m: number) => {
        const tolerance = 4 * sd * Math.sqrt(1 / n + 1 / m);
        assert.ok(Math.abs(ours - theirs) <= tolerance, `${name}: ours ${ours}, timm ${theirs}, tolerance ${tolerance}`);
      };
      close('erased fraction', erased / samples, ref.erased_fraction, Math.sqrt(ref.p * (1 - ref.p)), samples, ref.samples);
      close('boxes per erased image', boxes / erased, ref.boxes_per_erased, Math.max(0.05, (ref.max_count - ref.min_count) / 2), erased, ref.erased_fraction * ref.samples);
      const refBoxes = ref.boxes_per_erased * ref.erased_fraction * ref.samples;
      const areaSd = Math.sqrt(ref.mean_area_sq - ref.mean_area ** 2);
      const aspectSd = Math.sqrt(ref.mean_log_aspect_sq - ref.mean_log_aspect ** 2);
      close('mean area', sum.area / boxes, ref.mean_area, areaSd, boxes, refBoxes);
      close('mean log-aspect', sum.logAspect / boxes, ref.mean_log_aspect, aspectSd, boxes, refBoxes);
      close('log-aspect spread', sum.logAspectSq / boxes, ref.mean_log_aspect_sq, aspectSd * 2 * Math.max(1, aspectSd), boxes, refBoxes);
      close('centre row', sum.cy / boxes, ref.mean_centre_y, 0.3, boxes, refBoxes);
      close('centre column', sum.cx / boxes, ref.mean_centre_x, 0.3, boxes, refBoxes);
    });
  }
});
