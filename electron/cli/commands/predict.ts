// `pix predict`: logits of a checkpoint's network for a batch of images stored in safetensors,
// as PyTorch would compute them (input NCHW float32 under the key `input`, already normalised: the
// output's metadata says with which mean and std the checkpoint was trained, and a network trained
// with other than the ImageNet ones is pointed out). --device cuda[:N] runs the network there in f32.
import { parseArgs } from 'node:util';
import { applyState, classCountOf, toEngineTensor } from '../../host/checkpoints/model_state';
import { readCheckpointTensors } from '../../host/checkpoints/pth/read_checkpoint';
import { readSafetensors, writeSafetensors } from '../../host/checkpoints/safetensors';
import { checkpointNormalization, describeNormalization } from '../../host/checkpoints/saved_config';
import { IMAGENET_DEFAULT, sameNormalization } from '../../host/data/transforms';
import { loadEngine } from '../../host/engine/addon';
import { deviceProblem } from '../../host/train/cuda_device';
import type { Command } from '../command';

export const predictCommand: Command = {
  name: 'predict',
  summary: 'Run a checkpoint on images from a safetensors file and write the logits',
  usage: 'pix predict --model M --checkpoint W.safetensors|W.pth --input X.safetensors --output Y.safetensors ' +
    '[--train-mode] [--device cpu|cuda|cuda:N] [--non-strict]',
  async run(args) {
    const { values } = parseArgs({
      args, strict: true,
      options: {
        model: { type: 'string' }, checkpoint: { type: 'string' }, input: { type: 'string' }, output: { type: 'string' },
        'train-mode': { type: 'boolean', default: false }, device: { type: 'string', default: 'cpu' },
        'non-strict': { type: 'boolean', default: false },
      },
    });
    for (const flag of ['model', 'checkpoint', 'input', 'output'] as const) {
      if (!values[flag]) throw new Error(`--${flag} is required; usage: ${predictCommand.usage}`);
    }
    const engine = loadEngine();
    const deviceIssue = deviceProblem(values.device!, engine.engineInfo().backends.cuda);
    if (deviceIssue) throw new Error(`--device ${values.device}: ${deviceIssue}`);
    const device = values.device === 'cuda' ? 'cuda:0' : values.device!;

    const { tensors: checkpoint, metadata } = readCheckpointTensors(values.checkpoint!);
    const { normalization } = checkpointNormalization(metadata);
    if (!sameNormalization(normalization, IMAGENET_DEFAULT)) {
      console.error(`pix: ${values.checkpoint} was trained on images normalised with ${describeNormalization(normalization)} ` +
        '(--imagenet_default_mean_and_std false): normalise \'input\' the same way');
    }
    const model = new engine.Model(values.model!, { numClasses: classCountOf(checkpoint) ?? 0, device });
    const report = applyState(model, checkpoint, { strict: !values['non-strict'] });
    if (values['non-strict'] && report.missing.length) {
      console.error(`pix: warning: ${report.missing.length} keys missing from the checkpoint keep their initial values`);
    }

    const input = readSafetensors(values.input!).tensors.get('input');
    if (!input) throw new Error(`${values.input} has no tensor named 'input'`);
    if (input.shape.length !== 4 || input.shape[1] !== 3) {
      throw new Error(`'input' must be (N,3,H,W) images, got shape [${input.shape.join(',')}]`);
    }
    const x = toEngineTensor(input, 'f32').to(device);
    // --train-mode: BatchNorm normalises with the batch's statistics, as model.train() does; no dropout.
    const logits = await model.forward(x, { train: values['train-mode'] });
    const data = logits.to('cpu').toArray() as Float32Array;
    writeSafetensors(values.output!, new Map([['logits', { dtype: 'F32', shape: logits.shape, data }]]), {
      model: model.name, checkpoint: values.checkpoint!, mode: values['train-mode'] ? 'train' : 'eval', device,
      mean: normalization.mean.join(','), std: normalization.std.join(','),
    });
    console.log(`wrote logits [${logits.shape.join(',')}] to ${values.output}`);
    return 0;
  },
};
