// The training loop of `pix train`: per-iteration LR and weight-decay schedules, gradient
// accumulation (update_freq), Mixup/CutMix with BCE or soft-target CE (else label-smoothing CE),
// the optimizer step with optional clipping, EMA weights, evaluation on the official schedule
// (every test_freq epochs and every epoch after test_epoch; the EMA too with model_ema_eval),
// checkpoints every save_ckpt_freq epochs plus checkpoint-best and checkpoint-best-ema (the
// best-scoring EMA of every decay kept, the decay named in its metadata), resume and auto-resume at
// the same step, a clean stop on request (the step in flight finishes and is saved), and a stop
// with a clear message on a non-finite loss (the last good checkpoint stays, the failure is
// recorded). The folders come from --data_set (data/datasets.ts), the normalisation from
// --imagenet_default_mean_and_std (saved with the config in every checkpoint), and --real_labels
// is scored where the official script scores it: with --eval, and on checkpoint-best-ema after
// training with --model_ema_eval. Given a process group, it is one rank of a data-parallel run
// (DDP's semantics): its share of each epoch, gradients averaged before every step, the same stop
// and failure verdicts on every rank, evaluation sharded and gathered, and files written by rank 0
// alone.
// With --device cuda (or cuda:N) the model, each batch, its labels and targets, Mixup and the loss
// live on that GPU (bf16 activations with --use_amp); checkpoints are the same files, their state
// read back to the host. A CUDA fault (out of memory, a lost device) stops the run like a
// diverged loss: recorded failed with its reason, the last checkpoint kept. Ranks on CUDA train
// each on its own GPU (--device cuda is cuda:LOCAL_RANK) and average through NCCL on the device
// (distributed/nccl_group.ts), the CPU group they met through staying for the host scalars.
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { RunConfig } from '../../../shared/config';
import { datasetSplits, runEvaluates, unusedDatasetFlags } from '../data/datasets';
import type { ImageFolder } from '../data/image_folder';
import { BadFileList } from '../data/bad_files';
import { Loader, type BadFile } from '../data/loader';
import { checkEvalImageSizes } from '../data/small_input';
import { evalTransformFromFlags, evalTransformNote, trainTransformFromFlags, type TrainTransform } from '../data/transforms';
import { loadEngine, type Model, type Tensor } from '../engine/addon';
import { EMA_DECAY_KEY, loadCheckpoint, numberedCheckpoints, saveCheckpoint, saveEpochCheckpoint, type TrainingState } from './checkpointing';
import { batchInput } from './batch_input';
import { evaluate, type EvalResult } from './evaluate';
import { readRealLabels, RealLabels, realLabelsUnused, type RealScore } from './real_labels';
import { RunFiles, type IterationMetrics } from './run_files';
import { cosineSchedule } from './schedule';
import { createOptimizer, lossFor, mixupActive, mixupConfig, unsupportedFlags } from './components';
import { placement } from './cuda_device';
import { classifyCudaFault } from './cuda_faults';
import { loadFinetuneWeights } from './finetune';
import { backwardAndAverage, broadcastState } from '../distributed/model_sync';
import type { ProcessGroup } from '../distributed/process_group';
import { deviceIndex, joinNcclGroup, rankDevice, type NcclProcessGroup } from '../distributed/nccl_group';
import { rankFromEnv } from '../distributed/launch';

export interface TrainerEvents {
  iteration?(metrics: IterationMetrics, progress: { done: number; total: number }): void;
  epoch?(record: Record<string, unknown>): void;
  message?(text: string): void;
}

export type TrainOutcome =
  /** real: the ReaL score of checkpoint-best-ema after training (--real_labels with --model_ema_eval true). */
  | { status: 'completed'; best: EvalResult | null; real?: RealScore }
  | { status: 'stopped'; epoch: number }
  | { status: 'failed'; reason: string };

export interface StopFlag {
  requested: boolean;
}

