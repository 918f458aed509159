// safetensors: round trips of every dtype; byte-for-byte agreement with the reference library's own
// test vectors (huggingface/safetensors, safetensors/src/tensor.rs: test_serialization,
// test_serialization_forced_alignement, test_empty) and with the layout its Python save_file writes;
// views versus copies; 16-bit float rounding, exhaustively; every validation rule with its message;
// a seeded fuzz run over mutated files; and atomic replacement.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { describe, it } from 'node:test';
import {
  bf16ToFloat32, f16ToFloat32, float32ToBf16, float32ToF16, parseSafetensors, readSafetensors,
  serializeSafetensors, writeFileAtomic, writeSafetensors, type SafetensorsFile, type TensorToWrite,
} from '../../../electron/host/checkpoints/safetensors';
import { randInt, rng } from '../../helpers/random';

function u64(value: number | bigint): Buffer {
  const out = Buffer.alloc(8);
  out.writeBigUInt64LE(BigInt(value));
  return out;
}

function f32Bytes(values: number[]): Buffer {
  return Buffer.from(new Float32Array(values).buffer);
}

/** A file from header text as given (no padding), with the length field overridable. */
function rawFile(headerText: string, data: Uint8Array = new Uint8Array(0), headerLength?: number | bigint): Buffer {
  const header = Buffer.from(headerText);
  return Buffer.concat([u64(headerLength ?? header.length), header, data]);
}

function file(header: unknown, data?: Uint8Array): Buffer {
  return rawFile(JSON.stringify(header), data);
}

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'pix-safetensors-'));
}

const PREFIX = 'bad.safetensors: not a valid safetensors file: ';

function assertRejects(bytes: Buffer, problem: RegExp): void {
  assert.throws(() => parseSafetensors(bytes, 'bad.safetensors'), (error: Error) => {
    assert.equal(error.name, 'SafetensorsError');
    assert.ok(error.message.startsWith(PREFIX), error.message);
    assert.match(error.message.slice(PREFIX.length), problem);
    return true;
  });
}

// One tensor of every dtype, with each type's extreme values; F16 and BF16 both as raw words and as values.
const everyDType: Record<string, TensorToWrite> = {
  f64: { dtype: 'F64', shape: [1, 3], data: new Float64Array([0.1, -1e300, 5e-324]) },
  f32: { dtype: 'F32', shape: [2, 2], data: new Float32Array([1, -2, 3.5, -Infinity]) },
  f16_bits: { dtype: 'F16', shape: [4], data: new Uint16Array([0x3c00, 0xc000, 0x0001, 0x7bff]) },
  f16_values: { dtype: 'F16', shape: [2], data: new Float32Array([0.5, -0.25]) },
  bf16_bits: { dtype: 'BF16', shape: [3], data: new Uint16Array([0x3f80, 0xbf00, 0x7f7f]) },
  bf16_values: { dtype: 'BF16', shape: [1, 1, 3], data: new Float32Array([1, 1 + 2 ** -8, -0.5]) },
  i64: { dtype: 'I64', shape: [3], data: new BigInt64Array([-(2n ** 63n), 2n ** 63n - 1n, 0n]) },
  i32: { dtype: 'I32', shape: [2], data: new Int32Array([-(2 ** 31), 2 ** 31 - 1]) },
  i16: { dtype: 'I16', shape: [3], data: new Int16Array([-32768, 32767, 1]) },
  i8: { dtype: 'I8', shape: [3], data: new Int8Array([-128, 127, 0]) },
  u8: { dtype: 'U8', shape: [3], data: new Uint8Array([0, 255, 7]) },
  bool: { dtype: 'BOOL', shape: [3], data: new Uint8Array([0, 1, 1]) },
  scalar: { dtype: 'I64', shape: [], data: new BigInt64Array([7n]) },
  empty: { dtype: 'F32', shape: [0, 4], data: new Float32Array(0) },
};

