// The safetensors format (https://github.com/huggingface/safetensors): an 8-byte little-endian
// header length N, N bytes of UTF-8 JSON mapping each tensor name to {dtype, shape, data_offsets}
// (plus an optional string map `__metadata__`), then the tensors' raw little-endian bytes.
//
// Reading applies the reference (Rust) reader's rules: a header of at most 100,000,000 bytes, and
// tensors that, sorted by offset, tile the data section exactly — no overlap, no gap, nothing
// trailing. Every size is checked against the bytes present before anything is allocated, so a
// damaged or hostile file yields a SafetensorsError naming the file and the problem, never a giant
// allocation. Writing lays out the bytes as the reference writer does and replaces the target
// atomically. Plain Node: no electron and no engine (model_state.ts makes engine tensors).
import { randomBytes } from 'node:crypto';
import { closeSync, fstatSync, fsyncSync, openSync, readFileSync, readSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

export type SafetensorsDType = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

/** What a tensor read from a file holds: F16 and BF16 decoded to Float32Array, other dtypes at their width. */
export type TensorData = Float32Array | Float64Array | BigInt64Array | Int32Array | Int16Array | Int8Array | Uint8Array;

type StorageArray = TensorData | Uint16Array;

interface StorageConstructor {
  new (buffer: ArrayBufferLike, byteOffset?: number, length?: number): StorageArray;
  readonly BYTES_PER_ELEMENT: number;
  readonly name: string;
}

/** The array that holds each dtype's stored elements (F16 and BF16 as raw 16-bit words); it also gives the element size. */
const STORAGE: Record<SafetensorsDType, StorageConstructor> = {
  F64: Float64Array, F32: Float32Array, F16: Uint16Array, BF16: Uint16Array, I64: BigInt64Array,
  I32: Int32Array, I16: Int16Array, I8: Int8Array, U8: Uint8Array, BOOL: Uint8Array,
};

/**
 * The reference writer's data order: widest dtype first (its Dtype enum, descending), then by name.
 * Each tensor then starts at a multiple of its element size, so readers can view it in place.
 */
const WRITE_RANK: Record<SafetensorsDType, number> = {
  I64: 0, F64: 1, F32: 2, I32: 3, BF16: 4, F16: 5, I16: 6, I8: 7, U8: 8, BOOL: 9,
};

/** The reference reader's limit, so that a corrupt length field cannot make us decode gigabytes of "JSON". */
const MAX_HEADER_BYTES = 100_000_000;

export interface StoredTensor {
  dtype: SafetensorsDType;
  shape: number[];
  data: TensorData;
}

export interface SafetensorsFile {
  /** Sorted by name. */
  tensors: Map<string, StoredTensor>;
  metadata: Record<string, string>;
}

export class SafetensorsError extends Error {
  constructor(source: string, problem: string) {
    super(`${source}: not a valid safetensors file: ${problem}`);
    this.name = 'SafetensorsError';
  }
}

function fail(source: string, problem: string): never {
  throw new SafetensorsError(source, problem);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isCount(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}

function isDType(value: unknown): value is SafetensorsDType {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(STORAGE, value);
}

/** A JSON value for an error message, cut short: names and shapes in a hostile header can be megabytes long. */
function show(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

// ---------------------------------------------------------------------------------------------
// Reading

export function readSafetensors(path: string): SafetensorsFile {
  return parseSafetensors(readFileSync(path), path);
}

/**
 * The `__metadata__` of a file, reading its header only: a listing of checkpoints wants each one's
 * epoch, not its tensors. The header is checked as readSafetensors checks it; the tensors are not.
 */
export function readSafetensorsMetadata(path: string): Record<string, string> {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const prefix = Buffer.alloc(8);
    const got = readSync(fd, prefix, 0, 8, 0);
    // Lengths are checked by readHeader; only what the file holds (at most the limit) is read.
    const length = got < 8 ? 0 : Math.min(Number(prefix.readBigUInt64LE(0)), MAX_HEADER_BYTES + 1, size - 8);
    const bytes = Buffer.alloc(got + length);
    prefix.copy(bytes, 0, 0, got);
    if (length > 0) readSync(fd, bytes, 8, length, 8);
    const { header } = readHeader(bytes, path);
    return header.__metadata__ === undefined ? {} : readMetadata(header.__metadata__, path);
  } finally {
    closeSync(fd);
  }
}

/**
 * Parses a whole file held in memory; `source` names it in errors. A tensor's data views `bytes`
 * (no copy: it shares and keeps alive that memory) where its offset suits the element size, and is
 * an aligned copy where not; F16 and BF16 are decoded into new Float32Arrays.
 */
export function parseSafetensors(bytes: Uint8Array, source: string): SafetensorsFile {
  const { header, dataStart } = readHeader(bytes, source);
  const dataLength = bytes.length - dataStart;
  let metadata: Record<string, string> = {};
  const entries: Entry[] = [];
  for (const [name, value] of Object.entries(header)) {
    if (name === '__metadata__') metadata = readMetadata(value, source);
    else entries.push(readEntry(name, value, dataLength, source));
  }
  checkTiling(entries, dataLength, source);

  const tensors = new Map<string, StoredTensor>();
  for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const data = tensorData(e.dtype, bytes.subarray(dataStart + e.begin, dataStart + e.end));
    tensors.set(e.name, { dtype: e.dtype, shape: e.shape, data });
  }
  return { tensors, metadata };
}

// ignoreBOM keeps a byte-order mark in the text, where JSON.parse rejects it as the reference reader does.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function readHeader(bytes: Uint8Array, source: string): { header: Record<string, unknown>; dataStart: number } {
  if (bytes.length < 8) fail(source, `it is ${bytes.length} bytes long, too short for the 8-byte header length`);
  const length = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (length > BigInt(MAX_HEADER_BYTES)) fail(source, `the header length ${length} is over the limit of ${MAX_HEADER_BYTES} bytes`);
  const dataStart = 8 + Number(length);
  if (dataStart > bytes.length) fail(source, `the header length ${length} runs past the end of the ${bytes.length}-byte file`);

  let text: string;
  try {
    text = utf8.decode(bytes.subarray(8, dataStart));
  } catch {
    fail(source, 'the header is not valid UTF-8');
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (error) {
    fail(source, `the header is not valid JSON (${(error as Error).message})`);
  }
  if (!isObject(header)) fail(source, `the header is not a JSON object but ${show(header)}`);
  return { header, dataStart };
}

function readMetadata(value: unknown, source: string): Record<string, string> {
  if (value === null) return {};  // the reference reader takes null as "no metadata"
  if (!isObject(value)) fail(source, `__metadata__ is not a JSON object but ${show(value)}`);
  for (const [key, v] of Object.entries(value)) {
    if (typeof v !== 'string') fail(source, `__metadata__ ${show(key)} is not a string but ${show(v)}`);
  }
  // fromEntries defines own properties, so a key like "__proto__" is kept instead of hitting the setter.
  return Object.fromEntries(Object.entries(value)) as Record<string, string>;
}

/** A header entry whose fields have been checked one by one; `begin`/`end` are data-section offsets. */
interface Entry {
  name: string;
  dtype: SafetensorsDType;
  shape: number[];
  begin: number;
  end: number;
}

function readEntry(name: string, value: unknown, dataLength: number, source: string): Entry {
  const tensor = `tensor ${show(name)}`;
  if (!isObject(value)) fail(source, `${tensor} is not a JSON object but ${show(value)}`);
  const { dtype, shape, data_offsets: offsets } = value;
  for (const [field, v] of [['dtype', dtype], ['shape', shape], ['data_offsets', offsets]] as const) {
    if (v === undefined) fail(source, `${tensor} has no ${field}`);
  }
  if (!isDType(dtype)) {
    fail(source, `${tensor} has dtype ${show(dtype)}, which is not one of ${Object.keys(STORAGE).join(', ')}`);
  }
  if (!Array.isArray(shape)) fail(source, `${tensor} has shape ${show(shape)}, which is not an array`);
  const bad = shape.findIndex((d) => !isCount(d));
  if (bad >= 0) fail(source, `${tensor} has shape ${show(shape)}: dimension ${show(shape[bad])} is not a non-negative integer`);
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount)) {
    fail(source, `${tensor} has data_offsets ${show(offsets)}, which is not a pair of non-negative integers`);
  }
  const [begin, end] = offsets as [number, number];
  if (begin > end) fail(source, `${tensor} has reversed data_offsets [${begin}, ${end}]`);
  if (end > dataLength) fail(source, `${tensor} has data_offsets [${begin}, ${end}], past the end of the ${dataLength}-byte data section`);
  const span = end - begin;
  const size = byteSize(shape as number[], STORAGE[dtype].BYTES_PER_ELEMENT);
  if (size !== span) {
    fail(source, `${tensor} of dtype ${dtype} and shape ${show(shape)} needs ${size ?? 'over 2^53'} bytes, ` +
      `but its data_offsets [${begin}, ${end}] span ${span}`);
  }
  return { name, dtype, shape: shape as number[], begin, end };
}

