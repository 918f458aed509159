// Everything a checkpoint's pickle may name, and what each name does here. This is the security
// boundary of the .pth reader: the unpickler refuses any other global, and none of these runs
// code; each builds plain data. The list is what torch.save writes for state dicts and for the
// official training checkpoints {model, optimizer, epoch, scaler, args, model_ema}: ordered dicts,
// tensors and parameters over typed storages, and the script's argparse.Namespace (read as a plain
// object). Persistent ids may only name storages.
import type { SafetensorsDType } from '../safetensors';
import { PickledTensor, STORAGE_DTYPES, StorageRef, type TensorAssembler } from './tensors';
import { describe, isDict, newDict, PickleCallError, PickleGlobal, setKey } from './unpickler';

/** Keys all argparse.Namespace objects of one file may copy, against pickles that rebuild one huge Namespace over and over. */
const MAX_NAMESPACE_KEYS = 1_000_000;

export function checkpointGlobals(assembler: TensorAssembler): Map<string, PickleGlobal> {
  const globals = new Map<string, PickleGlobal>();
  const add = (name: string, behaviour: PickleGlobal['behaviour']) => globals.set(name, new PickleGlobal(name, behaviour));
  let namespaceKeys = 0;

  // OrderedDict pickles as OrderedDict() then SETITEMS; a BUILD after it sets instance attributes
  // such as state_dict's `_metadata` (module versions), which are not items and are dropped.
  add('collections.OrderedDict', {
    call: (args) => {
      if (args.length) throw new PickleCallError('collections.OrderedDict is called with arguments; torch.save never does that');
      return newDict();
    },
    build: () => {},
  });
  // argparse.Namespace pickles as NEWOBJ(Namespace, ()) then BUILD with its __dict__.
  add('argparse.Namespace', {
    call: (args) => {
      if (args.length) throw new PickleCallError('argparse.Namespace is called with arguments');
      return {};
    },
    build: (instance, state) => {
      if (!isDict(state)) throw new PickleCallError(`argparse.Namespace is built from ${describe(state)}, not a dict`);
      const entries = Object.entries(state);
      namespaceKeys += entries.length;
      if (namespaceKeys > MAX_NAMESPACE_KEYS) throw new PickleCallError(`argparse.Namespace objects copy more than ${MAX_NAMESPACE_KEYS} keys`);
      for (const [key, value] of entries) setKey(instance as Record<string, unknown>, key, value);
    },
  });
  add('torch._utils._rebuild_tensor_v2', { call: (args) => rebuildTensor(assembler, args) });
  // A Parameter is its tensor plus requires_grad and hooks, which mean nothing outside autograd.
  add('torch._utils._rebuild_parameter', {
    call: (args) => {
      if (args.length !== 3 || !(args[0] instanceof PickledTensor)) throw new PickleCallError('torch._utils._rebuild_parameter expects (tensor, requires_grad, hooks)');
      return args[0];
    },
  });
  // Storage classes are never called: they only name the dtype in a persistent id.
  for (const name of STORAGE_DTYPES.keys()) add(name, {});
  return globals;
}

/** _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata]) */
function rebuildTensor(assembler: TensorAssembler, args: unknown[]): PickledTensor {
  const [storage, offset, size, stride] = args;
  if (args.length < 6 || args.length > 7 || !(storage instanceof StorageRef)) {
    throw new PickleCallError('torch._utils._rebuild_tensor_v2 expects (storage, offset, size, stride, requires_grad, hooks)');
  }
  return assembler.view(storage, count(offset, 'storage offset'), counts(size, 'size'), counts(stride, 'stride'));
}

function count(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw new PickleCallError(`a tensor's ${what} is ${String(value)}`);
  return value;
}

function counts(value: unknown, what: string): number[] {
  if (!Array.isArray(value)) throw new PickleCallError(`a tensor's ${what} is ${describe(value)}, not a tuple`);
  return value.map((v) => count(v, what));
}

/**
 * The storages a pickle names through persistent ids: ('storage', storage class, key, location,
 * element count) in the zip format, plus a view description (always None since PyTorch 1.0) in the
 * legacy format. Every id with the same key gets the same StorageRef: that is how tensors share.
 */
export class StorageTable {
  readonly byKey = new Map<string, StorageRef>();

  constructor(private readonly format: 'zip' | 'legacy') {}

  load(pid: unknown): StorageRef {
    if (!Array.isArray(pid) || pid[0] !== 'storage') {
      const kind = Array.isArray(pid) && typeof pid[0] === 'string' ? `'${pid[0].slice(0, 40)}'` : describe(pid);
      throw new PickleCallError(`refusing persistent id ${kind}: only storages may be referenced`);
    }
    const [, type, key, location, numel, view] = pid;
    const length = this.format === 'zip' ? 5 : 6;
    const dtype: SafetensorsDType | undefined = type instanceof PickleGlobal ? STORAGE_DTYPES.get(type.name) : undefined;
    if (pid.length !== length || !dtype || typeof key !== 'string' || typeof location !== 'string') {
      throw new PickleCallError(`a storage id is not ('storage', storage class, key, location, size${this.format === 'legacy' ? ', view' : ''})`);
    }
    if (this.format === 'legacy' && view !== null) throw new PickleCallError('storage views of pre-1.0 legacy files are not supported');
    const elements = count(numel, 'storage size');
    const known = this.byKey.get(key);
    if (known) {
      if (known.dtype !== dtype || known.numel !== elements) throw new PickleCallError(`storage '${key}' is described two different ways`);
      return known;
    }
    const ref = new StorageRef(key, dtype, elements);
    this.byKey.set(key, ref);
    return ref;
  }
}
