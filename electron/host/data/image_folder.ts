// ImageFolder datasets: a split is a folder of class folders (scanImageFolder), and the ImageNet
// layout is data_path/train/<class>/<image> and data_path/val/<class>/<image> (scanImageNetLayout);
// which folders a run uses is datasets.ts's call. Classes are the sorted folder names
// (torchvision's order, so label indices match PyTorch); images are matched by extension,
// case-insensitively; symbolic links to folders and files are followed, as torchvision does. Layout mistakes get messages that say
// what is wrong and how to fix it. Scans are cached (index_cache.ts); images are not opened here.
import { readdirSync, statSync, type Dirent } from 'node:fs';
import { extname, join, sep } from 'node:path';
import { folderStamp, readCachedIndex, writeCachedIndex, type FolderIndex } from './index_cache';

export const IMAGE_EXTENSIONS = ['.jpg', '.jpeg', '.png', '.ppm', '.bmp', '.pgm', '.tif', '.tiff', '.webp'];

export interface Sample {
  /** The image file; for an image held in memory, a name for messages. */
  path: string;
  label: number;
  /** An image held in memory (CIFAR's, data/cifar.ts) rather than in a file at `path`. */
  packed?: PackedImage;
}

/** Images of one size held in memory, HWC one after the other; shared memory, so that loader threads read them in place. */
export interface PackedImages {
  pixels: Uint8Array;
  count: number;
  width: number;
  height: number;
}

export interface PackedImage {
  images: PackedImages;
  index: number;
}

/** A packed image's pixels, without a copy. */
export function packedPixels({ images, index }: PackedImage): Uint8Array {
  const bytes = images.width * images.height * 3;
  return images.pixels.subarray(index * bytes, (index + 1) * bytes);
}

export interface ImageFolder {
  root: string;
  classes: string[];
  samples: Sample[];
}

export interface ImageNetLayout {
  train: ImageFolder;
  val: ImageFolder;
}

export interface ScanOptions {
  /** Use and refresh the index cache (default true). */
  cache?: boolean;
}