/**
 * The byte count of a tensor, or undefined when it is beyond 2^53. Checking as the product grows
 * keeps every partial product exact, whatever a hostile shape holds.
 */
function byteSize(shape: readonly number[], itemSize: number): number | undefined {
  if (shape.includes(0)) return 0;
  let bytes = itemSize;
  for (const d of shape) {
    bytes *= d;
    if (bytes > Number.MAX_SAFE_INTEGER) return undefined;
  }
  return bytes;
}

/** The reference reader's rule: in offset order each tensor starts where the last ended, and the last ends the file. */
function checkTiling(entries: readonly Entry[], dataLength: number, source: string): void {
  const byOffset = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  let previous: Entry | undefined;
  for (const e of byOffset) {
    if (e.begin < cursor) {
      fail(source, `tensor ${show(e.name)} (bytes ${e.begin}..${e.end}) overlaps tensor ${show(previous!.name)} ` +
        `(bytes ${previous!.begin}..${previous!.end})`);
    }
    if (e.begin > cursor) fail(source, `bytes ${cursor}..${e.begin} of the data section belong to no tensor`);
    cursor = e.end;
    previous = e;
  }
  if (cursor < dataLength) fail(source, `the last ${dataLength - cursor} bytes of the data section belong to no tensor`);
}

