// `pix eval`: top-1, top-5 and loss of a checkpoint on the val/ split of an ImageFolder dataset,
// with the official evaluation transform (resize to size/crop_pct, centre crop).
import { parseArgs } from 'node:util';
import { applyState, classCountOf } from '../../host/checkpoints/model_state';
import { readCheckpointTensors } from '../../host/checkpoints/pth/read_checkpoint';
import { scanImageNetLayout } from '../../host/data/image_folder';
import { Loader } from '../../host/data/loader';
import { loadEngine } from '../../host/engine/addon';
import { evaluate } from '../../host/train/evaluate';
import type { Command } from '../command';

export const evalCommand: Command = {
  name: 'eval',
  summary: 'Evaluate a checkpoint on the val/ split of an ImageFolder dataset (top-1, top-5, loss)',
  usage: 'pix eval --model M --checkpoint C.pth|C.safetensors --data_path D [--input_size 224] [--crop_pct 0.875] [--batch_size 64] [--json]',
  async run(args) {
    const { values } = parseArgs({
      args, strict: true,
      options: {
        model: { type: 'string' }, checkpoint: { type: 'string' }, data_path: { type: 'string' },
        input_size: { type: 'string', default: '224' }, crop_pct: { type: 'string', default: '0.875' },
        batch_size: { type: 'string', default: '64' }, json: { type: 'boolean', default: false },
      },
    });
    for (const flag of ['model', 'checkpoint', 'data_path'] as const) {
      if (!values[flag]) throw new Error(`--${flag} is required; usage: ${evalCommand.usage}`);
    }
    const inputSize = Number(values.input_size);
    const cropPct = Number(values.crop_pct);
    const batchSize = Number(values.batch_size);
    if (!Number.isInteger(inputSize) || inputSize < 1) throw new Error(`--input_size must be a positive integer, got '${values.input_size}'`);
    if (!(cropPct > 0 && cropPct <= 1)) throw new Error(`--crop_pct must be in (0, 1], got '${values.crop_pct}'`);
    const { val } = scanImageNetLayout(values.data_path!);
    const { tensors } = readCheckpointTensors(values.checkpoint!);
    const classes = classCountOf(tensors) ?? val.classes.length;
    if (classes !== val.classes.length) {
      throw new Error(`the checkpoint has ${classes} classes but ${values.data_path} has ${val.classes.length}`);
    }
    const model = new (loadEngine().Model)(values.model!, { numClasses: classes });
    applyState(model, tensors, { strict: true });
    const loader = new Loader(val.samples, { batchSize, shuffle: false, dropLast: false, seed: 0,
      transform: { kind: 'eval', size: inputSize, cropPct, interpolation: 'bicubic' } });
    const result = await evaluate(model, loader, inputSize);
    console.log(values.json ? JSON.stringify(result, null, 2)
      : `top-1 ${result.acc1.toFixed(2)}%  top-5 ${result.acc5.toFixed(2)}%  loss ${result.loss.toFixed(4)}  (${result.images} images)`);
    return 0;
  },
};