function isImage(name: string): boolean {
  return IMAGE_EXTENSIONS.includes(extname(name).toLowerCase());
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** readdir that names the folder and the fix when it fails (permissions, a vanished folder). */
function listFolder(path: string): Dirent[] {
  try {
    return readdirSync(path, { withFileTypes: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new Error(code === 'EACCES' || code === 'EPERM'
      ? `cannot read the folder ${path}: permission denied (the user running pix needs read and execute permission on it)`
      : `cannot read the folder ${path}: ${(error as Error).message}`);
  }
}

/** The entry is a folder, or a symbolic link to one. */
function entryIsDirectory(folder: string, entry: Dirent): boolean {
  return entry.isDirectory() || (entry.isSymbolicLink() && isDirectory(join(folder, entry.name)));
}

function entryIsFile(folder: string, entry: Dirent): boolean {
  if (entry.isFile()) return true;
  if (!entry.isSymbolicLink()) return false;
  try {
    return statSync(join(folder, entry.name)).isFile();
  } catch {
    return false;  // a dangling link is no image
  }
}

function byName(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;  // code-point order, like Python's sorted()
}

/** The first five names, and the count when there are more: for messages. */
export function listNames(names: string[]): string {
  return names.slice(0, 5).join(', ') + (names.length > 5 ? `, … (${names.length} in all)` : '');
}

function scanFolder(root: string): FolderIndex & { stamps: { split: string; classes: string[] } } {
  // Each folder's time is read before the folder is listed, so a change during the scan leaves a
  // cached entry stale rather than wrongly valid.
  const split = folderStamp(root);
  const entries = listFolder(root);
  const classes = entries.filter((e) => entryIsDirectory(root, e) && !e.name.startsWith('.')).map((e) => e.name).sort(byName);
  if (classes.length === 0) {
    const looseImages = entries.filter((e) => entryIsFile(root, e) && isImage(e.name)).length;
    throw new Error(looseImages > 0
      ? `${root} holds ${looseImages} images but no class folders. ImageFolder needs one folder per class ` +
        '(for the flat ILSVRC2012 validation folder, move each image into the folder of its synset, ' +
        'e.g. with the ground-truth list of the devkit or the widely used valprep.sh)'
      : `${root} has no class folders`);
  }
  const stamps: string[] = [];
  const files = classes.map((name) => {
    const folder = join(root, name);
    stamps.push(folderStamp(folder));
    return listFolder(folder).filter((e) => isImage(e.name) && entryIsFile(folder, e)).map((e) => e.name).sort(byName);
  });
  return { classes, files, stamps: { split, classes: stamps } };
}

/** One split: class folders below `root`, each holding at least one image. */
export function scanImageFolder(root: string, options: ScanOptions = {}): ImageFolder {
  if (!isDirectory(root)) throw new Error(`${root} is not a folder`);
  const useCache = options.cache ?? true;
  let index = useCache ? readCachedIndex(root) : undefined;
  if (!index) {
    const scanned = scanFolder(root);
    index = scanned;
    if (useCache) writeCachedIndex(root, scanned, scanned.stamps);
  }
  const empty = index.classes.filter((_, c) => index.files[c]!.length === 0);
  if (empty.length) {
    throw new Error(`${root}: ${empty.length} class folder${empty.length > 1 ? 's hold' : ' holds'} no images ` +
      `(${listNames(empty)}); accepted extensions: ${IMAGE_EXTENSIONS.join(' ')}`);
  }
  const samples: Sample[] = [];
  index.classes.forEach((name, label) => {
    const folder = join(root, name) + sep;  // one join per class: a million joins cost more than the scan
    for (const file of index.files[label]!) samples.push({ path: folder + file, label });
  });
  return { root, classes: index.classes, samples };
}

/** Throws, saying what the ImageNet layout is, unless data_path is a folder holding every split named. */
function checkImageNetLayout(dataPath: string, splits: readonly string[]): void {
  if (!isDirectory(dataPath)) throw new Error(`data path ${dataPath} is not a folder`);
  const missing = splits.filter((split) => !isDirectory(join(dataPath, split)));
  if (missing.length) {
    const found = listFolder(dataPath).filter((e) => entryIsDirectory(dataPath, e)).map((e) => `${e.name}/`);
    throw new Error(`${dataPath} has no ${missing.map((s) => `${s}/`).join(' or ')} folder: the ImageNet layout is ` +
      `${dataPath}/train/<class>/<image> and ${dataPath}/val/<class>/<image>` +
      (found.length ? ` (it holds ${listNames(found)})` : ' (it holds no folders)'));
  }
}

/**
 * Throws unless two splits name the same classes: labels are indices into each split's sorted
 * class list, so a class missing from one would shift the labels of the others.
 */
export function checkSameClasses(train: ImageFolder, val: ImageFolder, names: { train: string; val: string }): void {
  const valClasses = new Set(val.classes);
  const trainClasses = new Set(train.classes);
  const onlyTrain = train.classes.filter((c) => !valClasses.has(c));
  const onlyVal = val.classes.filter((c) => !trainClasses.has(c));
  if (onlyTrain.length || onlyVal.length) {
    throw new Error(`${names.train} and ${names.val} name different classes (labels are indices into the sorted class list, so both ` +
      `splits need the same folders)` +
      (onlyTrain.length ? `; only in ${names.train}: ${listNames(onlyTrain)}` : '') + (onlyVal.length ? `; only in ${names.val}: ${listNames(onlyVal)}` : ''));
  }
}

/** data_path with train/ and val/ splits that name the same classes. */
export function scanImageNetLayout(dataPath: string, options: ScanOptions = {}): ImageNetLayout {
  checkImageNetLayout(dataPath, ['train', 'val']);
  const train = scanImageFolder(join(dataPath, 'train'), options);
  const val = scanImageFolder(join(dataPath, 'val'), options);
  checkSameClasses(train, val, { train: 'train/', val: 'val/' });
  return { train, val };
}

/** The train/ split alone of an ImageNet-layout data_path, for a run that never evaluates. */
export function scanImageNetTrain(dataPath: string, options: ScanOptions = {}): ImageFolder {
  checkImageNetLayout(dataPath, ['train']);
  return scanImageFolder(join(dataPath, 'train'), options);
}