function tensorData(dtype: SafetensorsDType, bytes: Uint8Array): TensorData {
  const stored = storageArray(STORAGE[dtype], bytes);
  // Only F16 and BF16 are stored as Uint16Array.
  if (stored instanceof Uint16Array) return dtype === 'BF16' ? bf16ToFloat32(stored) : f16ToFloat32(stored);
  return stored;
}

/** A view of `bytes` where they sit at a multiple of the element size (typed arrays demand it), else an aligned copy. */
function storageArray(Storage: StorageConstructor, bytes: Uint8Array): StorageArray {
  const { buffer, byteOffset, byteLength } = bytes;
  if (byteOffset % Storage.BYTES_PER_ELEMENT === 0) return new Storage(buffer, byteOffset, byteLength / Storage.BYTES_PER_ELEMENT);
  return new Storage(buffer.slice(byteOffset, byteOffset + byteLength));
}

// ---------------------------------------------------------------------------------------------
// 16-bit floats

export function bf16ToFloat32(bits: Uint16Array): Float32Array {
  const words = new Uint32Array(bits.length);
  for (let i = 0; i < bits.length; i++) words[i] = bits[i]! << 16;
  return new Float32Array(words.buffer);
}

/** Rounds to nearest even like PyTorch (too large becomes ±inf); NaN stays NaN, quieted, with its sign. */
export function float32ToBf16(values: Float32Array): Uint16Array {
  const words = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const w = words[i]!;
    if ((w & 0x7fffffff) > 0x7f800000) out[i] = (w >>> 16) | 0x40;
    else out[i] = (w + 0x7fff + ((w >>> 16) & 1)) >>> 16;
  }
  return out;
}

export function f16ToFloat32(bits: Uint16Array): Float32Array {
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

/** Rounds to nearest even like PyTorch (65520 and above become ±inf); NaN stays NaN, with its sign. */
export function float32ToF16(values: Float32Array): Uint16Array {
  const words = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const w = words[i]!;
    const sign = (w >>> 16) & 0x8000;
    const magnitude = w & 0x7fffffff;
    if (magnitude > 0x7f800000) out[i] = sign | 0x7e00;
    else if (magnitude >= 0x477ff000) out[i] = sign | 0x7c00;
    else if (magnitude < 0x38800000) out[i] = sign | roundHalfEven(Math.abs(values[i]!) * 2 ** 24);  // subnormal: units of 2^-24
    else {
      const rebased = magnitude - 0x38000000;  // exponent bias 127 -> 15; a carry out of the fraction bumps the exponent
      out[i] = sign | ((rebased + 0xfff + ((rebased >>> 13) & 1)) >>> 13);
    }
  }
  return out;
}

function roundHalfEven(x: number): number {
  const floor = Math.floor(x);
  const rest = x - floor;
  return rest > 0.5 || (rest === 0.5 && floor % 2 === 1) ? floor + 1 : floor;
}

// ---------------------------------------------------------------------------------------------
// Writing

export interface TensorToWrite {
  dtype: SafetensorsDType;
  shape: readonly number[];
  /**
   * The elements in the dtype's array: F64 Float64Array, F32 Float32Array, I64 BigInt64Array, I32
   * Int32Array, I16 Int16Array, I8 Int8Array, U8 and BOOL Uint8Array. F16 and BF16 take raw words
   * in a Uint16Array, or values in a Float32Array (rounded to nearest even), so a tensor read from
   * a file can be written back as it is.
   */
  data: TensorData | Uint16Array;
}

export type TensorsToWrite = Map<string, TensorToWrite> | Record<string, TensorToWrite>;

/** A tensor ready to lay out: its bytes checked against dtype and shape. */
interface Placed {
  name: string;
  nameBytes: Buffer;
  dtype: SafetensorsDType;
  shape: readonly number[];
  bytes: Uint8Array;
}

