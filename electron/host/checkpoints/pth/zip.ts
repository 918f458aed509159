// A reader for the zip container of torch.save (APPNOTE.TXT of PKWARE). What torch writes: every
// entry STORED, sizes and CRC only in the central directory (flag bit 3, a data descriptor after
// the data), data aligned by padding the local header's extra field, zip64 end records always.
// So sizes come from the central directory and each local header is read only for the length of
// its name and extra field. Every offset and size is checked against the file before use, and each
// entry's CRC when it is read. Deflate (method 8) is inflated with an output cap, because
// re-zipping a checkpoint with a general zip tool produces it; other methods, encryption and
// multi-disk archives are refused. Not a general zip library: no writing, no streaming.
import { crc32, inflateRawSync } from 'node:zlib';
import { fail } from './errors';

const LOCAL_HEADER = 0x04034b50;
const CENTRAL_HEADER = 0x02014b50;
const END_OF_CENTRAL_DIRECTORY = 0x06054b50;
const ZIP64_END = 0x06064b50;
const ZIP64_LOCATOR = 0x07064b50;
const ZIP64_EXTRA_ID = 0x0001;
const STORED = 0;
const DEFLATED = 8;
/** The end record is 22 bytes plus a comment of at most 65535. */
const MAX_END_SEARCH = 22 + 0xffff;

export interface ZipEntry {
  name: string;
  method: number;
  compressedSize: number;
  size: number;
  crc: number;
  dataOffset: number;
}

export function isZip(buffer: Buffer): boolean {
  return buffer.length >= 4 && buffer.readUInt32LE(0) === LOCAL_HEADER;
}

export class ZipArchive {
  /** Entry names in central-directory order (torch's reader takes the archive folder from the first). */
  readonly names: string[];

  constructor(private readonly buffer: Buffer, private readonly source: string, private readonly entries: Map<string, ZipEntry>) {
    this.names = [...entries.keys()];
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  size(name: string): number {
    return this.entry(name).size;
  }

  /** The entry's bytes, CRC-checked. STORED entries are views of the file buffer, not copies. */
  read(name: string): Buffer {
    const e = this.entry(name);
    const raw = this.buffer.subarray(e.dataOffset, e.dataOffset + e.compressedSize);
    let data = raw;
    if (e.method === DEFLATED) {
      try {
        data = inflateRawSync(raw, { maxOutputLength: Math.max(1, e.size) });
      } catch (error) {
        this.fail(`entry '${name}' does not inflate (${(error as Error).message})`);
      }
      if (data.length !== e.size) this.fail(`entry '${name}' inflates to ${data.length} bytes, its directory says ${e.size}`);
    }
    if (crc32(data) >>> 0 !== e.crc) this.fail(`entry '${name}' is damaged (CRC mismatch)`);
    return data;
  }

  private entry(name: string): ZipEntry {
    const e = this.entries.get(name);
    if (!e) this.fail(`there is no entry '${name}'`);
    return e;
  }

  private fail(problem: string): never {
    fail(this.source, `zip container: ${problem}`);
  }
}

/** Parses the central directory of a zip held in memory; entries are read on demand. */
export function openZip(buffer: Buffer, source: string): ZipArchive {
  const bad = (problem: string): never => fail(source, `zip container: ${problem}`);
  const u64 = (at: number, what: string): number => {
    const value = buffer.readBigUInt64LE(at);
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) bad(`${what} ${value} is not a usable size`);
    return Number(value);
  };

  const end = findEndRecord(buffer);
  if (end < 0) bad('no end-of-central-directory record (the file is truncated or not a zip)');
  if (buffer.readUInt16LE(end + 4) !== 0 || buffer.readUInt16LE(end + 6) !== 0) bad('multi-disk archives are not supported');
  let count = buffer.readUInt16LE(end + 10);
  let directorySize = buffer.readUInt32LE(end + 12);
  let directoryOffset = buffer.readUInt32LE(end + 16);
  let directoryLimit = end;
  if (count === 0xffff || directorySize === 0xffffffff || directoryOffset === 0xffffffff) {
    // Zip64: the locator sits right before the end record and points at the zip64 end record.
    const locator = end - 20;
    if (locator < 0 || buffer.readUInt32LE(locator) !== ZIP64_LOCATOR) bad('zip64 sizes without a zip64 locator');
    const record = u64(locator + 8, 'the zip64 end record offset');
    if (record + 56 > locator || buffer.readUInt32LE(record) !== ZIP64_END) bad('the zip64 locator does not point at a zip64 end record');
    count = u64(record + 32, 'the entry count');
    directorySize = u64(record + 40, 'the central directory size');
    directoryOffset = u64(record + 48, 'the central directory offset');
    directoryLimit = record;
  }
  if (directoryOffset + directorySize > directoryLimit) {
    bad(`the central directory (bytes ${directoryOffset}..${directoryOffset + directorySize}) runs past its end record at ${directoryLimit}`);
  }

