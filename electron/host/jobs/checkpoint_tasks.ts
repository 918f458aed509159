// The engine work the workbench does on request besides training — building the model catalog,
// evaluating a checkpoint, gate statistics, classifying one image — as plain functions of JSON
// payloads, so task_worker.ts can run them in a child process and keep the host's event loop free.
// What the request got wrong (a file that is no checkpoint or does not fit its model, a data folder
// in neither layout, with other classes or, at input_size <= 32, of another size, an image that
// cannot be decoded) throws a RequestError, whose status the worker protocol carries to the host.
import type { EvalSummary, GateBlockStats, ImageClassification } from '../../../shared/api';
import { classifyImage, gateStatistics } from '../checkpoints/gate_statistics';
import { inputSizeFor, loadInferenceModel, type InferenceModel } from '../checkpoints/inference_model';
import { BadImageError } from '../data/bad_image';
import { dataFolderSplits, DatasetFlagError } from '../data/datasets';
import type { Sample } from '../data/image_folder';
import { Loader } from '../data/loader';
import { checkEvalImageSizes, ImageSizeError } from '../data/small_input';
import { evalTransformFromFlags, loadImage, type EvalTransform } from '../data/transforms';
import { buildModelCatalog, type CatalogEntry } from '../engine/model_catalog';
import { RequestError } from '../request_error';
import { evaluate } from '../train/evaluate';
import { DEMO_DATASET } from '../train/demo_preset';

interface CheckpointRequest {
  path: string;
  model?: string | undefined;
  inputSize?: number | undefined;
  catalog: CatalogEntry[];
}

export interface CheckpointTasks {
  catalog(payload: Record<string, never>): Promise<CatalogEntry[]>;
  evaluate(payload: CheckpointRequest & { dataPath: string; batchSize?: number | undefined }): Promise<EvalSummary>;
  gates(payload: CheckpointRequest & { dataPath: string; images: number }): Promise<{ blocks: GateBlockStats[]; images: number }>;
  /** `imageName`: how messages name the image (an upload's temporary file means nothing to the client). */
  classify(payload: CheckpointRequest & { imageFile: string; imageName?: string | undefined }): Promise<ImageClassification>;
}

export type TaskName = keyof CheckpointTasks;

/** The run's own evaluation transform (the official one: at size <= 32 no resizing), so a checkpoint scores what its run logged. */
function evalTransform(loaded: InferenceModel, size: number): EvalTransform {
  const cropPct = loaded.config?.crop_pct;
  return { ...evalTransformFromFlags({ input_size: size, crop_pct: typeof cropPct === 'number' ? cropPct : null }), normalization: loaded.normalization };
}

/** The evaluation split of a data folder in any layout: val/ of the ImageNet layout, CIFAR-100's test file, or an image folder itself. */
function valSplit(dataPath: string, classes: number) {
  const root = dataPath || DEMO_DATASET;
  let val;
  try {
    val = dataFolderSplits(root).val!;
  } catch (error) {
    if (error instanceof DatasetFlagError) throw new RequestError(400, `dataPath: ${error.message}`, { cause: error });
    throw error;
  }
  if (val.classes.length !== classes) throw new RequestError(400, `dataPath: the checkpoint has ${classes} classes but ${root} has ${val.classes.length}`);
  return val;
}

/**
 * At input_size <= 32 the images are taken as they are, so they must be that size: one header per
 * class is checked before any work, and a folder of another size is the request's error, naming a file.
 */
async function checkSizes(samples: Sample[], transform: EvalTransform): Promise<void> {
  if (transform.resize !== false) return;
  try {
    await checkEvalImageSizes({ samples }, transform.size);
  } catch (error) {
    throw new RequestError(400, `dataPath: ${(error as Error).message}`, { cause: error });
  }
}

/** `count` samples spread evenly over the split, so every class is seen. */
function spread(samples: Sample[], count: number): Sample[] {
  const n = Math.min(count, samples.length);
  return Array.from({ length: n }, (_, i) => samples[Math.floor((i * samples.length) / n)]!);
}

export const checkpointTasks: CheckpointTasks = {
  catalog: async () => buildModelCatalog(),

  async evaluate({ path, model, inputSize, batchSize, dataPath, catalog }) {
    const started = performance.now();
    const loaded = loadInferenceModel(path, model, catalog);
    const size = inputSizeFor(inputSize, loaded);
    const val = valSplit(dataPath, loaded.model.numClasses);
    const transform = evalTransform(loaded, size);
    await checkSizes(val.samples, transform);
    const loader = new Loader(val.samples, { batchSize: batchSize ?? 64, shuffle: false, dropLast: false, seed: 0, transform });
    const result = await evaluate(loaded.model, loader, size);
    return { ...result, seconds: (performance.now() - started) / 1000 };
  },

  async gates({ path, model, inputSize, dataPath, images, catalog }) {
    const loaded = loadInferenceModel(path, model, catalog);
    const size = inputSizeFor(inputSize, loaded);
    const samples = spread(valSplit(dataPath, loaded.model.numClasses).samples, images);
    const transform = evalTransform(loaded, size);
    await checkSizes(samples, transform);
    const loader = new Loader(samples, { batchSize: samples.length, shuffle: false, dropLast: false, seed: 0, transform });
    for await (const batch of loader.epoch(0)) {
      return { blocks: await gateStatistics(loaded.model, batch.images, batch.size, size), images: batch.size };
    }
    throw new Error('no images to sample');
  },

  async classify({ path, model, inputSize, imageFile, imageName, catalog }) {
    const loaded = loadInferenceModel(path, model, catalog);
    const size = inputSizeFor(inputSize, loaded);
    let image;
    try {
      image = await loadImage(imageFile, evalTransform(loaded, size), undefined);
    } catch (error) {
      if (error instanceof BadImageError || error instanceof ImageSizeError) {
        throw new RequestError(400, `${imageName ?? imageFile}: ${error.reason}`, { cause: error });
      }
      throw error;
    }
    return classifyImage(loaded.model, image, size, loaded.classNames);
  },
};