/** What reading `everyDType` back must give: the stored dtype, and F16/BF16 as Float32Array values. */
const expectedRead: Record<string, [string, unknown[]]> = {
  f64: ['Float64Array', [0.1, -1e300, 5e-324]],
  f32: ['Float32Array', [1, -2, 3.5, -Infinity]],
  f16_bits: ['Float32Array', [1, -2, 2 ** -24, 65504]],
  f16_values: ['Float32Array', [0.5, -0.25]],
  bf16_bits: ['Float32Array', [1, -0.5, 3.3895313892515355e38]],
  bf16_values: ['Float32Array', [1, 1, -0.5]],  // 1 + 2^-8 is a tie between 1 and 1 + 2^-7: even wins
  i64: ['BigInt64Array', [-(2n ** 63n), 2n ** 63n - 1n, 0n]],
  i32: ['Int32Array', [-(2 ** 31), 2 ** 31 - 1]],
  i16: ['Int16Array', [-32768, 32767, 1]],
  i8: ['Int8Array', [-128, 127, 0]],
  u8: ['Uint8Array', [0, 255, 7]],
  bool: ['Uint8Array', [0, 1, 1]],
  scalar: ['BigInt64Array', [7n]],
  empty: ['Float32Array', []],
};

describe('safetensors round trips', () => {
  it('writes and reads back every dtype, shape and metadata', () => {
    const path = join(tempDir(), 'every.safetensors');
    const metadata = { format: 'pt', epoch: '3', ['__proto__']: 'kept as a key', '': 'empty key' };
    writeSafetensors(path, everyDType, metadata);
    const { tensors, metadata: readMetadata } = readSafetensors(path);
    assert.deepEqual(readMetadata, metadata);
    assert.deepEqual([...tensors.keys()], Object.keys(everyDType).sort());
    for (const [name, [arrayType, values]] of Object.entries(expectedRead)) {
      const tensor = tensors.get(name)!;
      assert.equal(tensor.dtype, everyDType[name]!.dtype, name);
      assert.deepEqual(tensor.shape, everyDType[name]!.shape, name);
      assert.equal(tensor.data[Symbol.toStringTag], arrayType, name);
      assert.deepEqual(Array.from(tensor.data as ArrayLike<unknown>), values, name);
    }
  });

  it('writes a file read from disk back byte for byte, F16 and BF16 included', () => {
    const first = serializeSafetensors(everyDType, { format: 'pt' });
    const read = parseSafetensors(first, 'first');
    assert.deepEqual(serializeSafetensors(read.tensors, read.metadata), first);
  });

  it('takes a Map as well as a record, and writes no __metadata__ when there is none', () => {
    const tensor: TensorToWrite = { dtype: 'F32', shape: [1], data: new Float32Array([1]) };
    const fromMap = serializeSafetensors(new Map([['a', tensor]]));
    assert.deepEqual(fromMap, serializeSafetensors({ a: tensor }, {}));
    assert.ok(!fromMap.includes('__metadata__'));
  });
});

