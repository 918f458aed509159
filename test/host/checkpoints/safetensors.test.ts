// safetensors: round trips, the exact bytes of the reference layout, atomic writes, and damaged
// or hostile files answered by errors that name the problem (including a seeded fuzz run).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  bf16ToFloat32, float32ToBf16, parseSafetensors, readSafetensors, serializeSafetensors, writeSafetensors,
  type TensorToWrite,
} from '../../../electron/host/checkpoints/safetensors';
import { rng } from '../../helpers/random';

function file(header: object, data: Uint8Array = new Uint8Array(0), headerLength?: number): Buffer {
  const json = Buffer.from(JSON.stringify(header));
  const out = Buffer.alloc(8 + json.length + data.length);
  out.writeBigUInt64LE(BigInt(headerLength ?? json.length), 0);
  json.copy(out, 8);
  out.set(data, 8 + json.length);
  return out;
}

const sample = new Map<string, TensorToWrite>([
  ['weight', { dtype: 'F32', shape: [2, 2], data: new Float32Array([1, -2, 3.5, 4]) }],
  ['counter', { dtype: 'I64', shape: [], data: new BigInt64Array([7n]) }],
  ['half', { dtype: 'BF16', shape: [3], data: float32ToBf16(new Float32Array([1, 1 + 2 ** -8, -0.5])) }],
  ['double', { dtype: 'F64', shape: [1, 2], data: new Float64Array([0.1, 1e300]) }],
  ['empty', { dtype: 'F32', shape: [0, 4], data: new Float32Array(0) }],
]);

