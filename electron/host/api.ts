// The host side of the WorkbenchApi contract (shared/api.ts): one object per workbench home that
// implements every method and pushes the events. Plain Node with no `electron` import, so the
// Electron shell, the serve mode and the tests all drive the same implementation. Transports
// validate requests with parseRequest first; paths are still checked here (absolute, existing),
// since a request may come from a browser. Engine work never runs on this event loop: training in
// supervised run workers, evaluation, gates, classification and the model catalog in task
// processes, throughput in its own process; only file reads (checkpoints, metrics) and CIFAR-100
// downloads (streamed, data/cifar_fetches.ts) happen here.
import { accessSync, constants, existsSync, mkdtempSync, rmSync, statSync, writeFileSync, type Stats } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import type { DatasetCheck, WorkbenchApi, WorkbenchClient } from '../../shared/api';
import { inspectCheckpoint, tensorHistogram, diffCheckpoints } from './checkpoints/checkpoint_report';
import { convertCheckpoint } from './checkpoints/convert';
import { ThroughputComparisons } from './bench/compare';
import { CifarFetches, type CifarSource } from './data/cifar_fetches';
import { dataFolderSplits } from './data/datasets';
import { engineInfo } from './engine/addon';
import type { CatalogEntry } from './engine/model_catalog';
import { EventHub } from './host_events';
import { RequestError } from './request_error';
import { TaskRunner } from './jobs/run_task';
import { exportRuns } from './runs/export';
import { resolveRunConfig } from './runs/run_config';
import { RunManager } from './runs/run_manager';
import { RunStore } from './runs/run_store';
import { SystemMonitor } from './system_stats';
import { DEMO_DATASET } from './train/demo_preset';

export interface Host extends WorkbenchClient {
  /** Asks running workers to save and stop, ends task processes, stops the monitor. */
  close(): Promise<void>;
}

export interface HostOptions {
  home?: string;
  /** Stand-in run worker (tests); default the training worker. */
  runWorkerScript?: string;
  heartbeatTimeoutMs?: number;
  /** Where fetchCifar downloads from (tests); default the published archive. */
  cifarSource?: CifarSource;
}

const SYSTEM_STATS_INTERVAL_MS = 2000;

/** options.home, else PIX_WORKBENCH_HOME, else $XDG_DATA_HOME/pix-workbench, else ~/.local/share/pix-workbench. */
export function workbenchHome(home?: string): string {
  if (home) return resolve(home);
  if (process.env.PIX_WORKBENCH_HOME) return resolve(process.env.PIX_WORKBENCH_HOME);
  const data = process.env.XDG_DATA_HOME || join(homedir(), '.local', 'share');
  return join(data, 'pix-workbench');
}

// A path a client names is checked before any work starts, so that a mistake in it is the client's
// error (RequestError: serve mode answers 404 for a path that does not exist, 400 for one that
// cannot be used) with a message naming the field and the path, not the host's 500.

/** stat, with a failure turned into the client's error: ENOENT and ENOTDIR are 'does not exist'. */
function statOf(path: string, field: string, named = path): Stats {
  try {
    return statSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new RequestError(404, `${field}: ${named} does not exist`);
    throw new RequestError(400, `${field}: ${named} cannot be read (${code ?? (error as Error).message})`);
  }
}

function mustBeAbsolute(path: string, field: string): void {
  if (!isAbsolute(path)) throw new RequestError(400, `${field}: '${path}' must be an absolute path`);
}

