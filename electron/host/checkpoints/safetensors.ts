// The safetensors format (https://github.com/huggingface/safetensors): an 8-byte little-endian
// header length, a JSON header mapping names to {dtype, shape, data_offsets} (plus an optional
// string map `__metadata__`), then the raw little-endian bytes. Reading validates everything
// against the file before touching data, so a damaged or hostile file yields an Error that names
// the problem and never a giant allocation. Writing is atomic: a temporary file, fsync, rename.
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';

export type SafetensorsDType = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

const ITEM_SIZE: Record<SafetensorsDType, number> = {
  F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1,
};

/** The largest header accepted (the reference implementation's limit is 100 MB too). */
const MAX_HEADER_BYTES = 100_000_000;

export type TensorData = Float32Array | Float64Array | BigInt64Array | Int32Array | Int16Array | Int8Array | Uint8Array;

/**
 * A tensor read from a file. F16 and BF16 are decoded to Float32Array (dtype keeps the stored type);
 * the other types keep their width.
 */
export interface StoredTensor {
  dtype: SafetensorsDType;
  shape: number[];
  data: TensorData;
}

export interface SafetensorsFile {
  tensors: Map<string, StoredTensor>;
  metadata: Record<string, string>;
}

export class SafetensorsError extends Error {}

function fail(source: string, problem: string): never {
  throw new SafetensorsError(`${source}: not a valid safetensors file: ${problem}`);
}

function isDType(value: unknown): value is SafetensorsDType {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(ITEM_SIZE, value);
}

export function readSafetensors(path: string): SafetensorsFile {
  return parseSafetensors(readFileSync(path), path);
}

