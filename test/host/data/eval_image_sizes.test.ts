// checkEvalImageSizes (electron/host/data/small_input.ts): before a run at --input_size <= 32
// trains, one header per evaluation class is read and an image of another size is refused with
// evaluation's own message, naming the file; JPEGs and PNGs alike; a file without a readable header
// is passed over for the next one of its class (the loader names bad files); only the first
// readable image of each class is looked at.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { checkEvalImageSizes } from '../../../electron/host/data/small_input';
import { writeImage } from '../../helpers/image_tree';

const dir = mkdtempSync(join(tmpdir(), 'pix-eval-sizes-'));
const path = (name: string) => join(dir, name);

before(async () => {
  await writeImage(path('a0.png'), 1, 'png', 16, 16);
  await writeImage(path('a1.png'), 2, 'png', 20, 16);
  await writeImage(path('b0.jpg'), 3, 'jpeg', 16, 16);
  await writeImage(path('c0.jpg'), 4, 'jpeg', 16, 12);
  writeFileSync(path('broken.png'), 'not an image at all\n');
});
after(() => rmSync(dir, { recursive: true, force: true }));

const sample = (name: string, label: number) => ({ path: path(name), label });

describe('checkEvalImageSizes', () => {
  it("passes when each class's first image is the input size (later ones are not read)", async () => {
    await checkEvalImageSizes({ samples: [sample('a0.png', 0), sample('a1.png', 0), sample('b0.jpg', 1)] }, 16);
  });

  it('refuses a JPEG or a PNG of another size with the message evaluation would give, naming it', async () => {
    await assert.rejects(checkEvalImageSizes({ samples: [sample('a0.png', 0), sample('c0.jpg', 1)] }, 16), (e: unknown) => {
      assert.ok(e instanceof Error);
      assert.match(e.message, /c0\.jpg: the image is 16x12, but evaluation at --input_size 16 \(<= 32\) takes images as they are, without Resize or CenterCrop/);
      assert.match(e.message, /every evaluation image must be 16x16/);
      return true;
    });
    await assert.rejects(checkEvalImageSizes({ samples: [sample('a1.png', 0), sample('b0.jpg', 1)] }, 16), /a1\.png: the image is 20x16/);
    await assert.rejects(checkEvalImageSizes({ samples: [sample('b0.jpg', 0)] }, 28), /b0\.jpg: the image is 16x16, but evaluation at --input_size 28/);
  });

  it('passes over a file without a readable header to the next image of its class', async () => {
    await checkEvalImageSizes({ samples: [sample('broken.png', 0), sample('a0.png', 0)] }, 16);
    await assert.rejects(checkEvalImageSizes({ samples: [sample('broken.png', 0), sample('a1.png', 0)] }, 16), /a1\.png: the image is 20x16/);
    await checkEvalImageSizes({ samples: [sample('broken.png', 0)] }, 16);
  });
});