describe('safetensors bytes match the reference implementation', () => {
  const zeroToFive = f32Bytes([0, 1, 2, 3, 4, 5]);

  it('test_serialization_forced_alignement: the header is padded with 7 spaces to 72 bytes', () => {
    const json = '{"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}}';
    const expected = Buffer.concat([u64(72), Buffer.from(json + ' '.repeat(7)), zeroToFive]);
    const tensors = { attn0: { dtype: 'F32' as const, shape: [1, 1, 2, 3], data: new Float32Array([0, 1, 2, 3, 4, 5]) } };
    assert.deepEqual(serializeSafetensors(tensors), expected);
    const parsed = parseSafetensors(expected, 'reference');
    assert.deepEqual(Array.from(parsed.tensors.get('attn0')!.data as Float32Array), [0, 1, 2, 3, 4, 5]);
  });

  it('test_serialization: a 64-byte header needs no padding', () => {
    const json = '{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}';
    const expected = Buffer.concat([u64(64), Buffer.from(json), zeroToFive]);
    const tensors = { 'attn.0': { dtype: 'F32' as const, shape: [1, 2, 3], data: new Float32Array([0, 1, 2, 3, 4, 5]) } };
    assert.deepEqual(serializeSafetensors(tensors), expected);
    assert.deepEqual(parseSafetensors(expected, 'reference').tensors.get('attn.0')!.shape, [1, 2, 3]);
  });

  it('test_empty: no tensors, with and without metadata', () => {
    const bare = Buffer.concat([u64(8), Buffer.from('{}      ')]);
    assert.deepEqual(serializeSafetensors({}), bare);
    const withMetadata = Buffer.concat([u64(40), Buffer.from('{"__metadata__":{"framework":"pt"}}     ')]);
    assert.deepEqual(serializeSafetensors({}, { framework: 'pt' }), withMetadata);
    assert.deepEqual(parseSafetensors(bare, 'reference'), { tensors: new Map(), metadata: {} });
    assert.deepEqual(parseSafetensors(withMetadata, 'reference').metadata, { framework: 'pt' });
  });

  it('lays out mixed dtypes as save_file does: widest dtype first, then by name, each tensor aligned', () => {
    // safetensors.torch.save_file({"weight": zeros(2), "step": tensor([5]), "mask": tensor([1,0,1], dtype=bool),
    // "bias": zeros(1)}, "x.safetensors", metadata={"format": "pt"}) writes these bytes.
    const json = '{"__metadata__":{"format":"pt"},' +
      '"step":{"dtype":"I64","shape":[1],"data_offsets":[0,8]},' +
      '"bias":{"dtype":"F32","shape":[1],"data_offsets":[8,12]},' +
      '"weight":{"dtype":"F32","shape":[2],"data_offsets":[12,20]},' +
      '"mask":{"dtype":"BOOL","shape":[3],"data_offsets":[20,23]}}';
    assert.equal(json.length, 264);  // a multiple of 8: no padding
    const data = Buffer.concat([u64(5), f32Bytes([0]), f32Bytes([0, 0]), Buffer.from([1, 0, 1])]);
    const expected = Buffer.concat([u64(264), Buffer.from(json), data]);
    const written = serializeSafetensors(new Map<string, TensorToWrite>([
      ['weight', { dtype: 'F32', shape: [2], data: new Float32Array(2) }],
      ['step', { dtype: 'I64', shape: [1], data: new BigInt64Array([5n]) }],
      ['mask', { dtype: 'BOOL', shape: [3], data: new Uint8Array([1, 0, 1]) }],
      ['bias', { dtype: 'F32', shape: [1], data: new Float32Array(1) }],
    ]), { format: 'pt' });
    assert.deepEqual(written, expected);
    const parsed = parseSafetensors(expected, 'save_file');
    assert.deepEqual(Array.from(parsed.tensors.get('step')!.data as BigInt64Array), [5n]);
    assert.deepEqual(Array.from(parsed.tensors.get('mask')!.data as Uint8Array), [1, 0, 1]);
  });

  it('keeps integer-like names where the sort puts them and escapes names as JSON does', () => {
    const one = (v: number): TensorToWrite => ({ dtype: 'U8', shape: [1], data: new Uint8Array([v]) });
    const bytes = serializeSafetensors({ b: one(1), 10: one(2), 9: one(3), 'q"\\\n': one(4) });
    const header = bytes.subarray(8, 8 + Number(bytes.readBigUInt64LE(0))).toString();
    const keys = [...header.matchAll(/"((?:[^"\\]|\\.)*)":\{"dtype"/g)].map((m) => m[1]);
    assert.deepEqual(keys, ['10', '9', 'b', 'q\\"\\\\\\n']);
    assert.deepEqual(Array.from(parseSafetensors(bytes, 'names').tensors.get('q"\\\n')!.data as Uint8Array), [4]);
  });
});

describe('safetensors reading in place', () => {
  it('views aligned tensor data without copying and copies unaligned data into aligned arrays', () => {
    // Offsets 1 and 5 leave both F32 tensors misaligned; the U8 byte before them can always be a view.
    const data = Buffer.concat([Buffer.from([9]), f32Bytes([2.5]), f32Bytes([-1, 4])]);
    const bytes = file({
      pad: { dtype: 'U8', shape: [1], data_offsets: [0, 1] },
      x: { dtype: 'F32', shape: [1], data_offsets: [1, 5] },
      y: { dtype: 'F32', shape: [2], data_offsets: [5, 13] },
    }, data);
    const parsed = parseSafetensors(bytes, 'unaligned');
    assert.deepEqual(Array.from(parsed.tensors.get('x')!.data as Float32Array), [2.5]);
    assert.deepEqual(Array.from(parsed.tensors.get('y')!.data as Float32Array), [-1, 4]);
    assert.notEqual(parsed.tensors.get('y')!.data.buffer, bytes.buffer);
    assert.equal(parsed.tensors.get('pad')!.data.buffer, bytes.buffer);

    const aligned = serializeSafetensors({ w: { dtype: 'F64', shape: [2], data: new Float64Array([1, 2]) } });
    assert.equal(parseSafetensors(aligned, 'aligned').tensors.get('w')!.data.buffer, aligned.buffer);
  });

  it('accepts what the reference reader accepts', () => {
    const ok = (bytes: Buffer) => parseSafetensors(bytes, 'ok');
    assert.deepEqual(ok(file({ __metadata__: null })).metadata, {});
    assert.equal(ok(rawFile('  {}\n\t')).tensors.size, 0);
    // Zero-size tensors anywhere, including one whose other dimension is huge, and unknown extra fields.
    const parsed = ok(file({
      a: { dtype: 'U8', shape: [2], data_offsets: [0, 2] },
      none: { dtype: 'F64', shape: [2 ** 40, 0], data_offsets: [2, 2], extra: 'ignored' },
      b: { dtype: 'U8', shape: [1], data_offsets: [2, 3] },
    }, new Uint8Array(3)));
    assert.deepEqual(parsed.tensors.get('none')!.shape, [2 ** 40, 0]);
    assert.equal(parsed.tensors.get('none')!.data.length, 0);
  });
});