export function parseSafetensors(buffer: Buffer, source = 'buffer'): SafetensorsFile {
  if (buffer.length < 8) fail(source, `the file is ${buffer.length} bytes, shorter than the 8-byte header length`);
  const headerLength = buffer.readBigUInt64LE(0);
  if (headerLength > BigInt(MAX_HEADER_BYTES)) fail(source, `the header length ${headerLength} exceeds ${MAX_HEADER_BYTES} bytes`);
  const headerEnd = 8 + Number(headerLength);
  if (headerEnd > buffer.length) fail(source, `the header length ${headerLength} runs past the end of the ${buffer.length}-byte file`);

  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(buffer.subarray(8, headerEnd)));
  } catch (error) {
    fail(source, `the header is not UTF-8 JSON (${(error as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) fail(source, 'the header is not a JSON object');

  const dataLength = buffer.length - headerEnd;
  const metadata: Record<string, string> = {};
  const entries: { name: string; dtype: SafetensorsDType; shape: number[]; begin: number; end: number }[] = [];
  for (const [name, value] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(source, '__metadata__ is not an object');
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        if (typeof v !== 'string') fail(source, `metadata '${k}' is not a string`);
        metadata[k] = v;
      }
      continue;
    }
    entries.push({ name, ...checkEntry(source, name, value, dataLength) });
  }

  // Tensors must tile the data section exactly: no overlap, no gap, nothing trailing.
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  for (const e of entries) {
    if (e.begin < cursor) fail(source, `tensor '${e.name}' overlaps the tensor before it (bytes ${e.begin}..${e.end})`);
    if (e.begin > cursor) fail(source, `bytes ${cursor}..${e.begin} of the data belong to no tensor`);
    cursor = e.end;
  }
  if (cursor !== dataLength) fail(source, `the data section is ${dataLength} bytes but the tensors cover ${cursor}`);

  const tensors = new Map<string, StoredTensor>();
  for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const bytes = buffer.subarray(headerEnd + e.begin, headerEnd + e.end);
    tensors.set(e.name, { dtype: e.dtype, shape: e.shape, data: decode(e.dtype, bytes) });
  }
  return { tensors, metadata };
}

function checkEntry(source: string, name: string, value: unknown, dataLength: number) {
  if (typeof value !== 'object' || value === null) fail(source, `tensor '${name}' is not an object`);
  const { dtype, shape, data_offsets: offsets } = value as Record<string, unknown>;
  if (!isDType(dtype)) fail(source, `tensor '${name}' has unknown dtype ${JSON.stringify(dtype)}`);
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    fail(source, `tensor '${name}' has an invalid shape ${JSON.stringify(shape)}`);
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)) {
    fail(source, `tensor '${name}' has invalid data_offsets ${JSON.stringify(offsets)}`);
  }
  const [begin, end] = offsets as [number, number];
  if (begin > end) fail(source, `tensor '${name}' has reversed data_offsets [${begin}, ${end}]`);
  if (end > dataLength) fail(source, `tensor '${name}' ends at byte ${end}, past the ${dataLength}-byte data section`);
  // Overflow-safe: the element count is checked against the bytes actually present.
  let numel = 1;
  for (const d of shape as number[]) {
    numel *= d;
    if (numel * ITEM_SIZE[dtype] > dataLength) fail(source, `tensor '${name}' of shape [${shape.join(',')}] is larger than the file`);
  }
  if (numel * ITEM_SIZE[dtype] !== end - begin) {
    fail(source, `tensor '${name}' of shape [${shape.join(',')}] ${dtype} needs ${numel * ITEM_SIZE[dtype]} bytes, its offsets span ${end - begin}`);
  }
  return { dtype, shape: shape as number[], begin, end };
}

/** Copies bytes into a fresh, aligned typed array of the dtype (the file's offsets need not be aligned). */
function decode(dtype: SafetensorsDType, bytes: Buffer): TensorData {
  const copy = new Uint8Array(bytes.length);
  copy.set(bytes);
  const buffer = copy.buffer;
  switch (dtype) {
    case 'F64': return new Float64Array(buffer);
    case 'F32': return new Float32Array(buffer);
    case 'I64': return new BigInt64Array(buffer);
    case 'I32': return new Int32Array(buffer);
    case 'I16': return new Int16Array(buffer);
    case 'I8': return new Int8Array(buffer);
    case 'U8': case 'BOOL': return copy;
    case 'BF16': return bf16ToFloat32(new Uint16Array(buffer));
    case 'F16': return f16ToFloat32(new Uint16Array(buffer));
  }
}

export function bf16ToFloat32(bits: Uint16Array): Float32Array {
  const words = new Uint32Array(bits.length);
  for (let i = 0; i < bits.length; i++) words[i] = bits[i]! << 16;
  return new Float32Array(words.buffer);
}

/** Rounds to nearest even, like PyTorch; NaN stays NaN. */
export function float32ToBf16(values: Float32Array): Uint16Array {
  const words = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const w = words[i]!;
    if ((w & 0x7fffffff) > 0x7f800000) out[i] = (w >>> 16) | 0x40;
    else out[i] = ((w + 0x7fff + ((w >>> 16) & 1)) >>> 16) & 0xffff;
  }
  return out;
}

function f16ToFloat32(bits: Uint16Array): Float32Array {
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) {
    const h = bits[i]!;
    const sign = h & 0x8000 ? -1 : 1;
    const exponent = (h >> 10) & 0x1f;
    const fraction = h & 0x3ff;
    if (exponent === 0) out[i] = sign * fraction * 2 ** -24;
    else if (exponent === 31) out[i] = fraction ? NaN : sign * Infinity;
    else out[i] = sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
  }
  return out;
}

/** A tensor to write: data in the dtype's width (BF16 as its raw Uint16Array bits). */
export interface TensorToWrite {
  dtype: SafetensorsDType;
  shape: number[];
  data: TensorData | Uint16Array;
}

export function serializeSafetensors(tensors: Map<string, TensorToWrite>, metadata?: Record<string, string>): Buffer {
  const names = [...tensors.keys()].sort();
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length) header.__metadata__ = metadata;
  let offset = 0;
  for (const name of names) {
    const t = tensors.get(name)!;
    const expected = t.shape.reduce((a, b) => a * b, 1) * ITEM_SIZE[t.dtype];
    if (t.data.byteLength !== expected) {
      throw new Error(`tensor '${name}': shape [${t.shape.join(',')}] ${t.dtype} needs ${expected} bytes, data has ${t.data.byteLength}`);
    }
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + expected] };
    offset += expected;
  }
  // Pad the header with spaces so the data starts 8-byte aligned, as the reference writer does.
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8);
  const headerBytes = Buffer.from(json, 'utf8');
  const out = Buffer.alloc(8 + headerBytes.length + offset);
  out.writeBigUInt64LE(BigInt(headerBytes.length), 0);
  headerBytes.copy(out, 8);
  let cursor = 8 + headerBytes.length;
  for (const name of names) {
    const data = tensors.get(name)!.data;
    out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), cursor);
    cursor += data.byteLength;
  }
  return out;
}

/** Writes atomically: a reader sees the old file or the complete new one, never a partial file. */
export function writeSafetensors(path: string, tensors: Map<string, TensorToWrite>, metadata?: Record<string, string>): void {
  writeFileAtomic(path, serializeSafetensors(tensors, metadata));
}

export function writeFileAtomic(path: string, bytes: Uint8Array): void {
  const temporary = join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    const fd = openSync(temporary, 'w');
    try {
      for (let written = 0; written < bytes.length;) written += writeSync(fd, bytes, written);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
  try {
    const dir = openSync(dirname(path), 'r');
    try {
      fsyncSync(dir);  // make the rename itself durable
    } finally {
      closeSync(dir);
    }
  } catch {
    // Some filesystems refuse fsync on directories; the file itself is already complete.
  }
}