function shouldEvaluate(config: RunConfig, epoch: number): boolean {
  if (config.disable_eval) return false;
  return (epoch + 1) % config.test_freq === 0 || epoch + 1 >= config.test_epoch || epoch + 1 === config.epochs;
}

/**
 * Where a resumed run continues: the checkpoint's schedule position (optimizer steps taken), which
 * counts in its own steps per epoch. When those changed (another --batch_size, --update_freq,
 * process count or training set), its epoch, and the fraction of it done, carry over instead.
 * Checkpoints from before iters_per_epoch was recorded are taken to count as this run does.
 */
export function resumePosition(saved: Record<string, string>, itersPerEpoch: number): { nextStep: number; note: string } {
  const savedStep = saved.next_step === undefined ? undefined : Number(saved.next_step);
  if (savedStep === undefined) return { nextStep: (Number(saved.epoch) + 1) * itersPerEpoch, note: '' };
  const savedIters = Number(saved.iters_per_epoch ?? itersPerEpoch);
  if (savedIters === itersPerEpoch) return { nextStep: savedStep, note: '' };
  const epochs = savedStep / savedIters;
  return {
    nextStep: Math.floor(epochs) * itersPerEpoch + Math.floor((epochs % 1) * itersPerEpoch),
    note: ` (the checkpoint counted ${savedIters} steps per epoch, this run ${itersPerEpoch})`,
  };
}

/**
 * What a run made that outlives it unless released: its NCCL communicator, and its engine objects
 * (models, optimizer, EMAs, and the tensors of the step in flight when a run fails or ends mid-step),
 * whose device memory would otherwise wait for the garbage collector in a process that goes on after
 * the run (tests, in-process callers).
 */
interface Owned {
  nccl?: NcclProcessGroup;
  engineObjects: { dispose(): void }[];
  stepTensors: Tensor[];
  /** The next step's input, uploaded ahead while this step still runs. */
  aheadTensors: Tensor[];
}

export async function runTraining(config: RunConfig, events: TrainerEvents = {}, stop: StopFlag = { requested: false },
  group?: ProcessGroup): Promise<TrainOutcome> {
  const position: { epoch?: number; step?: number } = {};
  if (group) config = { ...config, device: rankDevice(config.device, rankFromEnv()?.localRank ?? 0) };
  const owned: Owned = { engineObjects: [], stepTensors: [], aheadTensors: [] };
  let failed = true;
  try {
    const outcome = await trainRun(config, events, stop, group, position, owned);
    failed = false;
    return outcome;
  } catch (error) {
    const { device } = placement(config);
    const fault = device === 'cpu' ? null
      : classifyCudaFault(error, { device, batchSize: config.batch_size, useAmp: config.use_amp, ...position });
    if (!fault) throw error;
    const isMain = (group?.rank ?? 0) === 0;
    if (config.output_dir && isMain) new RunFiles(config.output_dir).recordFailure(fault.reason, { kind: fault.kind, ...position });
    return { status: 'failed', reason: fault.reason };
  } finally {
    // After an error a collective may never finish (a peer is gone): abort rather than wait for it.
    try {
      owned.nccl?.close({ abort: failed });
    } catch (error) {
      if (!failed) throw error;  // else the first error is the news
    } finally {
      // After the communicator, which may still be writing the gradients when a run failed.
      for (const object of [...owned.stepTensors, ...owned.aheadTensors, ...owned.engineObjects.reverse()]) object.dispose();
    }
  }
}