describe('safetensors 16-bit floats', () => {
  /**
   * Each positive finite word h below `words`, and the float32 values halfway to h + 1, just below
   * and just above that. `top` is the value the infinity word would have if its exponent were an
   * ordinary one, so the last midpoint is the overflow threshold.
   */
  function midpoints(words: number, top: number, decode: (bits: Uint16Array) => Float32Array) {
    const lower = new Uint16Array(words).map((_, i) => i);
    const low = decode(lower);
    const high = decode(lower.map((h) => h + 1));
    // Exact: a 16-bit float's midpoints need at most 12 significant bits.
    const mid = low.map((v, i) => (v + (i + 1 === words ? top : high[i]!)) / 2);
    const bits = new Uint32Array(mid.buffer);
    const below = new Float32Array(bits.map((b) => b - 1).buffer);
    const above = new Float32Array(bits.map((b) => b + 1).buffer);
    return { lower, mid, below, above };
  }

  function checkRounding(words: number, top: number, decode: (b: Uint16Array) => Float32Array, encode: (v: Float32Array) => Uint16Array) {
    const { lower, mid, below, above } = midpoints(words, top, decode);
    const [atMid, atBelow, atAbove] = [encode(mid), encode(below), encode(above)];
    for (let h = 0; h < words; h++) {
      const even = h % 2 === 0 ? h : h + 1;
      if (atMid[h] !== even || atBelow[h] !== lower[h] || atAbove[h] !== h + 1) {
        assert.fail(`word ${h.toString(16)}: midpoint -> ${atMid[h]!.toString(16)}, below -> ${atBelow[h]!.toString(16)}, above -> ${atAbove[h]!.toString(16)}`);
      }
    }
    // The sign only sets the top bit.
    const negative = encode(mid.map((v) => -v));
    for (let h = 0; h < words; h++) assert.equal(negative[h], atMid[h]! | 0x8000);
  }

  function checkEveryWord(decode: (b: Uint16Array) => Float32Array, encode: (v: Float32Array) => Uint16Array, isNaNWord: (h: number) => boolean) {
    const all = new Uint16Array(65536).map((_, i) => i);
    const back = encode(decode(all));
    for (let h = 0; h < 65536; h++) {
      if (isNaNWord(h)) assert.ok(isNaNWord(back[h]!), `NaN ${h.toString(16)}`);
      else assert.equal(back[h], h, `word ${h.toString(16)}`);
    }
  }

  it('F16: every word survives decode then encode; midpoints round to even, overflow to infinity', () => {
    checkEveryWord(f16ToFloat32, float32ToF16, (h) => (h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0);
    checkRounding(0x7c00, 2 ** 16, f16ToFloat32, float32ToF16);  // up to 65504 -> the 65520 midpoint -> infinity
    assert.deepEqual(Array.from(float32ToF16(new Float32Array([65519.99, 65520, 1e6, 2 ** -26]))), [0x7bff, 0x7c00, 0x7c00, 0]);
  });

  it('BF16: every word survives decode then encode; midpoints round to even, overflow to infinity', () => {
    checkEveryWord(bf16ToFloat32, float32ToBf16, (h) => (h & 0x7f80) === 0x7f80 && (h & 0x7f) !== 0);
    checkRounding(0x7f80, 2 ** 128, bf16ToFloat32, float32ToBf16);
    assert.deepEqual(Array.from(bf16ToFloat32(float32ToBf16(new Float32Array([3.14159])))), [3.140625]);
  });

  it('keeps NaN a NaN whose payload lies only in the bits that rounding drops', () => {
    const nans = new Float32Array(new Uint32Array([0x7f800001, 0xff800001, 0x7fc00000]).buffer);
    assert.deepEqual(Array.from(float32ToBf16(nans)), [0x7fc0, 0xffc0, 0x7fc0]);
    assert.deepEqual(Array.from(float32ToF16(nans)), [0x7e00, 0xfe00, 0x7e00]);
  });
});

describe('safetensors refuses bad files, naming the problem', () => {
  const u8 = (begin: number, end: number) => ({ dtype: 'U8', shape: [end - begin], data_offsets: [begin, end] });
  const bad: [string, Buffer, RegExp][] = [
    ['a file shorter than 8 bytes', Buffer.alloc(5), /^it is 5 bytes long, too short for the 8-byte header length$/],
    ['a header length over 100 MB', rawFile('{}', undefined, 100_000_001), /header length 100000001 is over the limit of 100000000 bytes/],
    ['a header length of 2^64 - 1', rawFile('{}', undefined, 2n ** 64n - 1n), /header length 18446744073709551615 is over the limit/],
    ['a header longer than the file', rawFile('{}', undefined, 500), /header length 500 runs past the end of the 10-byte file/],
    ['a header that is not UTF-8', rawFile('{"\xff"}').fill(0xff, 10, 11), /the header is not valid UTF-8/],
    ['a header that starts with a byte-order mark', rawFile('\ufeff{}'), /the header is not valid JSON/],
    ['a header that is not JSON', rawFile('{"a":'), /the header is not valid JSON \(.+\)/],
    ['a header that is a JSON array', file([]), /the header is not a JSON object but \[\]/],
    ['a header that is null', file(null), /the header is not a JSON object but null/],
    ['an entry that is not an object', file({ x: [1] }), /tensor "x" is not a JSON object but \[1\]/],
    ['an entry without dtype', file({ x: { shape: [], data_offsets: [0, 0] } }), /tensor "x" has no dtype/],
    ['an entry without shape', file({ x: { dtype: 'U8', data_offsets: [0, 0] } }), /tensor "x" has no shape/],
    ['an entry without data_offsets', file({ x: { dtype: 'U8', shape: [0] } }), /tensor "x" has no data_offsets/],
    ['an unknown dtype', file({ x: { dtype: 'F8_E4M3', shape: [1], data_offsets: [0, 1] } }, new Uint8Array(1)),
      /tensor "x" has dtype "F8_E4M3", which is not one of F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL/],
    ['a dtype that is not a string', file({ x: { dtype: 4, shape: [1], data_offsets: [0, 4] } }), /has dtype 4, which is not one of/],
    ['a shape that is not an array', file({ x: { dtype: 'U8', shape: 2, data_offsets: [0, 2] } }), /has shape 2, which is not an array/],
    ['a negative dimension', file({ x: { dtype: 'U8', shape: [2, -1], data_offsets: [0, 1] } }), /has shape \[2,-1\]: dimension -1 is not a non-negative integer/],
    ['a fractional dimension', file({ x: { dtype: 'U8', shape: [1.5], data_offsets: [0, 1] } }), /dimension 1.5 is not a non-negative integer/],
    ['a dimension that is a string', file({ x: { dtype: 'U8', shape: ['2'], data_offsets: [0, 2] } }), /dimension "2" is not a non-negative integer/],
    ['a dimension beyond 2^53', file({ x: { dtype: 'U8', shape: [2 ** 60], data_offsets: [0, 2] } }), /dimension 1152921504606847000 is not/],
    ['data_offsets of one number', file({ x: { dtype: 'U8', shape: [0], data_offsets: [0] } }), /data_offsets \[0\], which is not a pair of non-negative integers/],
    ['data_offsets as strings', file({ x: { dtype: 'U8', shape: [0], data_offsets: ['0', '0'] } }), /data_offsets \["0","0"\], which is not a pair/],
    ['a negative data offset', file({ x: { dtype: 'U8', shape: [0], data_offsets: [-1, 0] } }), /data_offsets \[-1,0\], which is not a pair/],
    ['reversed data_offsets', file({ x: { dtype: 'U8', shape: [0], data_offsets: [3, 1] } }, new Uint8Array(4)), /tensor "x" has reversed data_offsets \[3, 1\]/],
    ['data_offsets past the data', file({ x: u8(0, 8) }, new Uint8Array(4)), /tensor "x" has data_offsets \[0, 8\], past the end of the 4-byte data section/],
    ['a size that does not match the shape', file({ x: { dtype: 'F32', shape: [2], data_offsets: [0, 4] } }, new Uint8Array(4)),
      /tensor "x" of dtype F32 and shape \[2\] needs 8 bytes, but its data_offsets \[0, 4\] span 4/],
    ['a shape too large to count', file({ x: { dtype: 'F64', shape: [2 ** 40, 2 ** 40, 2 ** 40], data_offsets: [0, 8] } }, new Uint8Array(8)),
      /needs over 2\^53 bytes, but its data_offsets \[0, 8\] span 8/],
    ['overlapping tensors', file({ a: u8(0, 4), b: u8(2, 4) }, new Uint8Array(4)), /tensor "b" \(bytes 2..4\) overlaps tensor "a" \(bytes 0..4\)/],
    ['a zero-size tensor inside another', file({ a: u8(0, 4), b: u8(2, 2) }, new Uint8Array(4)), /tensor "b" \(bytes 2..2\) overlaps tensor "a"/],
    ['a gap before the first tensor', file({ a: u8(2, 4) }, new Uint8Array(4)), /bytes 0..2 of the data section belong to no tensor/],
    ['a gap between tensors', file({ a: u8(0, 1), b: u8(3, 4) }, new Uint8Array(4)), /bytes 1..3 of the data section belong to no tensor/],
    ['bytes after the last tensor', file({ a: u8(0, 1) }, new Uint8Array(4)), /the last 3 bytes of the data section belong to no tensor/],
    ['data but no tensors', file({}, new Uint8Array(2)), /the last 2 bytes of the data section belong to no tensor/],
    ['metadata that is not an object', file({ __metadata__: 'pt' }), /__metadata__ is not a JSON object but "pt"/],
    ['metadata that is not all strings', file({ __metadata__: { epoch: 3 } }), /__metadata__ "epoch" is not a string but 3/],
  ];
  for (const [what, bytes, problem] of bad) {
    it(`refuses ${what}`, () => assertRejects(bytes, problem));
  }

  it('cuts long names and values short in messages', () => {
    const name = 'n'.repeat(100_000);
    assert.throws(() => parseSafetensors(file({ [name]: { dtype: 'X'.repeat(100_000), shape: [], data_offsets: [0, 0] } }), 'long'),
      (error: Error) => error.message.length < 300);
  });

  it('names the path when reading a file from disk', () => {
    const path = join(tempDir(), 'broken.safetensors');
    writeFileSync(path, Buffer.from([1, 2, 3]));
    assert.throws(() => readSafetensors(path), { message: `${path}: not a valid safetensors file: it is 3 bytes long, too short for the 8-byte header length` });
  });
});

describe('safetensors survives mutated files', () => {
  interface Mutant { label: string; bytes: Buffer; dataOnly?: boolean }

  function truncations(valid: Buffer): Mutant[] {
    const out: Mutant[] = [];
    for (let n = 0; n < valid.length; n += 3) out.push({ label: `truncated to ${n}`, bytes: valid.subarray(0, n) });
    return out;
  }

  function lengthEdits(valid: Buffer, next: () => number): Mutant[] {
    const headerLength = Number(valid.readBigUInt64LE(0));
    const lengths = [0n, 1n, 2n, 7n, 8n, 2n ** 31n, 2n ** 32n, 2n ** 53n, 2n ** 63n, 2n ** 64n - 1n, 100_000_000n, 100_000_001n];
    for (let d = -16; d <= 16; d++) lengths.push(BigInt(headerLength + d), BigInt(valid.length - 8 + d));
    for (let i = 0; i < 40; i++) lengths.push(BigInt(randInt(next, 0, 2 ** 30)));
    return lengths.map((length) => {
      const bytes = Buffer.from(valid);
      bytes.writeBigUInt64LE(length);
      return { label: `header length ${length}`, bytes };
    });
  }

  /** Byte edits, mostly to JSON punctuation and digits, which make new structure, offsets and shapes. */
  function headerByteEdits(valid: Buffer, next: () => number, count: number): Mutant[] {
    const headerEnd = 8 + Number(valid.readBigUInt64LE(0));
    const tokens = Buffer.from('{}[]",:-.0123456789eE \\nul');
    return Array.from({ length: count }, (_, i) => {
      const bytes = Buffer.from(valid);
      for (let k = randInt(next, 1, 3); k > 0; k--) {
        const at = randInt(next, 8, headerEnd - 1);
        bytes[at] = next() < 0.7 ? tokens[randInt(next, 0, tokens.length - 1)]! : bytes[at]! ^ (1 << randInt(next, 0, 7));
      }
      return { label: `header byte edit ${i}`, bytes };
    });
  }

  /** Edits to one field of one entry in well-formed JSON, so the checks past the parser see them. */
  function headerFieldEdits(valid: Buffer, next: () => number, count: number): Mutant[] {
    const headerEnd = 8 + Number(valid.readBigUInt64LE(0));
    const text = valid.subarray(8, headerEnd).toString();
    const data = valid.subarray(headerEnd);
    const odd = [-1, 1.5, 2 ** 53, 2 ** 64, '4', null, [], {}, 'F8_E4M3', 'BF16', 'I64', [0], [0, 0, 0]];
    const pick = <T>(values: readonly T[]): T => values[randInt(next, 0, values.length - 1)]!;
    return Array.from({ length: count }, (_, i) => {
      const header = JSON.parse(text) as Record<string, Record<string, unknown>>;
      const entry = header[pick(Object.keys(header))]!;
      const field = pick(['dtype', 'shape', 'data_offsets', 'format']);
      const r = next();
      if (r < 0.15) delete entry[field];
      else if (r < 0.35) entry[field] = pick(odd);
      else if (field === 'data_offsets' && Array.isArray(entry[field]) && next() < 0.5) {
        const shift = randInt(next, -8, 8);  // moved, same size: overlaps and gaps
        entry[field] = (entry[field] as number[]).map((offset) => offset + shift);
      } else if (Array.isArray(entry[field])) {
        const values: unknown[] = [...(entry[field] as unknown[])];
        values[randInt(next, 0, Math.max(0, values.length - 1))] = next() < 0.7 ? randInt(next, 0, 64) : pick(odd);
        entry[field] = values;
      } else entry[field] = pick(['F64', 'F32', 'F16', 'BF16', 'I64', 'I32', 'I16', 'I8', 'U8', 'BOOL', 'x']);
      return { label: `header field edit ${i}: ${JSON.stringify(header)}`, bytes: rawFile(JSON.stringify(header), data) };
    });
  }

  function dataEdits(valid: Buffer, next: () => number, count: number): Mutant[] {
    const headerEnd = 8 + Number(valid.readBigUInt64LE(0));
    return Array.from({ length: count }, (_, i) => {
      const bytes = Buffer.from(valid);
      for (let k = randInt(next, 1, 8); k > 0; k--) bytes[randInt(next, headerEnd, valid.length - 1)] = randInt(next, 0, 255);
      return { label: `data edit ${i}`, bytes, dataOnly: true };
    });
  }

  // Parsing one of these 1 KB files takes microseconds; the limit only catches work that grows with a hostile value.
  const LIMIT_MS = 5;

  /** A slow first parse is timed again, best of three, so a GC pause or a busy machine is not blamed on the parser. */
  function bestOfThree(bytes: Buffer): number {
    let best = Infinity;
    for (let run = 0; run < 3; run++) {
      const start = performance.now();
      try {
        parseSafetensors(bytes, 'fuzz');
      } catch {
        // The outcome was checked on the first parse.
      }
      best = Math.min(best, performance.now() - start);
    }
    return best;
  }

  it('parses or throws a SafetensorsError naming the problem, each within a few milliseconds', () => {
    const valid = serializeSafetensors(everyDType, { format: 'pt', epoch: '12' });
    const next = rng(2024);
    const mutants = [
      ...truncations(valid), ...lengthEdits(valid, next), ...headerByteEdits(valid, next, 800),
      ...headerFieldEdits(valid, next, 600), ...dataEdits(valid, next, 200),
    ];
    assert.ok(mutants.length >= 2000, `${mutants.length} mutants`);
    const problems = new Set<string>();
    let slowest = 0;
    for (const { label, bytes, dataOnly } of mutants) {
      const start = performance.now();
      let parsed: SafetensorsFile | undefined;
      try {
        parsed = parseSafetensors(bytes, 'fuzz');
      } catch (error) {
        assert.ok(error instanceof Error && error.name === 'SafetensorsError', `${label}: ${String(error)}`);
        assert.ok(error.message.startsWith('fuzz: not a valid safetensors file: '), `${label}: ${error.message}`);
        assert.ok(!dataOnly, `${label}: changing tensor bytes must not make the file invalid (${error.message})`);
        problems.add(error.message);
      }
      const elapsed = performance.now() - start;
      slowest = Math.max(slowest, elapsed > LIMIT_MS ? bestOfThree(bytes) : elapsed);
      for (const [name, tensor] of parsed?.tensors ?? []) {
        assert.equal(tensor.data.length, tensor.shape.reduce((a, b) => a * b, 1), `${label}: tensor ${name}`);
      }
    }
    assert.ok(slowest < LIMIT_MS, `a mutant took ${slowest.toFixed(1)} ms to parse`);
    // The mutants reach every layer of checks, not just the JSON parser.
    const messages = [...problems].join('\n');
    for (const layer of ['too short', 'over the limit', 'runs past the end', 'not valid UTF-8', 'not valid JSON', 'has no',
      'which is not one of', 'not a non-negative integer', 'not a pair', 'reversed', 'past the end of the', 'bytes, but its',
      'overlaps', 'belong to no tensor', 'is not a string']) {
      assert.ok(messages.includes(layer), `no mutant was refused with '${layer}'`);
    }
  });
});

describe('safetensors refuses bad tensors to write', () => {
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ['data shorter than the shape', { x: { dtype: 'F32', shape: [3], data: new Float32Array(2) } }, /tensor "x": shape \[3\] of F32 needs 12 bytes, data has 8/],
    ['a shape too large to count', { x: { dtype: 'U8', shape: [2 ** 50, 2 ** 50], data: new Uint8Array(2) } }, /needs over 2\^53 bytes, data has 2/],
    ['the wrong array for the dtype', { x: { dtype: 'F32', shape: [1], data: new Float64Array(1) } }, /F32 data must be a Float32Array, got Float64Array/],
    ['F16 data of the wrong kind', { x: { dtype: 'F16', shape: [1], data: new Int16Array(1) } }, /F16 data must be a Uint16Array of raw words or a Float32Array, got Int16Array/],
    ['a plain array', { x: { dtype: 'F32', shape: [1], data: [1] } }, /F32 data must be a Float32Array, got \[1\]/],
    ['an unknown dtype', { x: { dtype: 'F8_E4M3', shape: [1], data: new Uint8Array(1) } }, /dtype "F8_E4M3" is not one of/],
    ['a negative dimension', { x: { dtype: 'U8', shape: [-1], data: new Uint8Array(0) } }, /shape \[-1\] is not a list of non-negative integers/],
    ['a tensor named __metadata__', { __metadata__: { dtype: 'U8', shape: [0], data: new Uint8Array(0) } }, /the name is reserved for the metadata/],
  ];
  for (const [what, tensors, message] of cases) {
    it(`refuses ${what}`, () => assert.throws(() => serializeSafetensors(tensors as Record<string, TensorToWrite>), message));
  }

  it('refuses metadata values that are not strings', () => {
    assert.throws(() => serializeSafetensors({}, { epoch: 3 } as unknown as Record<string, string>), /metadata "epoch" must be a string, got 3/);
  });
});

