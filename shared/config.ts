// The run configuration: every flag of the official PiX training script, by its official name and
// default (SPEC §4), plus the workbench's own (device, torch.distributed.launch's process flags, a few
// transform and EMA extensions, marked in their help). This one table drives the
// `pix train` flag parser, the New-run form and the saved run record, so a flag exists in exactly
// one place. Values are validated by the zod schema derived from it.
import { z } from 'zod';

export type FlagGroup =
  | 'model' | 'optimization' | 'schedule' | 'augmentation' | 'regularization' | 'ema' | 'checkpoints'
  | 'data' | 'evaluation' | 'runtime';

/**
 * How a flag is spelled on the command line, as the official argparse parser takes it:
 * 'int' / 'float' / 'string' one value; 'bool' a value read by str2bool (true/false, yes/no, 1/0);
 * 'switch' present or absent (store_true); 'floats' one or more numbers (nargs='+').
 */
export type FlagKind = 'int' | 'float' | 'string' | 'bool' | 'switch' | 'floats';

export interface FlagSpec {
  kind: FlagKind;
  group: FlagGroup;
  help: string;
  /** null: unset (argparse's None). */
  default: number | string | boolean | number[] | null;
  /** Extra validation beyond the kind (ranges, choices). */
  check?: z.ZodType;
}

function spec<K extends FlagKind, D extends FlagSpec['default']>(kind: K, d: D, group: FlagGroup, help: string, check?: z.ZodType) {
  return { kind, default: d, group, help, check };
}
const int = <D extends number | null>(d: D, group: FlagGroup, help: string, check?: z.ZodType) => spec('int', d, group, help, check);
const float = <D extends number | null>(d: D, group: FlagGroup, help: string, check?: z.ZodType) => spec('float', d, group, help, check);
const string = <D extends string | null>(d: D, group: FlagGroup, help: string, check?: z.ZodType) => spec('string', d, group, help, check);
const bool = (d: boolean, group: FlagGroup, help: string) => spec('bool', d, group, help);
const toggle = (group: FlagGroup, help: string) => spec('switch', false, group, help);
const floats = <D extends number[] | null>(d: D, group: FlagGroup, help: string, check?: z.ZodType) => spec('floats', d, group, help, check);

/**
 * A check's message in the project's words, with the value refused: "must be above 0, got -1".
 * `pix train` puts the flag before it, the run form shows it beside the field and the host's 400
 * names the field, so the message itself names neither; zod's own ("Too small: expected number to
 * be >0") read as a library's.
 */
function must(rule: string) {
  return { error: (issue: { input?: unknown }) => `must be ${rule}, got ${shown(issue.input)}` };
}

function shown(value: unknown): string {
  if (typeof value === 'string') return `'${value}'`;
  if (typeof value === 'number') return String(value);
  return JSON.stringify(value) ?? String(value);
}

const positive = z.number().gt(0, must('above 0'));
const nonNegative = z.number().min(0, must('0 or more'));
const probability = z.number().min(0, must('between 0 and 1')).max(1, must('between 0 and 1'));
/** A rate that 1 would make meaningless: dropout drops everything, momentum never forgets. */
const belowOne = z.number().min(0, must('0 or more and below 1')).lt(1, must('0 or more and below 1'));
/** A fraction that 0 would make meaningless: a crop of nothing. */
const upToOne = z.number().gt(0, must('above 0 and at most 1')).max(1, must('above 0 and at most 1'));
const port = z.number().min(1, must('a port from 1 to 65535')).max(65535, must('a port from 1 to 65535'));
/** One of a few names; the run form offers them as a select, `pix train` and the host name them. */
function oneOf<const T extends readonly [string, ...string[]]>(choices: T) {
  return z.enum(choices, must(`${choices.slice(0, -1).join(', ')} or ${choices.at(-1)}`));
}