  const entries = new Map<string, ZipEntry>();
  let at = directoryOffset;
  const directoryEnd = directoryOffset + directorySize;
  for (let i = 0; i < count; i++) {
    if (at + 46 > directoryEnd) bad(`central directory entry ${i} runs past the directory (${count} entries declared)`);
    if (buffer.readUInt32LE(at) !== CENTRAL_HEADER) bad(`central directory entry ${i} has a bad signature`);
    const flags = buffer.readUInt16LE(at + 8);
    const method = buffer.readUInt16LE(at + 10);
    const crc = buffer.readUInt32LE(at + 16);
    let compressedSize = buffer.readUInt32LE(at + 20);
    let size = buffer.readUInt32LE(at + 24);
    const nameLength = buffer.readUInt16LE(at + 28);
    const extraLength = buffer.readUInt16LE(at + 30);
    const commentLength = buffer.readUInt16LE(at + 32);
    let localOffset = buffer.readUInt32LE(at + 42);
    const next = at + 46 + nameLength + extraLength + commentLength;
    if (next > directoryEnd) bad(`central directory entry ${i} runs past the directory`);
    const name = buffer.toString('utf8', at + 46, at + 46 + nameLength);
    if (flags & 1) bad(`entry '${name}' is encrypted`);
    if (method !== STORED && method !== DEFLATED) bad(`entry '${name}' uses compression method ${method}; only stored and deflated entries are supported`);
    if (entries.has(name)) bad(`entry '${name}' appears twice`);

    // Zip64 extra field: 64-bit values for exactly those of the three fields that are saturated.
    const saturated = [size === 0xffffffff, compressedSize === 0xffffffff, localOffset === 0xffffffff];
    if (saturated.some(Boolean)) {
      const values = zip64Values(buffer, at + 46 + nameLength, extraLength, saturated.filter(Boolean).length, () => bad(`entry '${name}' lacks its zip64 sizes`));
      const wide = (v: bigint): number => (v > BigInt(Number.MAX_SAFE_INTEGER) ? bad(`entry '${name}' has an unusable zip64 size ${v}`) : Number(v));
      if (saturated[0]) size = wide(values.shift()!);
      if (saturated[1]) compressedSize = wide(values.shift()!);
      if (saturated[2]) localOffset = wide(values.shift()!);
    }
    if (method === STORED && compressedSize !== size) bad(`stored entry '${name}' has sizes ${compressedSize} and ${size}`);

    if (localOffset + 30 > directoryOffset || buffer.readUInt32LE(localOffset) !== LOCAL_HEADER) {
      bad(`entry '${name}' has no local header at byte ${localOffset}`);
    }
    const dataOffset = localOffset + 30 + buffer.readUInt16LE(localOffset + 26) + buffer.readUInt16LE(localOffset + 28);
    if (dataOffset + compressedSize > directoryOffset) bad(`the data of entry '${name}' runs past the central directory`);
    entries.set(name, { name, method, compressedSize, size, crc, dataOffset });
    at = next;
  }
  return new ZipArchive(buffer, source, entries);
}

function findEndRecord(buffer: Buffer): number {
  for (let at = buffer.length - 22; at >= Math.max(0, buffer.length - MAX_END_SEARCH); at--) {
    // The comment must end exactly at the end of the file, which rules out the signature appearing inside it.
    if (buffer.readUInt32LE(at) === END_OF_CENTRAL_DIRECTORY && at + 22 + buffer.readUInt16LE(at + 20) === buffer.length) return at;
  }
  return -1;
}

function zip64Values(buffer: Buffer, start: number, length: number, wanted: number, missing: () => never): bigint[] {
  for (let at = start; at + 4 <= start + length;) {
    const id = buffer.readUInt16LE(at);
    const size = buffer.readUInt16LE(at + 2);
    if (at + 4 + size > start + length) break;
    if (id === ZIP64_EXTRA_ID) {
      if (size < wanted * 8) missing();
      return Array.from({ length: wanted }, (_, i) => buffer.readBigUInt64LE(at + 4 + 8 * i));
    }
    at += 4 + size;
  }
  return missing();
}
