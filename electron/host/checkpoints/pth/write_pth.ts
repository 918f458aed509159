// Writes a state dict as torch.save does (zip layout: archive/data.pkl, archive/byteorder,
// archive/data/<n>, archive/version), loadable by torch.load(path, weights_only=True) from
// PyTorch 1.13 on. So the pickle uses only what 1.13's weights-only unpickler accepts: protocol 2,
// OrderedDict, _rebuild_tensor_v2, typed storages, ints, booleans and strings. That unpickler has no
// BINFLOAT, which is why training arguments (full of floats) are not written; the epoch is, and so
// are boolean arguments that inference needs (--imagenet_default_mean_and_std), as a plain dict
// under `args`. With either the file takes the official layout {model, epoch, args}, else it is the
// bare state dict.
import { float32ToBf16, float32ToF16, writeFileAtomic, type SafetensorsDType, type StoredTensor } from '../safetensors';
import { ITEM_SIZE, STORAGE_DTYPES } from './tensors';
import { buildZip, type ZipInput } from './zip_write';

export interface PthWriteOptions {
  epoch?: number;
  /** Boolean training arguments, written as the dict `args` (the official checkpoint's argparse.Namespace holds them). */
  args?: Record<string, boolean>;
}

const FOLDER = 'archive';
const STORAGE_CLASS = new Map<SafetensorsDType, string>([...STORAGE_DTYPES].map(([name, dtype]) => [dtype, name.slice('torch.'.length)]));

export function writePth(path: string, tensors: Map<string, StoredTensor>, options: PthWriteOptions = {}): void {
  writeFileAtomic(path, serializePth(tensors, options));
}

export function serializePth(tensors: Map<string, StoredTensor>, options: PthWriteOptions = {}): Buffer {
  const pickle = new PickleWriter();
  const records: ZipInput[] = [];
  pickle.op(0x80, 2);  // PROTO 2
  const args = options.args && Object.keys(options.args).length ? options.args : undefined;
  const wrapped = options.epoch !== undefined || args !== undefined;
  if (wrapped) {
    pickle.op(0x7d, 0x28);  // EMPTY_DICT, MARK
    pickle.string('model');
  }
  pickle.global('collections', 'OrderedDict');
  pickle.op(0x29, 0x52, 0x28);  // EMPTY_TUPLE, REDUCE, MARK
  for (const [name, tensor] of tensors) {
    const { dtype, shape } = tensor;
    const data = rawBytes(tensor);
    const numel = shape.reduce((a, b) => a * b, 1);
    if (data.length !== numel * ITEM_SIZE[dtype]) throw new Error(`tensor '${name}': shape [${shape.join(',')}] ${dtype} does not match its ${data.length} bytes`);
    const key = String(records.length);
    records.push({ name: `${FOLDER}/data/${key}`, data });
    const stride = shape.map((_, d) => shape.slice(d + 1).reduce((a, b) => a * b, 1));
    pickle.string(name);
    pickle.global('torch._utils', '_rebuild_tensor_v2');
    pickle.op(0x28, 0x28);  // MARK (arguments), MARK (persistent id)
    pickle.string('storage');
    pickle.global('torch', STORAGE_CLASS.get(dtype)!);
    pickle.string(key);
    pickle.string('cpu');
    pickle.int(numel);
    pickle.op(0x74, 0x51);  // TUPLE, BINPERSID
    pickle.int(0);  // storage offset
    pickle.tuple(shape);
    pickle.tuple(stride);
    pickle.op(0x89);  // NEWFALSE: requires_grad
    pickle.global('collections', 'OrderedDict');
    pickle.op(0x29, 0x52, 0x74, 0x52);  // EMPTY_TUPLE, REDUCE (no hooks), TUPLE, REDUCE
  }
  pickle.op(0x75);  // SETITEMS
  if (wrapped) {
    if (options.epoch !== undefined) {
      pickle.string('epoch');
      pickle.int(options.epoch);
    }
    if (args) {
      pickle.string('args');
      pickle.op(0x7d, 0x28);  // EMPTY_DICT, MARK
      for (const [name, value] of Object.entries(args)) {
        pickle.string(name);
        pickle.op(value ? 0x88 : 0x89);  // NEWTRUE, NEWFALSE
      }
      pickle.op(0x75);  // SETITEMS
    }
    pickle.op(0x75);
  }
  pickle.op(0x2e);  // STOP
  return buildZip([
    { name: `${FOLDER}/data.pkl`, data: pickle.bytes() },
    { name: `${FOLDER}/byteorder`, data: Buffer.from('little') },
    ...records,
    { name: `${FOLDER}/version`, data: Buffer.from('3\n') },
  ]);
}

/** The stored bytes: f16 and bf16 re-encoded from the Float32Array a StoredTensor holds them in. */
function rawBytes({ dtype, data }: StoredTensor): Uint8Array {
  const raw = dtype === 'F16' ? float32ToF16(data as Float32Array) : dtype === 'BF16' ? float32ToBf16(data as Float32Array) : data;
  return new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength);
}

/** The few pickle opcodes the writer needs; globals are memoized as torch's pickler does. */
class PickleWriter {
  private readonly parts: Buffer[] = [];
  private readonly memo = new Map<string, number>();

  op(...codes: number[]): void {
    this.parts.push(Buffer.from(codes));
  }

  string(value: string): void {
    const bytes = Buffer.from(value, 'utf8');
    const header = Buffer.alloc(5);
    header[0] = 0x58;  // BINUNICODE
    header.writeUInt32LE(bytes.length, 1);
    this.parts.push(header, bytes);
  }

  int(value: number): void {
    if (!Number.isSafeInteger(value)) throw new Error(`cannot pickle ${value} as an int`);
    if (value >= 0 && value < 0x100) this.op(0x4b, value);  // BININT1
    else if (value >= 0 && value < 0x10000) this.op(0x4d, value & 0xff, value >> 8);  // BININT2
    else if (value >= -(2 ** 31) && value < 2 ** 31) {
      const bytes = Buffer.alloc(5);
      bytes[0] = 0x4a;  // BININT
      bytes.writeInt32LE(value, 1);
      this.parts.push(bytes);
    } else {
      const bytes = Buffer.alloc(10);
      bytes[0] = 0x8a;  // LONG1, 8 bytes two's complement
      bytes[1] = 8;
      bytes.writeBigInt64LE(BigInt(value), 2);
      this.parts.push(bytes);
    }
  }

  tuple(values: number[]): void {
    if (values.length > 3) this.op(0x28);  // MARK
    for (const v of values) this.int(v);
    this.op(values.length <= 3 ? [0x29, 0x85, 0x86, 0x87][values.length]! : 0x74);  // EMPTY_TUPLE, TUPLE1-3, TUPLE
  }

  global(module: string, name: string): void {
    const key = `${module}\n${name}\n`;
    const index = this.memo.get(key);
    if (index !== undefined) {
      this.op(0x68, index);  // BINGET
      return;
    }
    this.parts.push(Buffer.from(`c${key}`, 'utf8'));  // GLOBAL
    if (this.memo.size < 0x100) {
      this.op(0x71, this.memo.size);  // BINPUT
      this.memo.set(key, this.memo.size);
    }
  }

  bytes(): Buffer {
    return Buffer.concat(this.parts);
  }
}