export const runFlags = {
  // model
  model: string('PiXResNet50_cs', 'model', 'Network to train (official name or engine name)'),
  drop: float(0, 'regularization', 'Dropout rate before the classifier', belowOne),
  input_size: int(224, 'model', 'Image size', positive),
  nb_classes: int(1000, 'model', 'Number of classes: with --data_set image_folder, --data_path and --eval_data_path must each hold exactly ' +
    'this many class folders (the official script asserts it); unused with IMNET, where the official script fixes 1000 and here the ' +
    'classifier has one output per class folder', positive),
  // optimization
  batch_size: int(64, 'optimization', 'Batch size per process', positive),
  update_freq: int(1, 'optimization', 'Gradient accumulation steps', positive),
  opt: string('adamw', 'optimization', 'Optimizer', oneOf(['adamw', 'lamb', 'sgd', 'momentum'])),
  opt_eps: float(1e-8, 'optimization', 'Optimizer epsilon', positive),
  opt_betas: floats(null, 'optimization', 'Optimizer betas (default: the optimizer\'s own)'),
  clip_grad: float(null, 'optimization', 'Clip gradient norm (none: no clipping)', positive),
  momentum: float(0.9, 'optimization', 'SGD momentum', belowOne),
  weight_decay: float(0.05, 'optimization', 'Weight decay', nonNegative),
  weight_decay_end: float(null, 'optimization', 'Final weight decay of the cosine schedule (default: weight_decay)', nonNegative),
  // schedule
  epochs: int(300, 'schedule', 'Training epochs', positive),
  lr: float(4e-3, 'schedule', 'Peak learning rate', positive),
  min_lr: float(1e-6, 'schedule', 'Final learning rate of the cosine schedule', nonNegative),
  warmup_epochs: int(5, 'schedule', 'Epochs of linear warm-up', nonNegative),
  warmup_steps: int(-1, 'schedule', 'Warm-up iterations; overrides warmup_epochs when > 0'),
  start_epoch: int(0, 'schedule', 'First epoch', nonNegative),
  // augmentation
  color_jitter: float(0.4, 'augmentation', 'Color jitter factor (unused when an auto-augment policy is set)', nonNegative),
  aa: string('rand-m9-mstd0.5-inc1', 'augmentation', 'Auto-augment policy: timm RandAugment (e.g. rand-m7-mstd0.5-inc1), AugMix ' +
    '(e.g. augmix-m5-w4-d2) or none'),
  smoothing: float(0.1, 'regularization', 'Label smoothing', probability),
  hflip: float(0.5, 'augmentation', 'Horizontal flip probability (timm transform; not an official flag)', probability),
  scale: floats([0.08, 1.0], 'augmentation', 'RandomResizedCrop area range (timm transform; not an official flag)'),
  train_interpolation: string('bicubic', 'augmentation', 'Training interpolation', oneOf(['bicubic', 'bilinear', 'random'])),
  crop_pct: float(null, 'evaluation', 'Evaluation crop fraction (default 0.875)', upToOne),
  reprob: float(0.25, 'augmentation', 'Random erasing probability', probability),
  remode: string('pixel', 'augmentation', 'Random erasing mode', oneOf(['pixel', 'rand', 'const'])),
  recount: int(1, 'augmentation', 'Random erasing count', positive),
  mixup: float(0.8, 'augmentation', 'Mixup alpha (0: off)', nonNegative),
  cutmix: float(1.0, 'augmentation', 'CutMix alpha (0: off)', nonNegative),
  cutmix_minmax: floats(null, 'augmentation', 'CutMix min/max area ratio (overrides alpha)'),
  mixup_prob: float(1.0, 'augmentation', 'Probability of applying mixup or cutmix per batch', probability),
  mixup_switch_prob: float(0.5, 'augmentation', 'Probability of cutmix when both are enabled', probability),
  mixup_mode: string('batch', 'augmentation', 'How mixup parameters are drawn', oneOf(['batch', 'pair', 'elem'])),
  bce_loss: toggle('regularization', 'Binary cross-entropy loss (with mixup)'),
  bce_target_thresh: float(null, 'regularization', 'Binarise BCE targets above this threshold', probability),
  // ema
  model_ema: bool(false, 'ema', 'Keep an exponential moving average of the weights'),
  model_ema_decay: float(0.9999, 'ema', 'EMA decay', probability),
  model_ema_eval: bool(false, 'ema', 'Evaluate the EMA weights too'),
  model_ema_decays: floats(null, 'ema', 'More EMA decays kept (and evaluated with model_ema_eval) beside model_ema_decay (workbench extension)',
    z.array(probability)),
  // checkpoints
  finetune: string('', 'checkpoints', 'Checkpoint to fine-tune from'),
  model_key: string('model|module', 'checkpoints', 'Keys of the model state in a fine-tuning checkpoint'),
  output_dir: string('', 'checkpoints', 'Where to save logs and checkpoints (empty: nothing saved)'),
  resume: string('', 'checkpoints', 'Checkpoint to resume from'),
  auto_resume: bool(false, 'checkpoints', 'Resume from the newest checkpoint in output_dir'),
  save_ckpt: bool(true, 'checkpoints', 'Save checkpoints'),
  save_ckpt_freq: int(1, 'checkpoints', 'Save every N epochs', positive),
  save_ckpt_num: int(10, 'checkpoints', 'Keep the newest N numbered checkpoints', positive),
  // data
  data_path: string('', 'data', 'Training data: with --data_set IMNET the folder holding train/ and val/, with image_folder the folder ' +
    'of class folders itself, with CIFAR the folder holding cifar-100-python/ (empty: the embedded demo digits)'),
  eval_data_path: string('', 'data', 'With --data_set image_folder, the folder of class folders to evaluate on (unused with IMNET, ' +
    'which evaluates data_path/val, as in the official script)'),
  imagenet_default_mean_and_std: bool(true, 'data', 'Normalise with the ImageNet mean and std (0.485,0.456,0.406 / 0.229,0.224,0.225); ' +
    'false: the Inception 0.5,0.5,0.5 / 0.5,0.5,0.5, for training, evaluation and RandAugment\'s fill colour. Checkpoints record it, ' +
    'so pix eval and the Checkpoints page normalise as the network was trained'),
  data_set: string('IMNET', 'data', 'IMNET: data_path/train and data_path/val; image_folder: data_path for training and eval_data_path ' +
    'for evaluation, each with nb_classes class folders; CIFAR: CIFAR-100\'s train and test files in data_path/cifar-100-python ' +
    '(100 classes; the official script downloads them, here pix data fetch-cifar does)', oneOf(['IMNET', 'image_folder', 'CIFAR'])),
  num_workers: int(10, 'data', 'Data loading workers', nonNegative),
  max_bad_fraction: float(0.001, 'data', 'Undecodable images are skipped (replaced by the next good one) and listed in ' +
    'bad_files.txt; the run stops once they exceed this fraction of the dataset (workbench flag, not official)', probability),
  real_labels: string('', 'data', 'ReaL labels (real.json) for the ImageNet validation set: top-1/top-5 against them with --eval true, ' +
    'and after training on checkpoint-best-ema with --model_ema_eval true, as in the official script'),
  // evaluation
  test_freq: int(20, 'evaluation', 'Evaluate every N epochs', positive),
  test_epoch: int(260, 'evaluation', 'Evaluate every epoch after this one', nonNegative),
  eval: bool(false, 'evaluation', 'Only evaluate'),
  dist_eval: bool(true, 'evaluation', 'Distributed evaluation'),
  disable_eval: bool(false, 'evaluation', 'Never evaluate during training'),
  // runtime
  seed: int(0, 'runtime', 'Random seed'),
  use_amp: bool(false, 'runtime', 'Mixed precision (bf16 autocast on the GPU)'),
  device: string('cpu', 'runtime', 'cpu, cuda or cuda:N', z.string().regex(/^(cpu|cuda(:\d+)?)$/, must('cpu, cuda or cuda:N'))),
  nproc_per_node: int(1, 'runtime', 'Processes (GPUs) on this node', positive),
  sync_bn: bool(false, 'runtime', 'SyncBatchNorm: BatchNorm statistics over every process\'s batch together, as one process ' +
    'with the whole batch would take them (needs --device cuda and NCCL, as PyTorch\'s; workbench flag, as timm\'s --sync-bn: ' +
    'the official script keeps DDP\'s per-process statistics)'),
  nnodes: int(1, 'runtime', 'Machines in the run (torch.distributed.launch\'s --nnodes)', positive),
  node_rank: int(0, 'runtime', 'This machine\'s index among --nnodes', nonNegative),
  master_addr: string('127.0.0.1', 'runtime', 'Address of node 0, where the processes meet', z.string().min(1, must('an address'))),
  master_port: int(29500, 'runtime', 'Port of the meeting point on node 0', port),
} satisfies Record<string, FlagSpec>;

