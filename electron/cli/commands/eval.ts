// `pix eval`: top-1, top-5 and loss of a checkpoint on an ImageFolder (the val/ split of an
// ImageNet-layout folder, or with --data_set image_folder the class folders of --data_path itself)
// or on CIFAR-100's test file (--data_set CIFAR),
// with the official evaluation transform (resize to size/crop_pct and centre crop; at --input_size
// <= 32 the images as they are, which must then be that size; at >= 384 each whole image stretched
// to size x size, which it says on stderr) normalised as the
// checkpoint was trained (its recorded --imagenet_default_mean_and_std, else the ImageNet mean and
// std; the flag overrides), and optionally the ReaL top-1/top-5 as the official script scores them.
import { parseArgs } from 'node:util';
import { applyState, classCountOf } from '../../host/checkpoints/model_state';
import { readCheckpointTensors } from '../../host/checkpoints/pth/read_checkpoint';
import { checkpointNormalization, describeNormalization } from '../../host/checkpoints/saved_config';
import { readCifar100 } from '../../host/data/cifar';
import { scanImageFolder, scanImageNetLayout, type ImageFolder } from '../../host/data/image_folder';
import { Loader } from '../../host/data/loader';
import { evalTransformFromFlags, evalTransformNote, normalizationFor } from '../../host/data/transforms';
import { loadEngine } from '../../host/engine/addon';
import { evaluate } from '../../host/train/evaluate';
import { readRealLabels, RealLabels } from '../../host/train/real_labels';
import { str2bool } from '../run_flags';
import type { Command } from '../command';

export const evalCommand: Command = {
  name: 'eval',
  summary: 'Evaluate a checkpoint on an ImageFolder (top-1, top-5, loss; ReaL top-1/top-5 with --real_labels)',
  usage: 'pix eval --model M --checkpoint C.pth|C.safetensors --data_path D [--data_set IMNET|image_folder|CIFAR] [--input_size 224] ' +
    '[--crop_pct 0.875] [--batch_size 64] [--imagenet_default_mean_and_std true|false] [--real_labels real.json] [--json]',
  async run(args) {
    const { values } = parseArgs({
      args, strict: true,
      options: {
        model: { type: 'string' }, checkpoint: { type: 'string' }, data_path: { type: 'string' },
        data_set: { type: 'string', default: 'IMNET' }, input_size: { type: 'string', default: '224' },
        crop_pct: { type: 'string', default: '0.875' }, batch_size: { type: 'string', default: '64' },
        imagenet_default_mean_and_std: { type: 'string' }, real_labels: { type: 'string' }, json: { type: 'boolean', default: false },
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
    const dataSet = values.data_set!;
    const splits: Record<string, () => ImageFolder> = {
      IMNET: () => scanImageNetLayout(values.data_path!).val,
      image_folder: () => scanImageFolder(values.data_path!),
      CIFAR: () => readCifar100(values.data_path!, 'test'),
    };
    if (!(dataSet in splits)) {
      throw new Error(`--data_set must be IMNET (evaluates --data_path's val/), image_folder (evaluates the class folders of --data_path) ` +
        `or CIFAR (evaluates CIFAR-100's test file in --data_path/cifar-100-python), got '${dataSet}'`);
    }
    const val = splits[dataSet]!();
    const { tensors, metadata } = readCheckpointTensors(values.checkpoint!);
    const classes = classCountOf(tensors) ?? val.classes.length;
    if (classes !== val.classes.length) {
      throw new Error(`the checkpoint has ${classes} classes but ${val.root} has ${val.classes.length}`);
    }
    const recorded = checkpointNormalization(metadata);
    const override = values.imagenet_default_mean_and_std;
    const normalization = override === undefined ? recorded.normalization : normalizationFor(str2bool('imagenet_default_mean_and_std', override));
    if (override === undefined && !recorded.recorded) {
      console.error(`pix: ${values.checkpoint} does not record --imagenet_default_mean_and_std: normalising with the ImageNet mean and std ` +
        '(pass --imagenet_default_mean_and_std false for a network trained with the Inception 0.5/0.5)');
    }
    const real = values.real_labels ? new RealLabels(readRealLabels(values.real_labels), val.samples, values.real_labels) : undefined;
    const model = new (loadEngine().Model)(values.model!, { numClasses: classes });
    applyState(model, tensors, { strict: true });
    const transform = { ...evalTransformFromFlags({ input_size: inputSize, crop_pct: cropPct }), normalization };
    const warping = evalTransformNote(transform);
    if (warping) console.error(`pix: ${warping}`);
    const loader = new Loader(val.samples, { batchSize, shuffle: false, dropLast: false, seed: 0, transform });
    const result = await evaluate(model, loader, inputSize, real ? { real } : {});
    if (values.json) {
      console.log(JSON.stringify({ ...result, normalization }, null, 2));
    } else {
      console.log(`top-1 ${result.acc1.toFixed(2)}%  top-5 ${result.acc5.toFixed(2)}%  loss ${result.loss.toFixed(4)}  (${result.images} images, ` +
        `${describeNormalization(normalization)})`);
      if (result.real) {
        console.log(`ReaL top-1 ${result.real.acc1.toFixed(2)}%  top-5 ${result.real.acc5.toFixed(2)}%  (${result.real.images} images with ReaL classes)`);
      }
    }
    return 0;
  },
};
