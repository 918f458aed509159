// A cache of ImageFolder scans, so the 1.28M-image ImageNet train split is listed once rather than
// on every run. One JSON file per split folder under the user's cache directory (the data folder
// may be read-only), keyed by the folder's absolute path. An entry is valid while the modification
// times of the split folder and of every class folder are unchanged: adding, removing or renaming a
// file or a class changes the time of the folder that holds it. It caches names only, never pixels,
// and never decides what is an image (image_folder.ts does).
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { writeFileAtomic } from '../checkpoints/safetensors';

const FORMAT = 'pix-image-folder-index/1';

/**
 * A folder changed within this many nanoseconds of the scan may change again within the file
 * system's timestamp granularity without its time moving (git's "racy clean" problem): such a scan
 * is not cached, and the next run writes the entry.
 */
const RACY_NS = 2_000_000_000n;

/** What a scan found: the class folder names (sorted) and each class's image file names (sorted). */
export interface FolderIndex {
  classes: string[];
  files: string[][];
}

/** Modification times (ns, decimal) of the split folder and of each class folder, taken before reading them. */
export interface FolderStamps {
  split: string;
  classes: string[];
}

interface CacheFile extends FolderIndex {
  format: string;
  root: string;
  stamps: FolderStamps;
}

/** $XDG_CACHE_HOME/pix-workbench, else ~/.cache/pix-workbench. */
export function cacheDir(): string {
  const xdg = process.env.XDG_CACHE_HOME;
  return join(xdg && xdg.startsWith('/') ? xdg : join(homedir(), '.cache'), 'pix-workbench');
}

export function indexCachePath(root: string): string {
  const key = createHash('sha256').update(resolve(root)).digest('hex').slice(0, 24);
  return join(cacheDir(), 'image-folder-index', `${key}.json`);
}

/** A folder's modification time in nanoseconds. Throws when it cannot be read. */
export function folderStamp(path: string): string {
  return statSync(path, { bigint: true }).mtimeNs.toString();
}

function stampOrNull(path: string): string | null {
  try {
    return folderStamp(path);
  } catch {
    return null;
  }
}

function isCacheFile(value: unknown, root: string): value is CacheFile {
  const v = value as CacheFile;
  return typeof v === 'object' && v !== null && v.format === FORMAT && v.root === root &&
    Array.isArray(v.classes) && Array.isArray(v.files) && v.files.length === v.classes.length &&
    typeof v.stamps?.split === 'string' && Array.isArray(v.stamps.classes) && v.stamps.classes.length === v.classes.length;
}

/** The cached index of `root` when it is still valid; undefined when absent, stale or unreadable. */
export function readCachedIndex(root: string): FolderIndex | undefined {
  const absolute = resolve(root);
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(indexCachePath(absolute), 'utf8'));
  } catch {
    return undefined;  // absent or corrupt: the caller scans and rewrites it
  }
  if (!isCacheFile(parsed, absolute)) return undefined;
  if (stampOrNull(absolute) !== parsed.stamps.split) return undefined;
  for (let c = 0; c < parsed.classes.length; c++) {
    if (stampOrNull(join(absolute, parsed.classes[c]!)) !== parsed.stamps.classes[c]) return undefined;
  }
  return { classes: parsed.classes, files: parsed.files };
}

/**
 * Stores a scan atomically (a reader never sees half a file). Skipped, silently, when a folder
 * changed too recently to trust its time, or when the cache directory cannot be written: the cache
 * only saves time, so failing to write it must never fail a scan.
 */
export function writeCachedIndex(root: string, index: FolderIndex, stamps: FolderStamps): boolean {
  const absolute = resolve(root);
  const racyAfter = BigInt(Date.now()) * 1_000_000n - RACY_NS;
  if ([stamps.split, ...stamps.classes].some((s) => BigInt(s) > racyAfter)) return false;
  const file: CacheFile = { format: FORMAT, root: absolute, stamps, ...index };
  const path = indexCachePath(absolute);
  try {
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileAtomic(path, Buffer.from(JSON.stringify(file)));
    return true;
  } catch {
    return false;
  }
}
