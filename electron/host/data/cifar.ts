// CIFAR-100 as the official script reads it for --data_set CIFAR: torchvision's
// datasets.CIFAR100(data_path, train=…), the published Python pickles in
// data_path/cifar-100-python/{train, test, meta}. Each split is a dict whose 'data' is a numpy
// uint8 array of N x 3072 (an image's 1024 red values, then green, then blue, row by row) and whose
// 'fine_labels' index meta's 'fine_label_names', which are the classes in their stored order.
//
// The pickles go through the checkpoint reader's unpickler (it runs no code), allowed only the
// numpy and codecs names such a file uses: the published files are Python 2 pickles, and files
// re-saved by Python 3 (protocols 2 to 5, in-band) read the same. The images are turned to HWC once,
// into shared memory that the loader's worker threads read in place (the samples carry it: no file
// is opened per image). A split is read once per process and kept while its file is unchanged (the
// trainer reads it again for every evaluation); a caller that only checks the files (the host's
// dataset check and run-config check) asks for it not to be kept, so that the ~180 MB of decoded
// images are garbage once its answer is out.
//
// The official script passes download=True; training here downloads nothing, so a missing folder
// is refused naming `pix data fetch-cifar` (cifar_fetch.ts) and the address to fetch it from. Files that are not the published ones (their MD5s are
// torchvision's) still train, with a note, so that subsets in the same format can be used.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { PthError } from '../checkpoints/pth/errors';
import { describe, isDict, LegacyString, PickleCallError, PickleGlobal, unpickle } from '../checkpoints/pth/unpickler';
import type { ImageFolder, PackedImages, Sample } from './image_folder';

export const CIFAR100_FOLDER = 'cifar-100-python';
export const CIFAR100_URL = 'https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz';
const SIDE = 32;
const IMAGE_BYTES = SIDE * SIDE * 3;

/** torchvision's CIFAR100.train_list, test_list and meta: the published files' MD5s. */
const PUBLISHED_MD5: Record<string, string> = {
  train: '16019d7e3df5f24257cddd939b257f8d',
  test: 'f0ef6b0ae62326f3e7ffdfab6717acfc',
  meta: '7973b15100ade9c7d40fb424638fde48',
};

export type CifarSplit = 'train' | 'test';

/** A split as the loader takes it: an ImageFolder whose samples carry their pixels. */
export interface CifarFolder extends ImageFolder {
  /** One line for the run's log per file read (meta and the split) that is not the published one (its MD5 differs). */
  notes: string[];
}

/** A CIFAR-100 file that cannot be used: the message names it and what is wrong. */
export class CifarError extends Error {}

function foundFolder(dataPath: string): string | undefined {
  const nested = join(dataPath, CIFAR100_FOLDER);
  if (existsSync(join(nested, 'meta'))) return nested;
  if (basename(dataPath) === CIFAR100_FOLDER && existsSync(join(dataPath, 'meta'))) return dataPath;
  return undefined;
}

/** Whether data_path holds CIFAR-100's files (cifarFolder finds them). */
export function isCifarFolder(dataPath: string): boolean {
  return foundFolder(dataPath) !== undefined;
}

/** The folder holding train, test and meta: data_path/cifar-100-python, or data_path itself when it is that folder. */
export function cifarFolder(dataPath: string): string {
  const found = foundFolder(dataPath);
  if (found) return found;
  const nested = join(dataPath, CIFAR100_FOLDER);
  throw new CifarError(`--data_set CIFAR reads CIFAR-100 from ${join(nested, '{train,test,meta}')}, as torchvision does, and ` +
    `${existsSync(nested) ? `${nested} has no meta file` : `${dataPath} holds no ${CIFAR100_FOLDER} folder`}. The official script ` +
    `downloads it; training here downloads nothing: run pix data fetch-cifar --data_path ${dataPath}, or fetch ${CIFAR100_URL} ` +
    `and extract it into ${dataPath} (tar -xzf cifar-100-python.tar.gz -C ${dataPath})`);
}

/** A numpy array as its pickle rebuilds it: _reconstruct(ndarray, (0,), b'b'), then BUILD with its state. */
class NumpyArray {
  shape: number[] = [];
  dtype: NumpyDType | null = null;
  data: Uint8Array | null = null;
}

class NumpyDType {
  constructor(readonly code: string) {}
}