/** The run itself; `position` follows the step in flight, for a fault's message. */
async function trainRun(config: RunConfig, events: TrainerEvents, stop: StopFlag, group: ProcessGroup | undefined,
  position: { epoch?: number; step?: number }, owned: Owned): Promise<TrainOutcome> {
  const problems = unsupportedFlags(config);
  if (problems.length) throw new Error(problems.join('\n'));
  const worldSize = group?.worldSize ?? 1;
  const isMain = (group?.rank ?? 0) === 0;
  if (config.nproc_per_node * config.nnodes !== worldSize) {
    throw new Error(`--nproc_per_node ${config.nproc_per_node} x --nnodes ${config.nnodes} processes need the launcher: run them through \`pix train\``);
  }
  const engine = loadEngine();
  // The run's engine objects, given back by runTraining however the run ends.
  const keep = <T extends { dispose(): void }>(object: T): T => {
    owned.engineObjects.push(object);
    return object;
  };
  // Given back at the end of each step, or by runTraining when a step fails or returns.
  const stepTensor = (t: Tensor): Tensor => {
    owned.stepTensors.push(t);
    return t;
  };
  // The official build_dataset: IMNET's train/ and val/, image_folder's data_path and eval_data_path,
  // or CIFAR-100's train and test files.
  const { train, val: valFolder, notes: dataNotes = [] } = datasetSplits(config, { evaluation: runEvaluates(config) });
  for (const line of [...dataNotes, ...unusedDatasetFlags(config), realLabelsUnused(config) ?? []].flat()) events.message?.(line);
  // Paired now, so that a real.json that does not fit the evaluation folder fails before training does.
  const realLabels = config.real_labels && (config.eval || config.model_ema_eval) && valFolder
    ? new RealLabels(readRealLabels(config.real_labels), valFolder.samples, config.real_labels) : undefined;
  // Resize and centre crop; at --input_size >= 384 a warp of the whole image (said, as the official
  // script prints it); at <= 32 the images as they are, which must then be that size: checked now on
  // one header per class, so that a folder of another size fails before an epoch of training.
  const evalTransform = evalTransformFromFlags(config);
  if (valFolder) {
    const note = evalTransformNote(evalTransform);
    if (note) events.message?.(note);
    if (evalTransform.resize === false) await checkEvalImageSizes(valFolder, evalTransform.size);
  }
  const classes = train.classes.length;
  const place = placement(config);
  if (config.sync_bn && group && place.device === 'cpu') {
    throw new Error('--sync_bn needs --device cuda: SyncBatchNorm runs through NCCL, as PyTorch\'s does (on the CPU each process keeps its own statistics)');
  }
  if (group && place.device !== 'cpu') group = owned.nccl = await joinNcclGroup(group, { deviceIndex: deviceIndex(place.device) });
  const model: Model = keep(new engine.Model(config.model, { numClasses: classes, drop: config.drop, seed: config.seed, ...place }));
  if (config.sync_bn && owned.nccl) {
    owned.nccl.syncBatchNorm(model);
    events.message?.(`SyncBatchNorm: BatchNorm statistics over all ${worldSize} processes' batches`);
  } else if (config.sync_bn) {
    events.message?.('--sync_bn has no effect on one process');
  }
  if (config.finetune) {
    const report = loadFinetuneWeights(model, config.finetune, config.model_key);
    events.message?.(`fine-tuning from ${config.finetune}: ${report.loaded.length} tensors loaded` +
      (report.droppedHead.length ? `; head dropped (${report.droppedHead.join(', ')}): the class count differs` : '') +
      (report.missing.length ? `; ${report.missing.length} missing keep their initial values` : '') +
      (report.unexpected.length ? `; ${report.unexpected.length} unexpected ignored` : '') +
      (report.mismatched.length ? `; ${report.mismatched.length} with other shapes ignored (${report.mismatched.map((m) => m.key).slice(0, 4).join(', ')})` : ''));
  }
  const optimizer = keep(createOptimizer(model, config));
  const ema = config.model_ema ? keep(new engine.ModelEma(model, { decay: config.model_ema_decay })) : undefined;
  const extraEmas = config.model_ema ? (config.model_ema_decays ?? []).map((decay) => ({ decay, ema: keep(new engine.ModelEma(model, { decay })) })) : [];
  const emaModel = ema && config.model_ema_eval ? keep(new engine.Model(config.model, { numClasses: classes, ...place })) : undefined;
  const state: TrainingState = { model, optimizer, ...(ema ? { ema, emaDecay: config.model_ema_decay } : {}), extraEmas };
  // Evaluated in this order, each logged under its key's test_* columns (the official ema_ for the main one).
  const evaluatedEmas = ema ? [{ decay: config.model_ema_decay, ema, key: 'ema' }, ...extraEmas.map((e) => ({ ...e, key: `ema_${e.decay}` }))] : [];
  if (config.model_ema_decays?.length && !config.model_ema) events.message?.('--model_ema_decays has no effect without --model_ema true');
  if (config.bce_loss && !mixupActive(config)) events.message?.('--bce_loss has no effect without Mixup/CutMix, as in the official script');
  const criterion = lossFor(config, classes);
  const mixing = mixupActive(config) ? mixupConfig(config) : undefined;
  const files = config.output_dir && isMain ? new RunFiles(config.output_dir) : undefined;

  const effectiveBatch = config.batch_size * config.update_freq * worldSize;
  const itersPerEpoch = Math.floor(train.samples.length / effectiveBatch);
  if (itersPerEpoch < 1) throw new Error(`${train.samples.length} training images are fewer than one effective batch of ${effectiveBatch}`);
  const lr = cosineSchedule({ base: config.lr, final: config.min_lr, epochs: config.epochs, itersPerEpoch,
    warmupEpochs: config.warmup_epochs, warmupSteps: config.warmup_steps });
  const wd = cosineSchedule({ base: config.weight_decay, final: config.weight_decay_end ?? config.weight_decay, epochs: config.epochs, itersPerEpoch });

  const [scaleMin, scaleMax] = config.scale;
  if (config.scale.length !== 2 || !(scaleMin! > 0 && scaleMin! <= scaleMax! && scaleMax! <= 1)) {
    throw new Error(`--scale must be two numbers 0 < min <= max <= 1, got ${config.scale.join(' ')}`);
  }
  // timm's create_transform: RandomResizedCrop (at --input_size <= 32 the padded RandomCrop), flip,
  // RandAugment (--aa), normalisation, RandomErasing (--reprob).
  const transform: TrainTransform = trainTransformFromFlags({ ...config, scale: [scaleMin!, scaleMax!] });
  // Loader threads beyond the cores would only compete for them (the official 10 suits an 8-GPU server).
  const badFiles = files ? new BadFileList(join(files.dir, 'bad_files.txt')) : undefined;
  const loading = { numWorkers: Math.min(config.num_workers, availableParallelism()), maxBadFraction: config.max_bad_fraction,
    onBadFile: (file: BadFile) => badFiles?.add(file) };
  const shard = { rank: group?.rank ?? 0, worldSize };
  // Batches leave the loader as 8-bit pixels and are normalised and erased on the training device
  // (timm's PrefetchLoader); the floats are those the loader's own normalisation gives.
  const output = 'u8' as const;
  const trainLoader = new Loader(train.samples, { batchSize: config.batch_size, output, transform, shuffle: true, dropLast: true, seed: config.seed, ...loading, ...shard });
  // Evaluation during training is sharded with --dist_eval (DistributedSampler); --eval and the ReaL
  // scoring after training see every image once on each rank (the official SequentialSampler).
  const evalLoader = (folder: ImageFolder, sharded: boolean) => new Loader(folder.samples, { batchSize: config.batch_size, output,
    shuffle: false, dropLast: false, seed: config.seed, ...loading, ...(sharded ? shard : {}), transform: evalTransform });
  const valLoader = valFolder && evalLoader(valFolder, config.dist_eval);

  // The schedule position is the number of optimizer steps taken; a checkpoint records it, so a
  // run stopped inside an epoch resumes at the same step, skipping the batches it already used.
  let nextStep = config.start_epoch * itersPerEpoch;
  const resumeFrom = config.resume || (config.auto_resume && config.output_dir ? numberedCheckpoints(config.output_dir)[0]?.path : undefined);
  if (resumeFrom) {
    const saved = loadCheckpoint(resumeFrom, state);
    const resumed = resumePosition(saved, itersPerEpoch);
    nextStep = resumed.nextStep;
    events.message?.(config.eval ? `evaluating ${resumeFrom}`
      : `resumed from ${resumeFrom}: continuing at epoch ${Math.floor(nextStep / itersPerEpoch)}, step ${nextStep}${resumed.note}`);
  }

  // Every rank starts from rank 0's weights, as DDP's constructor makes them.
  if (group) await broadcastState(model, group);
  const evaluateOn = async (network: Model): Promise<EvalResult> => {
    if (!valLoader) throw new Error('evaluation without an evaluation folder');  // runEvaluates() said no
    if (!group) return evaluate(network, valLoader, config.input_size);
    await broadcastState(network, group);  // DDP's broadcast_buffers: rank 0's BatchNorm statistics
    const local = await evaluate(network, valLoader, config.input_size);
    if (!config.dist_eval) return local;
    const sums = Float64Array.of(local.acc1 * local.images, local.acc5 * local.images, local.loss * local.images, local.images);
    await group.allReduceSum(sums);
    return { acc1: sums[0]! / sums[3]!, acc5: sums[1]! / sums[3]!, loss: sums[2]! / sums[3]!, images: sums[3]! };
  };

  if (config.use_amp && place.device === 'cpu') events.message?.('--use_amp: mixed precision applies on the GPU; CPU training stays in f32');
  if (place.device !== 'cpu') events.message?.(`training on ${place.device} with ${place.activations} activations`);
  if (config.eval) {
    // The official --eval: evaluate the loaded weights (--resume or --finetune) on every image, with
    // the ReaL labels too when given, and stop.
    if (group) await broadcastState(model, group);
    const result = await evaluate(model, evalLoader(valFolder!, false), config.input_size, realLabels ? { real: realLabels } : {});
    if (result.real) events.message?.(realLine('the evaluated weights', result.real));
    return { status: 'completed', best: result };
  }

  const metadata = { config: JSON.stringify(config), iters_per_epoch: String(itersPerEpoch) };
  let best: EvalResult | null = null;
  let bestEma: EvalResult | null = null;
  // Whether to stop: this process's request alone, or with ranks, what they agreed on at the last
  // step boundary. A rank's own request stays set until it is voted on (the next boundary), however
  // late in the step it arrives; the verdict is kept apart so that a request does not get lost.
  let agreedStop = false;
  const stopping = () => (group ? agreedStop : stop.requested);
  for (let epoch = Math.floor(nextStep / itersPerEpoch); epoch < config.epochs; epoch++) {
    let lossSum = 0;
    let stepLoss = 0;  // of the micro-batches since the last optimizer step
    let micro = 0;
    const skip = (nextStep - epoch * itersPerEpoch) * config.update_freq;
    const batches = trainLoader.epoch(epoch)[Symbol.asyncIterator]();
    // The next micro-batch, taken from the loader and uploaded while the device still runs the one
    // before it (after its backward is queued), as timm's PrefetchLoader does: uploads are staged and
    // queued behind the work already there (core/cuda/runtime.h), so the device does not drain
    // between steps while the host copies a batch. dataSeconds: the wait for the loader.
    const takeNext = async () => {
      const waitStart = performance.now();
      const next = await batches.next();
      const dataSeconds = (performance.now() - waitStart) / 1000;
      if (next.done) return null;
      const batch = next.value;
      const x = batchInput(batch, config.input_size, place.device);
      owned.aheadTensors.push(x);
      const labels = engine.Tensor.fromArray(BigInt64Array.from(batch.labels, (l) => BigInt(l)), [batch.size], 'i64', place.device);
      owned.aheadTensors.push(labels);
      return { batch, x, labels, dataSeconds };
    };
    try {
      while (micro < skip && !(await batches.next()).done) micro++;
      let ahead = micro < skip ? null : await takeNext();
      while (ahead) {
        const { batch, x, labels, dataSeconds } = ahead;
        ahead = null;
        owned.stepTensors.push(...owned.aheadTensors.splice(0));
        const step = epoch * itersPerEpoch + Math.floor(micro / config.update_freq);
        if (step >= (epoch + 1) * itersPerEpoch) break;
        Object.assign(position, { epoch, step });
        const start = performance.now();
        let lam = 1;
        if (mixing) {
          const params = engine.mixupDraw(mixing, { height: config.input_size, width: config.input_size, seed: config.seed, step: micro + epoch * itersPerEpoch * config.update_freq });
          engine.mixupApply(x, params);
          lam = params.lam;
        }
        const targets = stepTensor(criterion.targets(labels, lam));
        const logits = stepTensor(await model.forward(x, { train: true, dropout: true, layout: 'nhwc', seed: config.seed * 1_000_003 + step }));
        const { loss, dlogits } = criterion.loss(logits, targets);
        stepTensor(dlogits);
        const diverged = (value: number) => {
          const reason = `the loss became ${value} at epoch ${epoch}, step ${step}: training stopped; the last good checkpoint is kept. ` +
            'Try a lower --lr or enable --clip_grad.';
          files?.recordFailure(reason, { epoch, step, lr: lr[step] });
          return { status: 'failed', reason } as const;
        };
        // Ranks judge the loss together, after the all-reduce, so that all of them stop.
        if (!group && !Number.isFinite(loss)) return diverged(loss);
        // Gradient accumulation: each micro-batch contributes 1/update_freq of the mean.
        const scaled = config.update_freq === 1 ? dlogits : stepTensor(scaleTensor(dlogits, 1 / config.update_freq));
        micro++;
        stepLoss += loss;
        const stepBoundary = micro % config.update_freq === 0;
        // Ranks average the gradients of a step's last micro-batch only (DDP's no_sync for the others),
        // the loss and each rank's stop request riding along with them.
        const averaged = group && stepBoundary ? await backwardAndAverage(model, scaled, group, [stepLoss, stop.requested ? 1 : 0]) : null;
        if (!averaged) await model.backward(scaled);
        // The backward is queued: take and upload the next micro-batch of this epoch meanwhile.
        let aheadSeconds = 0;
        if (epoch * itersPerEpoch + Math.floor(micro / config.update_freq) < (epoch + 1) * itersPerEpoch) {
          ahead = await takeNext();
          aheadSeconds = ahead?.dataSeconds ?? 0;
        }
        let gradNorm: number | null = null;
        if (stepBoundary) {
          if (averaged) {
            const [lossTotal, stopVotes] = averaged;
            if (!Number.isFinite(lossTotal!)) return diverged(lossTotal! / worldSize / config.update_freq);
            agreedStop = stopVotes! > 0;
          }
          stepLoss = 0;
          gradNorm = optimizer.step({ lr: lr[step]!, weightDecay: wd[step]!, clipGrad: config.clip_grad });
          model.zeroGrad();
          ema?.update(model);
          for (const extra of extraEmas) extra.ema.update(model);
          nextStep = step + 1;
        }
        lossSum += loss;
        const stepSeconds = (performance.now() - start) / 1000 - aheadSeconds;  // the loader's wait is the next step's
        const metrics: IterationMetrics = { epoch, step, loss, lr: lr[step]!, weight_decay: wd[step]!, grad_norm: gradNorm,
          images_per_second: (batch.size * worldSize) / (stepSeconds + dataSeconds), data_seconds: dataSeconds, step_seconds: stepSeconds, time: Date.now() / 1000 };
        files?.appendIteration(metrics);
        events.iteration?.(metrics, { done: step - epoch * itersPerEpoch + 1, total: itersPerEpoch });
        for (const t of owned.stepTensors.splice(0)) t.dispose();
        // A rank stops only where all of them do: at a step boundary, on the agreed verdict.
        if (stopping() && (!group || stepBoundary)) break;
      }
    } finally {
      for (const t of owned.aheadTensors.splice(0)) t.dispose();
      await batches.return?.(undefined);
    }
    const trainLoss = Float64Array.of(lossSum, Math.max(1, micro - skip));
    await group?.allReduceSum(trainLoss);  // the official logger's synchronize_between_processes
    const record: Record<string, unknown> = { train_loss: trainLoss[0]! / trainLoss[1]!, train_lr: lr[Math.min(lr.length - 1, (epoch + 1) * itersPerEpoch - 1)],
      train_min_lr: config.min_lr, train_weight_decay: wd[Math.min(wd.length - 1, (epoch + 1) * itersPerEpoch - 1)], epoch,
      n_parameters: model.parameterCount };
    if (!stopping() && shouldEvaluate(config, epoch)) {
      const result = await evaluateOn(model);
      Object.assign(record, { test_acc1: result.acc1, test_acc5: result.acc5, test_loss: result.loss });
      if (!best || result.acc1 > best.acc1) {
        best = result;
        if (files && config.save_ckpt) {
          saveCheckpoint(join(files.dir, 'checkpoint-best.safetensors'), state, { ...metadata, epoch: String(epoch), next_step: String(nextStep) });
        }
      }
      if (ema && emaModel) {
        // The official script's max_accuracy_ema over every EMA kept: checkpoint-best-ema holds
        // (under model_ema.) whichever decay's EMA beat every earlier score, the first listed on a tie.
        let top: { decay: number; result: EvalResult } | undefined;
        for (const { decay, ema: weights, key } of evaluatedEmas) {
          weights.copyTo(emaModel);
          const result = await evaluateOn(emaModel);
          Object.assign(record, { [`${key}_test_acc1`]: result.acc1, [`${key}_test_acc5`]: result.acc5, [`${key}_test_loss`]: result.loss });
          if (!top || result.acc1 > top.result.acc1) top = { decay, result };
        }
        if (!bestEma || top!.result.acc1 > bestEma.acc1) {
          bestEma = top!.result;
          if (files && config.save_ckpt) {
            saveCheckpoint(join(files.dir, 'checkpoint-best-ema.safetensors'), state, { ...metadata, epoch: String(epoch), next_step: String(nextStep) },
              { emaDecay: top!.decay });
          }
          events.message?.(`Max EMA accuracy: ${bestEma.acc1.toFixed(2)}% (EMA decay ${top!.decay}, epoch ${epoch})`);
        }
      }
    }
    if (files && config.save_ckpt && (stopping() || (epoch + 1) % config.save_ckpt_freq === 0 || epoch + 1 === config.epochs)) {
      saveEpochCheckpoint(files.dir, epoch, state, { ...metadata, next_step: String(nextStep) }, config.save_ckpt_num);
    }
    files?.appendEpoch(record);
    events.epoch?.(record);
    if (stopping()) return { status: 'stopped', epoch };
  }
  if (realLabels && config.model_ema_eval && emaModel && files) {
    // The official script, after training: checkpoint-best-ema's EMA weights against the ReaL labels.
    const path = join(files.dir, 'checkpoint-best-ema.safetensors');
    const bestEmaWeights = keep(new engine.ModelEma(emaModel, { decay: config.model_ema_decay }));
    const saved = loadCheckpoint(path, { model: emaModel, ema: bestEmaWeights });  // model_ema.: the best EMA, whatever its decay
    bestEmaWeights.copyTo(emaModel);
    const result = await evaluate(emaModel, evalLoader(valFolder!, false), config.input_size, { real: realLabels });
    events.message?.(realLine(`${path} (EMA weights, decay ${saved[EMA_DECAY_KEY] ?? config.model_ema_decay})`, result.real!));
    return { status: 'completed', best, real: result.real! };
  }
  return { status: 'completed', best };
}

function realLine(what: string, real: RealScore): string {
  return `ReaL labels, ${what}: top-1 ${real.acc1.toFixed(3)}%  top-5 ${real.acc5.toFixed(3)}%  (${real.images} images with ReaL classes)`;
}

/** A scaled copy of a small f32 tensor (the logits' gradient, (N,K)), on its device. */
function scaleTensor(t: Tensor, factor: number): Tensor {
  const values = t.toArray() as Float32Array;
  return loadEngine().Tensor.fromArray(values.map((v) => v * factor), t.shape, 'f32', t.device);
}