/**
 * The file's bytes, as the reference writer makes them: tensors widest dtype first, then by name
 * (byte order of the UTF-8 names, as Rust compares strings); `__metadata__` first when non-empty;
 * the header padded with spaces to a multiple of 8 bytes.
 */
export function serializeSafetensors(tensors: TensorsToWrite, metadata: Record<string, string> = {}): Buffer {
  checkMetadata(metadata);
  const entries = tensors instanceof Map ? [...tensors] : Object.entries(tensors);
  const placed = entries.map(([name, tensor]) => place(name, tensor));
  placed.sort((a, b) => WRITE_RANK[a.dtype] - WRITE_RANK[b.dtype] || Buffer.compare(a.nameBytes, b.nameBytes));
  const header = Buffer.from(headerJson(placed, metadata));
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(header.length));
  return Buffer.concat([length, header, ...placed.map((p) => p.bytes)]);
}

/** Writes atomically: a reader sees the old file or the complete new one, never a partial file. */
export function writeSafetensors(path: string, tensors: TensorsToWrite, metadata?: Record<string, string>): void {
  writeFileAtomic(path, serializeSafetensors(tensors, metadata));
}

function checkMetadata(metadata: Record<string, string>): void {
  if (!isObject(metadata)) throw new Error(`safetensors metadata must be an object of strings, got ${show(metadata)}`);
  for (const [key, value] of Object.entries(metadata)) {
    if (typeof value !== 'string') throw new Error(`safetensors metadata ${show(key)} must be a string, got ${show(value)}`);
  }
}

function place(name: string, tensor: TensorToWrite): Placed {
  const what = `cannot write tensor ${show(name)}`;
  if (name === '__metadata__') throw new Error(`${what}: the name is reserved for the metadata`);
  const { dtype, shape } = tensor;
  if (!isDType(dtype)) throw new Error(`${what}: dtype ${show(dtype)} is not one of ${Object.keys(STORAGE).join(', ')}`);
  if (!Array.isArray(shape) || !shape.every(isCount)) throw new Error(`${what}: shape ${show(shape)} is not a list of non-negative integers`);
  const data = (dtype === 'F16' || dtype === 'BF16') && tensor.data instanceof Float32Array
    ? (dtype === 'F16' ? float32ToF16 : float32ToBf16)(tensor.data)
    : tensor.data;
  const Storage = STORAGE[dtype];
  // toStringTag rather than instanceof: Buffer counts as a Uint8Array, and arrays from another realm work too.
  if (data?.[Symbol.toStringTag] !== Storage.name) {
    const allowed = dtype === 'F16' || dtype === 'BF16' ? 'a Uint16Array of raw words or a Float32Array' : `a ${Storage.name}`;
    throw new Error(`${what}: ${dtype} data must be ${allowed}, got ${data?.[Symbol.toStringTag] ?? show(data)}`);
  }
  const size = byteSize(shape, Storage.BYTES_PER_ELEMENT);
  if (size !== data.byteLength) {
    throw new Error(`${what}: shape ${show(shape)} of ${dtype} needs ${size ?? 'over 2^53'} bytes, data has ${data.byteLength}`);
  }
  return { name, nameBytes: Buffer.from(name), dtype, shape, bytes: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}

/** Built field by field, because JSON.stringify would move integer-like names ("0", "12") to the front. */
function headerJson(placed: readonly Placed[], metadata: Record<string, string>): string {
  const fields: string[] = [];
  if (Object.keys(metadata).length > 0) fields.push(`"__metadata__":${JSON.stringify(metadata)}`);
  let offset = 0;
  for (const p of placed) {
    const end = offset + p.bytes.length;
    fields.push(`${JSON.stringify(p.name)}:{"dtype":"${p.dtype}","shape":${JSON.stringify(p.shape)},"data_offsets":[${offset},${end}]}`);
    offset = end;
  }
  const json = `{${fields.join(',')}}`;
  return json + ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
}

/**
 * Replaces `path` atomically: the bytes go to a temporary file beside it, are synced, and renamed
 * over it; the directory is then synced so the rename survives a crash too. `mode` is the new
 * file's permissions (0o600 for a secret), subject to the umask as usual.
 */
export function writeFileAtomic(path: string, bytes: Uint8Array, mode = 0o666): void {
  const temporary = `${path}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`;
  // 'wx' refuses an existing file, so the cleanup below can only ever remove our own; it also
  // creates the file, so it gets `mode` from the start.
  const fd = openSync(temporary, 'wx', mode);
  try {
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
  syncDirectory(dirname(path));
}

function syncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Best effort: Windows and some filesystems cannot sync a directory, and the file itself is complete.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