function bytesOf(value: unknown): Uint8Array | null {
  if (value instanceof LegacyString) return value.bytes;
  if (value instanceof Uint8Array) return value;
  return null;
}

function textOf(value: unknown): string | null {
  if (typeof value === 'string') return value;
  if (value instanceof LegacyString) return value.text;
  return null;
}

/** The only names a CIFAR pickle may use (numpy 1 and 2 spell the module differently). */
function cifarGlobals(): Map<string, PickleGlobal> {
  const globals = new Map<string, PickleGlobal>();
  const add = (name: string, behaviour: PickleGlobal['behaviour'] = {}) => globals.set(name, new PickleGlobal(name, behaviour));
  const reconstruct: PickleGlobal['behaviour'] = {
    call: ([cls]) => {
      if (!(cls instanceof PickleGlobal) || cls.name !== 'numpy.ndarray') throw new PickleCallError(`_reconstruct builds ${describe(cls)}, not a numpy.ndarray`);
      return new NumpyArray();
    },
    build: (instance, state) => {
      const array = instance as NumpyArray;
      if (!Array.isArray(state) || state.length !== 5) throw new PickleCallError(`a numpy array's state is ${describe(state)}, not (version, shape, dtype, fortran, data)`);
      const [, shape, dtype, fortran, data] = state as unknown[];
      if (!Array.isArray(shape) || !shape.every((d) => typeof d === 'number')) throw new PickleCallError('a numpy array has a shape that is not a tuple of ints');
      if (!(dtype instanceof NumpyDType)) throw new PickleCallError(`a numpy array's dtype is ${describe(dtype)}`);
      if (fortran !== false) throw new PickleCallError('a numpy array is in Fortran order');
      const bytes = bytesOf(data);
      if (!bytes) throw new PickleCallError(`a numpy array holds ${describe(data)} instead of its bytes`);
      Object.assign(array, { shape, dtype, data: bytes });
    },
  };
  add('numpy.core.multiarray._reconstruct', reconstruct);
  add('numpy._core.multiarray._reconstruct', reconstruct);
  add('numpy.ndarray');
  add('numpy.dtype', {
    call: ([code]) => {
      const text = textOf(code);
      if (text === null) throw new PickleCallError(`numpy.dtype is called with ${describe(code)}`);
      return new NumpyDType(text);
    },
    build: () => {},  // byte order and flags: a uint8 array has none that matter
  });
  // Python 3 writes bytes at protocol 2 as _codecs.encode(text, 'latin1').
  add('_codecs.encode', {
    call: ([text, encoding]) => {
      if (typeof text !== 'string' || encoding !== 'latin1') throw new PickleCallError('_codecs.encode is called with anything but (str, "latin1")');
      return new Uint8Array(Buffer.from(text, 'latin1'));
    },
  });
  return globals;
}

/** The file's dict, and its bytes for the MD5. */
function readPickle(path: string): { dict: Record<string, unknown>; bytes: Buffer } {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    throw new CifarError(`cannot read ${path}: ${(error as Error).message}`);
  }
  let value: unknown;
  try {
    ({ value } = unpickle(bytes, 0, { source: path, part: 'the pickle', globals: cifarGlobals(), allowed: "a CIFAR-100 file's numpy arrays", legacyStrings: true }));
  } catch (error) {
    if (error instanceof PthError) throw new CifarError(`${error.message}: not a CIFAR-100 pickle as torchvision reads it`);
    throw error;
  }
  if (!isDict(value)) throw new CifarError(`${path}: the pickle holds ${describe(value)}, not CIFAR-100's dict`);
  return { dict: value, bytes };
}

function field(dict: Record<string, unknown>, path: string, key: string): unknown {
  if (!(key in dict)) throw new CifarError(`${path}: no '${key}' entry (it has ${Object.keys(dict).join(', ') || 'none'}), so it is not a CIFAR-100 file`);
  return dict[key];
}

function publishedNote(path: string, name: string, bytes: Uint8Array): string | undefined {
  const md5 = createHash('md5').update(bytes).digest('hex');
  return md5 === PUBLISHED_MD5[name] ? undefined : `${path} is not the published CIFAR-100 file (MD5 ${md5}, not ${PUBLISHED_MD5[name]}): used as it is`;
}