export type RunFlagName = keyof typeof runFlags;

function valueSchema(spec: FlagSpec): z.ZodType {
  const base: z.ZodType = (() => {
    switch (spec.kind) {
      case 'int': return z.number(must('a whole number')).int(must('a whole number'));
      case 'float': return z.number(must('a number'));
      case 'string': return z.string(must('text'));
      case 'bool': case 'switch': return z.boolean(must('true or false'));
      case 'floats': return z.array(z.number(must('a number')), must('a list of numbers')).min(1, must('one or more numbers'));
    }
  })();
  const checked = spec.check ? base.pipe(spec.check) : base;
  return spec.default === null ? checked.nullable() : checked;
}

export const runConfigSchema = z.object(
  Object.fromEntries(Object.entries(runFlags).map(([name, spec]) => [name, valueSchema(spec).default(spec.default as never)])),
) as unknown as z.ZodType<RunConfig>;

type ValueOf<K extends FlagKind> = K extends 'int' | 'float' ? number : K extends 'string' ? string : K extends 'floats' ? number[] : boolean;
/** A complete run configuration: every flag with its value (null where unset). */
export type RunConfig = {
  [F in RunFlagName]: ValueOf<(typeof runFlags)[F]['kind']> | (null extends (typeof runFlags)[F]['default'] ? null : never);
};

/** The defaults of every flag, as the official script has them. */
export function defaultRunConfig(): RunConfig {
  return runConfigSchema.parse({});
}
