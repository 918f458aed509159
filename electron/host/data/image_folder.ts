// ImageFolder datasets in the ImageNet layout: data_path/train/<class>/<image> and
// data_path/val/<class>/<image>. Classes are the sorted folder names (torchvision's order, so
// label indices match PyTorch); images are matched by extension, case-insensitively. Layout
// mistakes get messages that say what is wrong and how to fix it.
import { readdirSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';

export const IMAGE_EXTENSIONS = ['.jpg', '.jpeg', '.png', '.ppm', '.bmp', '.pgm', '.tif', '.tiff', '.webp'];

export interface Sample {
  path: string;
  label: number;
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

function byName(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;  // code-point order, like Python's sorted()
}

/** One split: class folders below `root`, each holding at least one image. */
export function scanImageFolder(root: string): ImageFolder {
  if (!isDirectory(root)) throw new Error(`${root} is not a folder`);
  const entries = readdirSync(root, { withFileTypes: true });
  const classes = entries.filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name).sort(byName);
  if (classes.length === 0) {
    const looseImages = entries.filter((e) => e.isFile() && isImage(e.name)).length;
    throw new Error(looseImages > 0
      ? `${root} holds ${looseImages} images but no class folders. ImageFolder needs one folder per class ` +
        '(for the flat ILSVRC2012 validation folder, move each image into the folder of its synset, ' +
        'e.g. with the ground-truth list of the devkit)'
      : `${root} has no class folders`);
  }
  const samples: Sample[] = [];
  const empty: string[] = [];
  classes.forEach((name, label) => {
    const files = readdirSync(join(root, name), { withFileTypes: true })
      .filter((e) => e.isFile() && isImage(e.name)).map((e) => e.name).sort(byName);
    if (files.length === 0) empty.push(name);
    for (const file of files) samples.push({ path: join(root, name, file), label });
  });
  if (empty.length) {
    throw new Error(`${root}: ${empty.length} class folder${empty.length > 1 ? 's hold' : ' holds'} no images ` +
      `(${empty.slice(0, 5).join(', ')}${empty.length > 5 ? ', …' : ''}); accepted extensions: ${IMAGE_EXTENSIONS.join(' ')}`);
  }
  return { root, classes, samples };
}

/** data_path with train/ and val/ splits that name the same classes. */
export function scanImageNetLayout(dataPath: string): ImageNetLayout {
  if (!isDirectory(dataPath)) throw new Error(`data path ${dataPath} is not a folder`);
  for (const split of ['train', 'val']) {
    if (!isDirectory(join(dataPath, split))) {
      throw new Error(`${dataPath} has no ${split}/ folder: the ImageNet layout is ${dataPath}/train/<class>/<image> and ${dataPath}/val/<class>/<image>`);
    }
  }
  const train = scanImageFolder(join(dataPath, 'train'));
  const val = scanImageFolder(join(dataPath, 'val'));
  const onlyTrain = train.classes.filter((c) => !val.classes.includes(c));
  const onlyVal = val.classes.filter((c) => !train.classes.includes(c));
  if (onlyTrain.length || onlyVal.length) {
    const list = (names: string[]) => names.slice(0, 5).join(', ') + (names.length > 5 ? `, … (${names.length})` : '');
    throw new Error(`train/ and val/ name different classes` +
      (onlyTrain.length ? `; only in train/: ${list(onlyTrain)}` : '') + (onlyVal.length ? `; only in val/: ${list(onlyVal)}` : ''));
  }
  return { train, val };
}