function readClasses(folder: string): { classes: string[]; note?: string } {
  const path = join(folder, 'meta');
  const { dict, bytes } = readPickle(path);
  const names = field(dict, path, 'fine_label_names');
  const classes = Array.isArray(names) ? names.map(textOf) : null;
  if (!classes || classes.length === 0 || classes.some((c) => c === null)) throw new CifarError(`${path}: 'fine_label_names' is not a list of names`);
  return { classes: classes as string[], note: publishedNote(path, 'meta', bytes) };
}

/** data (N x 3072, planar RGB per image) as N HWC images in shared memory. */
function packImages(path: string, array: unknown): PackedImages {
  if (!(array instanceof NumpyArray) || !array.data || !array.dtype) throw new CifarError(`${path}: 'data' is ${describe(array)}, not a numpy array`);
  if (!['u1', 'uint8', '|u1'].includes(array.dtype.code)) throw new CifarError(`${path}: 'data' holds ${array.dtype.code} values, not uint8 pixels`);
  const [count, width] = array.shape;
  if (array.shape.length !== 2 || width !== IMAGE_BYTES || array.data.length !== count! * IMAGE_BYTES) {
    throw new CifarError(`${path}: 'data' is ${array.shape.join('x')} with ${array.data.length} bytes, not N x ${IMAGE_BYTES} (32x32 RGB images)`);
  }
  const planar = array.data;
  const pixels = new Uint8Array(new SharedArrayBuffer(planar.length));
  const plane = SIDE * SIDE;
  for (let image = 0; image < count!; image++) {
    const from = image * IMAGE_BYTES;
    for (let p = 0; p < plane; p++) {
      const to = from + 3 * p;
      pixels[to] = planar[from + p]!;
      pixels[to + 1] = planar[from + plane + p]!;
      pixels[to + 2] = planar[from + 2 * plane + p]!;
    }
  }
  return { pixels, count: count!, width: SIDE, height: SIDE };
}

function readSplit(folder: string, split: CifarSplit, classes: string[]): ImageFolder & { note?: string } {
  const path = join(folder, split);
  const { dict, bytes } = readPickle(path);
  const images = packImages(path, field(dict, path, 'data'));
  const labels = field(dict, path, 'fine_labels');
  if (!Array.isArray(labels) || labels.length !== images.count) {
    throw new CifarError(`${path}: 'fine_labels' has ${Array.isArray(labels) ? labels.length : describe(labels)} entries for ${images.count} images`);
  }
  const samples: Sample[] = labels.map((label, index) => {
    if (typeof label !== 'number' || !Number.isInteger(label) || label < 0 || label >= classes.length) {
      throw new CifarError(`${path}: image ${index} has the label ${String(label)}, outside the ${classes.length} classes of ${join(folder, 'meta')}`);
    }
    return { path: `${path}[${index}]`, label, packed: { images, index } };
  });
  const note = publishedNote(path, split, bytes);
  return { root: folder, classes, samples, ...(note ? { note } : {}) };
}

const cache = new Map<string, { stamp: string; folder: CifarFolder }>();

function stamp(paths: string[]): string {
  return paths.map((p) => {
    const s = statSync(p);
    return `${s.size}:${s.mtimeMs}`;
  }).join(',');
}

export interface CifarReadOptions {
  /** Keep the split for the next read in this process (default true); false reads it for this caller alone. */
  keep?: boolean;
}

/** One split of CIFAR-100 under data_path (cifarFolder), read once per process while its files are unchanged. */
export function readCifar100(dataPath: string, split: CifarSplit, options: CifarReadOptions = {}): CifarFolder {
  const folder = cifarFolder(dataPath);
  const files = [join(folder, 'meta'), join(folder, split)];
  if (!existsSync(files[1]!)) throw new CifarError(`${folder} has no ${split} file: the CIFAR-100 archive (${CIFAR100_URL}) holds train, test and meta`);
  const key = files[1]!;
  const now = stamp(files);
  const hit = cache.get(key);
  if (hit?.stamp === now) return hit.folder;
  const { classes, note: metaNote } = readClasses(folder);
  const { note, ...read } = readSplit(folder, split, classes);
  const result: CifarFolder = { ...read, notes: [metaNote, note].filter((n): n is string => n !== undefined) };
  if (options.keep ?? true) cache.set(key, { stamp: now, folder: result });
  return result;
}
