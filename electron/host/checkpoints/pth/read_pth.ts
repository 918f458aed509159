// Reading what torch.save wrote — the zip format (PyTorch ≥ 1.6) or the legacy one — through the
// safe unpickler, as a plain JS tree with tensors as StoredTensor; and finding in that tree the
// model's state dict and the training script's metadata, the way the official fine-tuning code
// does (`--model_key model|module`, then the `module.` prefix of DataParallel).
import { readFileSync } from 'node:fs';
import { stripModulePrefix } from '../model_state';
import type { StoredTensor } from '../safetensors';
import { checkpointGlobals, StorageTable } from './allow_list';
import { fail, printable } from './errors';
import { looksLegacy, readLegacyPth } from './legacy';
import { PickledTensor, TensorAssembler } from './tensors';
import { unpickle } from './unpickler';
import { isZip, openZip } from './zip';

/** Room for broadcast and overlapping views beyond the bytes the file itself holds. */
const EXTRA_TENSOR_BYTES = 64 * 2 ** 20;

export { PthError } from './errors';

export function readPth(path: string): unknown {
  return parsePth(readFileSync(path), path);
}

/** The earliest torch.save wrote a tar archive ('ustar' at byte 257). */
function isTar(buffer: Buffer): boolean {
  return buffer.length >= 262 && buffer.toString('latin1', 257, 262) === 'ustar';
}

/** A zip, a legacy pickle or the old tar format: what torch.save has written over the years. */
export function looksLikePth(buffer: Buffer): boolean {
  return isZip(buffer) || looksLegacy(buffer) || isTar(buffer);
}

export function parsePth(buffer: Buffer, source = 'buffer'): unknown {
  const budget = buffer.length + EXTRA_TENSOR_BYTES;
  if (isZip(buffer)) return readZipPth(buffer, source, budget);
  if (isTar(buffer)) fail(source, 'the tar format of the earliest torch.save versions is not supported; re-save the checkpoint with a newer PyTorch');
  if (looksLegacy(buffer)) return readLegacyPth(buffer, source, budget);
  return fail(source, 'not a PyTorch checkpoint: neither a zip archive nor a pickle');
}

function readZipPth(buffer: Buffer, source: string, budget: number): unknown {
  const zip = openZip(buffer, source);
  // As torch's reader: every record lives in one folder, named after the first entry's.
  const first = zip.names[0] ?? fail(source, 'the zip archive is empty');
  const slash = first.indexOf('/');
  if (slash <= 0) fail(source, `not a PyTorch checkpoint: its first entry '${first}' is not inside a folder`);
  const folder = first.slice(0, slash);
  const pickle = `${folder}/data.pkl`;
  if (!zip.has(pickle)) fail(source, `not a PyTorch checkpoint: the archive has no ${pickle}`);
  const byteorder = `${folder}/byteorder`;
  if (zip.has(byteorder) && zip.read(byteorder).toString('latin1') !== 'little') fail(source, 'big-endian checkpoints are not supported');

  const assembler = new TensorAssembler(source, budget);
  const storages = new StorageTable('zip');
  const { value } = unpickle(zip.read(pickle), 0, {
    source, part: pickle, globals: checkpointGlobals(assembler),
    persistentLoad: (pid) => {
      const storage = storages.load(pid);
      const record = `${folder}/data/${storage.key}`;
      if (!storage.bytes) storage.bytes = zip.has(record) ? zip.read(record) : fail(source, `storage '${storage.key}' has no entry ${record}`);
      return storage;
    },
  });
  assembler.finish();
  return value;
}

export function isTensor(value: unknown): value is StoredTensor {
  return value instanceof PickledTensor;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !isTensor(value) && !ArrayBuffer.isView(value);
}

/**
 * Where the state dict sits: under the first of `modelKey`'s '|'-separated keys that the
 * checkpoint has (key undefined: the checkpoint is the state dict itself).
 */
export function locateStateDict(tree: unknown, modelKey = 'model|module'): { key: string | undefined; dict: Record<string, unknown> } {
  if (!isRecord(tree)) throw new Error(`the checkpoint holds ${isTensor(tree) ? 'a single tensor' : 'no dict'}, not a state dict`);
  for (const key of modelKey.split('|')) {
    const value = tree[key];
    if (Object.prototype.hasOwnProperty.call(tree, key) && isRecord(value)) return { key, dict: value };
  }
  return { key: undefined, dict: tree };
}

/** The model's tensors by name, without DataParallel's `module.` prefix. Non-tensor entries are skipped. */
export function extractStateDict(tree: unknown, modelKey = 'model|module'): Map<string, StoredTensor> {
  const { key, dict } = locateStateDict(tree, modelKey);
  const tensors = new Map<string, StoredTensor>();
  for (const [name, value] of Object.entries(dict)) if (isTensor(value)) tensors.set(name, value);
  if (tensors.size === 0) {
    const keys = Object.keys(dict).slice(0, 8).join(', ');
    throw new Error(printable(`no tensors found ${key === undefined ? `under '${modelKey}' or at the top level` : `under '${key}'`} (keys: ${keys || 'none'})`));
  }
  return stripModulePrefix(tensors);
}

export interface PthMetadata {
  epoch?: number;
  /** The training script's argparse.Namespace (or a dict) as a plain object. */
  args?: Record<string, unknown>;
}

export function pthMetadata(tree: unknown): PthMetadata {
  const metadata: PthMetadata = {};
  if (!isRecord(tree)) return metadata;
  if (typeof tree.epoch === 'number') metadata.epoch = tree.epoch;
  if (isRecord(tree.args)) metadata.args = tree.args;
  return metadata;
}