/** Whether this process may read (or write) the path; the refusal names it. */
function mustAccess(path: string, field: string, mode: number, what: string): void {
  try {
    accessSync(path, mode);
  } catch (error) {
    throw new RequestError(400, `${field}: ${path} cannot be ${what} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
}

/** An existing, readable file named by an absolute path. */
function existingFile(path: string, field: string): string {
  mustBeAbsolute(path, field);
  if (!statOf(path, field).isFile()) throw new RequestError(400, `${field}: ${path} is not a file`);
  mustAccess(path, field, constants.R_OK, 'read');
  return resolve(path);
}

/** A path to write: absolute, in an existing folder this process may write to. */
function writablePath(path: string, field: string): string {
  mustBeAbsolute(path, field);
  const folder = dirname(path);
  if (!statOf(folder, field, `the folder ${folder}`).isDirectory()) throw new RequestError(400, `${field}: ${folder} is not a folder`);
  mustAccess(folder, field, constants.W_OK, 'written to');
  return resolve(path);
}

/** '' is the embedded demo; anything else an absolute path. */
function absoluteDataPath(path: string, field: string): string {
  if (path === '') return DEMO_DATASET;
  mustBeAbsolute(path, field);
  return resolve(path);
}

/** absoluteDataPath, which must be a folder this process can read: a task is not started on a typo. */
function dataFolder(path: string, field: string): string {
  if (path === '') return DEMO_DATASET;
  const folder = absoluteDataPath(path, field);
  if (!statOf(folder, field).isDirectory()) throw new RequestError(400, `${field}: ${folder} is not a folder`);
  mustAccess(folder, field, constants.R_OK | constants.X_OK, 'read');
  return folder;
}

/** A folder to fetch into: absolute, a folder if it exists, else made inside the nearest existing folder, which must be writable. */
function fetchFolder(path: string, field: string): string {
  mustBeAbsolute(path, field);
  const folder = resolve(path);
  if (existsSync(folder)) {
    if (!statOf(folder, field).isDirectory()) throw new RequestError(400, `${field}: ${folder} is not a folder`);
    mustAccess(folder, field, constants.W_OK, 'written to');
    return folder;
  }
  let parent = dirname(folder);
  while (!existsSync(parent) && dirname(parent) !== parent) parent = dirname(parent);
  if (!statOf(parent, field).isDirectory()) throw new RequestError(400, `${field}: ${parent} is not a folder`);
  mustAccess(parent, field, constants.W_OK, 'written to (to make the folder inside it)');
  return folder;
}

/** A data folder in either layout (datasets.ts's dataFolderSplits); an image folder counts as both its train and its val images. */
function checkDataset(path: string): DatasetCheck {
  try {
    // Counted and thrown away: a CIFAR check keeps no decoded images alive in the host (cifar.ts).
    const { data_set: dataSet, train, val } = dataFolderSplits(absoluteDataPath(path, 'path'), { keepInMemory: false });
    return { ok: true, path, dataSet, classes: train.classes.length, classNames: train.classes, trainImages: train.samples.length, valImages: val!.samples.length };
  } catch (error) {
    return { ok: false, path, problem: (error as Error).message };
  }
}

export function createHost(options: HostOptions = {}): Host {
  const home = workbenchHome(options.home);
  const monitor = new SystemMonitor();
  let statsTimer: NodeJS.Timeout | undefined;
  const hub: EventHub = new EventHub((event, count) => {
    if (event !== 'systemStats') return;
    if (count > 0 && !statsTimer) {
      const tick = () => void monitor.sample().then((stats) => hub.emit('systemStats', stats));
      statsTimer = setInterval(tick, SYSTEM_STATS_INTERVAL_MS);
      tick();
    } else if (count === 0 && statsTimer) {
      clearInterval(statsTimer);
      statsTimer = undefined;
    }
  });
  const store = new RunStore(home);
  const runs = new RunManager({
    store, emit: hub.emit, cudaDevices: engineInfo().backends.cuda.devices.length,
    ...(options.runWorkerScript ? { workerScript: options.runWorkerScript } : {}),
    ...(options.heartbeatTimeoutMs ? { heartbeatTimeoutMs: options.heartbeatTimeoutMs } : {}),
  });
  const tasks = new TaskRunner();
  const throughput = new ThroughputComparisons(home, hub.emit);
  const cifarFetches = new CifarFetches(hub.emit, options.cifarSource);
  let catalog: Promise<CatalogEntry[]> | undefined;
  const modelCatalog = () => {
    catalog ??= tasks.run('catalog', {}).catch((error: unknown) => {
      catalog = undefined;  // a failed build is not kept: the next call tries again
      throw error;
    });
    return catalog;
  };

  // async throughout, so that a synchronous throw reaches the caller as a rejection, as the contract promises.
  const api: WorkbenchApi = {
    engineInfo: async () => engineInfo(),
    systemStats: () => monitor.sample(),
    listModels: async () => (await modelCatalog()).map(({ name, aliases, parameters, macs224, family }) =>
      ({ name, aliases, parameters, macs: macs224, pix: family === 'pix' })),
    checkDataset: async ({ path }) => checkDataset(path),
    fetchCifar: async ({ dataPath }) => cifarFetches.start(fetchFolder(dataPath, 'dataPath')),
    cancelCifarFetch: async ({ dataPath }) => {
      mustBeAbsolute(dataPath, 'dataPath');
      return cifarFetches.cancel(dataPath);
    },
    listCifarFetches: async () => cifarFetches.list(),

    listRuns: async () => runs.list(),
    getRun: async ({ id }) => runs.get(id),
    startRun: async ({ name, config }) => {
      const id = store.newId();
      return runs.create(id, name ?? '', resolveRunConfig(config, store.folderOf(id)));
    },
    stopRun: async ({ id }) => runs.stop(id),
    resumeRun: async ({ id }) => runs.resume(id),
    deleteRun: async ({ id }) => {
      runs.delete(id);
      return { deleted: true };
    },
    runSeries: async ({ id, ...window }) => runs.series(id, window),
    exportRuns: async ({ ids, format }) => exportRuns(ids.map((id) => runs.exportSource(id).record), format),

    inspectCheckpoint: async ({ path }) => inspectCheckpoint(existingFile(path, 'path'), await modelCatalog()),
    tensorHistogram: async ({ path, name, bins }) => tensorHistogram(existingFile(path, 'path'), name, bins),
    diffCheckpoints: async ({ a, b }) => diffCheckpoints(existingFile(a, 'a'), existingFile(b, 'b')),
    evaluateCheckpoint: async ({ path, model, dataPath, inputSize, batchSize }) => tasks.run('evaluate', {
      path: existingFile(path, 'path'), model, dataPath: dataFolder(dataPath, 'dataPath'), inputSize, batchSize, catalog: await modelCatalog(),
    }),
    convertCheckpoint: async ({ from, to }) => {
      const input = existingFile(from, 'from');
      const output = writablePath(to, 'to');
      if (input === output) throw new RequestError(400, 'to: converting a file onto itself would destroy it; choose another output path');
      const { path, bytes } = convertCheckpoint(input, output);
      return { path, bytes };
    },
    gateStatistics: async ({ path, model, dataPath, images, inputSize }) => tasks.run('gates', {
      path: existingFile(path, 'path'), model, dataPath: dataFolder(dataPath, 'dataPath'), images, inputSize, catalog: await modelCatalog(),
    }),
    classifyImage: async ({ path, model, image, inputSize }) => {
      const checkpoint = existingFile(path, 'path');
      const upload = 'base64' in image ? mkdtempSync(join(tmpdir(), 'pix-upload-')) : undefined;
      try {
        let imageFile: string;
        let imageName: string;
        if (upload) {
          imageFile = join(upload, 'image');
          imageName = 'image.base64: the uploaded image';
          writeFileSync(imageFile, Buffer.from((image as { base64: string }).base64, 'base64'));
        } else {
          imageFile = existingFile((image as { file: string }).file, 'image.file');
          imageName = `image.file: ${imageFile}`;
        }
        return await tasks.run('classify', { path: checkpoint, model, inputSize, imageFile, imageName, catalog: await modelCatalog() });
      } finally {
        if (upload) rmSync(upload, { recursive: true, force: true });
      }
    },

    startThroughput: async (request) => throughput.start(request),
    cancelThroughput: async ({ id }) => throughput.cancel(id),
    throughputHistory: async () => throughput.history(),
  };

  return {
    api,
    on: hub.on,
    async close() {
      if (statsTimer) clearInterval(statsTimer);
      statsTimer = undefined;
      throughput.close();
      tasks.close();
      await cifarFetches.close();
      await runs.close();
    },
  };
}