describe('safetensors', () => {
  it('round-trips every dtype with metadata', () => {
    const parsed = parseSafetensors(serializeSafetensors(sample, { epoch: '3' }));
    assert.deepEqual(parsed.metadata, { epoch: '3' });
    assert.deepEqual([...parsed.tensors.keys()], ['counter', 'double', 'empty', 'half', 'weight']);
    assert.deepEqual(Array.from(parsed.tensors.get('weight')!.data as Float32Array), [1, -2, 3.5, 4]);
    assert.deepEqual(parsed.tensors.get('weight')!.shape, [2, 2]);
    assert.deepEqual(Array.from(parsed.tensors.get('counter')!.data as BigInt64Array), [7n]);
    assert.deepEqual(Array.from(parsed.tensors.get('half')!.data as Float32Array), [1, 1, -0.5]);
    assert.equal(parsed.tensors.get('half')!.dtype, 'BF16');
    assert.deepEqual(Array.from(parsed.tensors.get('double')!.data as Float64Array), [0.1, 1e300]);
    assert.deepEqual(parsed.tensors.get('empty')!.shape, [0, 4]);
  });

  it('writes the reference layout: sorted keys, space-padded header, 8-byte aligned data', () => {
    const bytes = serializeSafetensors(new Map([['a', { dtype: 'F32', shape: [1], data: new Float32Array([1]) }]]));
    const json = '{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}';
    const padded = json + ' '.repeat((8 - ((8 + json.length) % 8)) % 8);
    const expected = Buffer.alloc(8 + padded.length + 4);
    expected.writeBigUInt64LE(BigInt(padded.length), 0);
    expected.write(padded, 8);
    expected.writeFloatLE(1, 8 + padded.length);
    assert.deepEqual(bytes, expected);
  });

  it('reads unaligned tensor data', () => {
    const data = new Uint8Array(6);
    new DataView(data.buffer).setFloat32(2, 2.5, true);
    const parsed = parseSafetensors(file({ pad: { dtype: 'U8', shape: [2], data_offsets: [0, 2] },
      x: { dtype: 'F32', shape: [1], data_offsets: [2, 6] } }, data));
    assert.deepEqual(Array.from(parsed.tensors.get('x')!.data as Float32Array), [2.5]);
  });

  it('converts bf16 like PyTorch', () => {
    assert.deepEqual(Array.from(bf16ToFloat32(float32ToBf16(new Float32Array([3.14159, 1 + 3 * 2 ** -8])))), [3.140625, 1 + 2 ** -6]);
    assert.ok(Number.isNaN(bf16ToFloat32(float32ToBf16(new Float32Array([NaN])))[0]));
  });

  const bad: [string, Buffer, RegExp][] = [
    ['a file shorter than 8 bytes', Buffer.alloc(5), /shorter than the 8-byte header length/],
    ['an absurd header size', (() => { const b = Buffer.alloc(16); b.writeBigUInt64LE(1n << 60n); return b; })(), /exceeds 100000000 bytes/],
    ['a header longer than the file', file({}, new Uint8Array(0), 500), /runs past the end of the/],
    ['a header that is not JSON', (() => { const b = Buffer.from('\x04\0\0\0\0\0\0\0{{{{'); return b; })(), /not UTF-8 JSON/],
    ['a header that is a JSON array', file([] as unknown as object), /not a JSON object/],
    ['an unknown dtype', file({ x: { dtype: 'F8', shape: [1], data_offsets: [0, 1] } }, new Uint8Array(1)), /unknown dtype "F8"/],
    ['a negative dimension', file({ x: { dtype: 'U8', shape: [-1], data_offsets: [0, 1] } }, new Uint8Array(1)), /invalid shape/],
    ['offsets out of range', file({ x: { dtype: 'U8', shape: [8], data_offsets: [0, 8] } }, new Uint8Array(4)), /past the 4-byte data section/],
    ['reversed offsets', file({ x: { dtype: 'U8', shape: [0], data_offsets: [3, 1] } }, new Uint8Array(4)), /reversed data_offsets/],
    ['a size that does not match the shape', file({ x: { dtype: 'F32', shape: [2], data_offsets: [0, 4] } }, new Uint8Array(8)), /needs 8 bytes, its offsets span 4/],
    ['overlapping tensors', file({ a: { dtype: 'U8', shape: [4], data_offsets: [0, 4] }, b: { dtype: 'U8', shape: [2], data_offsets: [2, 4] } }, new Uint8Array(4)), /overlaps/],
    ['bytes that belong to no tensor', file({ a: { dtype: 'U8', shape: [2], data_offsets: [2, 4] } }, new Uint8Array(4)), /bytes 0\.\.2 of the data belong to no tensor/],
    ['a huge shape', file({ x: { dtype: 'F32', shape: [2 ** 40, 2 ** 40], data_offsets: [0, 4] } }, new Uint8Array(4)), /larger than the file/],
    ['non-string metadata', file({ __metadata__: { epoch: 3 } }), /metadata 'epoch' is not a string/],
  ];
  for (const [what, bytes, message] of bad) {
    it(`refuses ${what}`, () => assert.throws(() => parseSafetensors(bytes, 'test.safetensors'), message));
  }

  it('survives 3000 seeded mutations and truncations with clean errors only', () => {
    const valid = serializeSafetensors(sample, { epoch: '3' });
    const next = rng(2024);
    for (let i = 0; i < 3000; i++) {
      let bytes = Buffer.from(valid);
      const kind = i % 3;
      if (kind === 0) bytes = bytes.subarray(0, Math.floor(next() * bytes.length));
      else if (kind === 1) for (let j = 0; j < 1 + Math.floor(next() * 4); j++) bytes[Math.floor(next() * bytes.length)] = Math.floor(next() * 256);
      else bytes.writeUInt32LE(Math.floor(next() * 2 ** 32), Math.floor(next() * 2) * 4);
      try {
        parseSafetensors(bytes, 'fuzz');
      } catch (error) {
        assert.ok(error instanceof Error && /fuzz: not a valid safetensors file/.test(error.message), String(error));
      }
    }
  });

  it('writes atomically: a failed write leaves the old file and no temporary file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pix-st-'));
    const path = join(dir, 'model.safetensors');
    writeSafetensors(path, sample);
    const before = readFileSync(path);
    const broken = new Map([['x', { dtype: 'F32' as const, shape: [3], data: new Float32Array(2) }]]);
    assert.throws(() => writeSafetensors(path, broken), /needs 12 bytes, data has 8/);
    assert.deepEqual(readFileSync(path), before);
    assert.deepEqual(readdirSync(dir), ['model.safetensors']);
    assert.equal(readSafetensors(path).tensors.size, 5);
  });
});
