// Torch's typed storages and the tensors that view them, as a checkpoint's pickle describes them:
// a storage is a flat run of elements of one dtype (one zip entry, or one block of a legacy file);
// a tensor is (storage, offset, size, stride), so several tensors may share a storage and a tensor
// need not be contiguous. Tensors are materialized as fresh contiguous row-major arrays, in the
// StoredTensor form of safetensors.ts: f16/bf16 decoded to Float32Array, other dtypes at their width.
// Materializing waits until every storage's bytes are known (a legacy file stores them after the
// pickle), and the bytes it may allocate in all are capped, because a tiny pickle can otherwise ask
// for the same large storage a million times, or a broadcast view of 2^40 elements.
import { bf16ToFloat32, f16ToFloat32, type SafetensorsDType, type StoredTensor, type TensorData } from '../safetensors';
import { fail } from './errors';
import { PickleCallError } from './unpickler';

/** torch's storage classes and the dtype of their elements. */
export const STORAGE_DTYPES: ReadonlyMap<string, SafetensorsDType> = new Map([
  ['torch.FloatStorage', 'F32'], ['torch.DoubleStorage', 'F64'], ['torch.HalfStorage', 'F16'], ['torch.BFloat16Storage', 'BF16'],
  ['torch.LongStorage', 'I64'], ['torch.IntStorage', 'I32'], ['torch.ShortStorage', 'I16'], ['torch.CharStorage', 'I8'],
  ['torch.ByteStorage', 'U8'], ['torch.BoolStorage', 'BOOL'],
]);

export const ITEM_SIZE: Record<SafetensorsDType, number> = {
  F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1,
};

/** Elements at their stored width (f16 and bf16 as raw bits). */
type RawElements = Float32Array | Float64Array | Uint16Array | BigInt64Array | Int32Array | Int16Array | Int8Array | Uint8Array;
type Indexable = { [index: number]: number | bigint };

/** A storage named by a persistent id; its bytes are attached once the file has been read that far. */
export class StorageRef {
  bytes: Buffer | undefined;
  private elements: RawElements | undefined;

  constructor(readonly key: string, readonly dtype: SafetensorsDType, readonly numel: number) {}

  raw(source: string): RawElements {
    if (this.elements) return this.elements;
    if (!this.bytes) fail(source, `storage '${this.key}' is used by a tensor but its data is missing`);
    const expected = this.numel * ITEM_SIZE[this.dtype];
    if (this.bytes.length !== expected) {
      fail(source, `storage '${this.key}' holds ${this.bytes.length} bytes, ${this.numel} ${this.dtype} elements need ${expected}`);
    }
    this.elements = rawElements(this.dtype, this.bytes);
    return this.elements;
  }
}

/** A tensor made by the unpickler; `instanceof` tells it from a dict that merely has the same fields. */
export class PickledTensor implements StoredTensor {
  data: TensorData = new Float32Array(0);  // filled by TensorAssembler.finish()

  constructor(readonly dtype: SafetensorsDType, readonly shape: number[]) {}
}

interface PendingView {
  tensor: PickledTensor;
  storage: StorageRef;
  offset: number;
  stride: number[];
}

/** Collects the tensors of one file and materializes them at the end, within a byte budget. */
export class TensorAssembler {
  private readonly pending: PendingView[] = [];

  constructor(private readonly source: string, private budgetBytes: number) {}

  /** Validates a view against its storage's declared size; the data comes at finish(). */
  view(storage: StorageRef, offset: number, size: number[], stride: number[]): PickledTensor {
    if (size.length !== stride.length) throw new PickleCallError(`a tensor has ${size.length} sizes but ${stride.length} strides`);
    let numel = 1;
    let last = offset;
    for (let d = 0; d < size.length; d++) {
      numel *= size[d]!;
      last += (size[d]! - 1) * stride[d]!;
    }
    if (numel > 0 && last >= storage.numel) {
      throw new PickleCallError(`a tensor of size [${size.join(',')}], stride [${stride.join(',')}] at offset ${offset} reaches element ${last} of storage '${storage.key}', which has ${storage.numel}`);
    }
    const bytes = numel * (storage.dtype === 'F16' || storage.dtype === 'BF16' ? 4 : ITEM_SIZE[storage.dtype]);
    if (bytes > this.budgetBytes) {
      throw new PickleCallError(`the tensors would need more memory than the file can justify (a view of ${numel} elements of storage '${storage.key}')`);
    }
    this.budgetBytes -= bytes;
    const tensor = new PickledTensor(storage.dtype, [...size]);
    this.pending.push({ tensor, storage, offset, stride: [...stride] });
    return tensor;
  }

  finish(): void {
    for (const { tensor, storage, offset, stride } of this.pending) {
      const elements = gather(storage.raw(this.source), offset, tensor.shape, stride);
      tensor.data = decode(tensor.dtype, elements);
    }
    this.pending.length = 0;
  }
}

function rawElements(dtype: SafetensorsDType, bytes: Buffer): RawElements {
  // Typed arrays need aligned offsets; the zip entry may start anywhere.
  const aligned = bytes.byteOffset % ITEM_SIZE[dtype] === 0 ? bytes : new Uint8Array(bytes);
  const { buffer, byteOffset } = aligned;
  const count = bytes.length / ITEM_SIZE[dtype];
  switch (dtype) {
    case 'F32': return new Float32Array(buffer, byteOffset, count);
    case 'F64': return new Float64Array(buffer, byteOffset, count);
    case 'F16': case 'BF16': return new Uint16Array(buffer, byteOffset, count);
    case 'I64': return new BigInt64Array(buffer, byteOffset, count);
    case 'I32': return new Int32Array(buffer, byteOffset, count);
    case 'I16': return new Int16Array(buffer, byteOffset, count);
    case 'I8': return new Int8Array(buffer, byteOffset, count);
    case 'U8': case 'BOOL': return new Uint8Array(buffer, byteOffset, count);
  }
}

/** The view as a fresh contiguous array (never aliasing the file's buffer). */
function gather(raw: RawElements, offset: number, size: number[], stride: number[]): RawElements {
  const numel = size.reduce((a, b) => a * b, 1);
  let expected = 1;
  let contiguous = true;
  for (let d = size.length - 1; d >= 0; d--) {
    if (size[d]! !== 1 && stride[d]! !== expected) contiguous = false;
    expected *= size[d]!;
  }
  if (contiguous) return raw.slice(offset, offset + numel);

  const out = new (raw.constructor as new (n: number) => RawElements)(numel);
  const from = raw as unknown as Indexable;
  const to = out as unknown as Indexable;
  const rank = size.length;
  const inner = size[rank - 1]!;
  const innerStride = stride[rank - 1]!;
  const index = new Array<number>(rank).fill(0);
  let base = offset;
  for (let o = 0; o < numel; o += inner) {
    for (let j = 0; j < inner; j++) to[o + j] = from[base + j * innerStride]!;
    for (let d = rank - 2; d >= 0; d--) {  // odometer over the outer dimensions
      base += stride[d]!;
      if (++index[d]! < size[d]!) break;
      base -= stride[d]! * size[d]!;
      index[d] = 0;
    }
  }
  return out;
}

function decode(dtype: SafetensorsDType, elements: RawElements): TensorData {
  if (dtype === 'BF16') return bf16ToFloat32(elements as Uint16Array);
  if (dtype === 'F16') return f16ToFloat32(elements as Uint16Array);
  return elements as TensorData;
}