describe('safetensors writes atomically', () => {
  const tensors = { w: { dtype: 'F32' as const, shape: [2], data: new Float32Array([1, 2]) } };

  it('replaces the file and leaves nothing else behind', () => {
    const dir = tempDir();
    const path = join(dir, 'model.safetensors');
    writeSafetensors(path, tensors);
    writeSafetensors(path, { w: { dtype: 'F32', shape: [1], data: new Float32Array([3]) } });
    assert.deepEqual(readdirSync(dir), ['model.safetensors']);
    assert.deepEqual(Array.from(readSafetensors(path).tensors.get('w')!.data as Float32Array), [3]);
  });

  it('leaves the old file untouched when the tensors are bad', () => {
    const dir = tempDir();
    const path = join(dir, 'model.safetensors');
    writeSafetensors(path, tensors);
    const before = readFileSync(path);
    assert.throws(() => writeSafetensors(path, { w: { dtype: 'F32', shape: [3], data: new Float32Array(2) } }), /needs 12 bytes, data has 8/);
    assert.deepEqual(readFileSync(path), before);
    assert.deepEqual(readdirSync(dir), ['model.safetensors']);
  });

  it('removes its temporary file when the rename fails', () => {
    const dir = tempDir();
    const path = join(dir, 'taken');
    mkdirSync(path);
    writeFileSync(join(path, 'inside'), 'x');  // a non-empty directory cannot be renamed over
    assert.throws(() => writeSafetensors(path, tensors), { code: process.platform === 'win32' ? 'EPERM' : 'EISDIR' });
    assert.deepEqual(readdirSync(dir), ['taken']);
    assert.deepEqual(readdirSync(path), ['inside']);
  });

  it('creates nothing when the directory does not exist', () => {
    const dir = tempDir();
    assert.throws(() => writeFileAtomic(join(dir, 'missing', 'x.safetensors'), new Uint8Array(1)), { code: 'ENOENT' });
    assert.deepEqual(readdirSync(dir), []);
  });
});
