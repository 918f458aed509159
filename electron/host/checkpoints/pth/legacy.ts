// The legacy format of torch.save (_use_new_zipfile_serialization=False, the default before
// PyTorch 1.6): five pickles back to back — a magic number, the protocol version 1001, a system-info
// dict, the object itself, the sorted list of storage keys — then, for each key in that order, an
// int64 element count and the storage's raw little-endian bytes. (The tar format of the earliest
// versions is refused in read_pth.ts.)
import { checkpointGlobals, StorageTable } from './allow_list';
import { fail } from './errors';
import { ITEM_SIZE, TensorAssembler } from './tensors';
import { isDict, PickleCallError, type PickleGlobal, unpickle } from './unpickler';

const MAGIC = 0x1950a86a20f9469cfc6cn;
const PROTOCOL_VERSION = 1001;

/** A legacy file starts with a pickle (PROTO 2) whose value is the magic number. */
export function looksLegacy(buffer: Buffer): boolean {
  return buffer.length >= 2 && buffer[0] === 0x80;
}

export function readLegacyPth(buffer: Buffer, source: string, memoryBudget: number): unknown {
  let at = 0;
  const refuse = (): never => { throw new PickleCallError('a persistent id outside the checkpoint object'); };
  const next = (part: string, globals: ReadonlyMap<string, PickleGlobal> = new Map(), persistentLoad: (pid: unknown) => unknown = refuse) => {
    const { value, end } = unpickle(buffer, at, { source, part, globals, persistentLoad });
    at = end;
    return value;
  };
  if (next('magic number') !== MAGIC) fail(source, 'not a PyTorch checkpoint: neither a zip archive nor the legacy format');
  const version = next('protocol version');
  if (version !== PROTOCOL_VERSION) fail(source, `legacy checkpoint protocol ${String(version)} is not ${PROTOCOL_VERSION}`);
  const info = next('system info');
  if (!isDict(info) || info.little_endian !== true) fail(source, 'the legacy checkpoint was not written on a little-endian machine');

  const assembler = new TensorAssembler(source, memoryBudget);
  const storages = new StorageTable('legacy');
  const value = next('checkpoint object', checkpointGlobals(assembler), (pid) => storages.load(pid));
  const keys = next('storage keys');
  if (!Array.isArray(keys)) fail(source, 'the legacy checkpoint has no list of storage keys');

  for (const key of keys) {
    const storage = typeof key === 'string' ? storages.byKey.get(key) : undefined;
    if (!storage) fail(source, `the legacy checkpoint lists storage ${String(key)} that no tensor uses`);
    if (at + 8 > buffer.length) fail(source, `the legacy checkpoint is truncated before storage '${key}'`);
    const count = buffer.readBigInt64LE(at);
    if (count !== BigInt(storage.numel)) fail(source, `storage '${key}' has ${count} elements in the data, ${storage.numel} in the pickle`);
    const size = storage.numel * ITEM_SIZE[storage.dtype];
    if (at + 8 + size > buffer.length) fail(source, `the legacy checkpoint is truncated inside storage '${key}'`);
    storage.bytes = buffer.subarray(at + 8, at + 8 + size);
    at += 8 + size;
  }
  assembler.finish();
  return value;
}
