// The .pth reader and writer against files PyTorch wrote (scripts/fixtures/generate_pth.py):
// values equal to the safetensors fixtures, every layout of state dict, shared storages and
// strided views, the legacy format; malicious pickles refused by name with nothing run; damaged
// and hostile files answered by PthErrors only (crafted cases and a seeded fuzz run); and files we
// write read back by our reader and, where Debian's PyTorch is installed, by torch.load(weights_only=True).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { extractStateDict, parsePth, PthError, pthMetadata, readPth } from '../../../electron/host/checkpoints/pth/read_pth';
import { PickledTensor } from '../../../electron/host/checkpoints/pth/tensors';
import { serializePth, writePth } from '../../../electron/host/checkpoints/pth/write_pth';
import { openZip } from '../../../electron/host/checkpoints/pth/zip';
import { buildZip, type ZipInput } from '../../../electron/host/checkpoints/pth/zip_write';
import type { StoredTensor, TensorData } from '../../../electron/host/checkpoints/safetensors';
import { fixturesDir, readFixture } from '../../helpers/fixtures';
import { rng } from '../../helpers/random';

const pthDir = join(fixturesDir, 'pth');
const fixture = (name: string) => join(pthDir, name);
const dir = mkdtempSync(join(tmpdir(), 'pix-pth-'));

function bytesOf(data: TensorData | Uint16Array): Buffer {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

function assertSameTensor(actual: StoredTensor | undefined, expected: StoredTensor | undefined, name: string): void {
  assert.ok(actual && expected, `${name} is missing`);
  assert.equal(actual.dtype, expected.dtype, name);
  assert.deepEqual(actual.shape, expected.shape, name);
  assert.ok(bytesOf(actual.data).equals(bytesOf(expected.data)), `${name}: values differ`);
}

/** The `state.` entries of a safetensors fixture, optionally only those under `under` (prefix removed). */
function fixtureState(model: string, under = ''): Map<string, StoredTensor> {
  const state = new Map<string, StoredTensor>();
  for (const [k, v] of readFixture(`${model}.safetensors`).tensors) {
    if (k.startsWith(`state.${under}`)) state.set(k.slice(`state.${under}`.length), v);
  }
  return state;
}

function asMap(tree: unknown): Map<string, StoredTensor> {
  return new Map(Object.entries(tree as Record<string, StoredTensor>));
}

function tensor(dtype: StoredTensor['dtype'], shape: number[], data: TensorData): PickledTensor {
  const t = new PickledTensor(dtype, shape);
  t.data = data;
  return t;
}

// Pickle pieces for crafted files.
const str = (s: string) => { const b = Buffer.from(s); const h = Buffer.alloc(5); h[0] = 0x58; h.writeUInt32LE(b.length, 1); return Buffer.concat([h, b]); };
const glob = (module: string, name: string) => Buffer.from(`c${module}\n${name}\n`);
const int = (v: number) => { const b = Buffer.alloc(5); b[0] = 0x4a; b.writeInt32LE(v, 1); return b; };
const pickle = (...parts: (Buffer | number[])[]) => Buffer.concat([Buffer.from([0x80, 2]), ...parts.map((p) => Buffer.from(p)), Buffer.from('.')]);
/** _rebuild_tensor_v2 over storage '0' (F32, `numel` elements) with the given size and stride (one dimension). */
const view = (numel: number, size: number, stride: number) => [
  glob('torch._utils', '_rebuild_tensor_v2'), [0x28, 0x28], str('storage'), glob('torch', 'FloatStorage'), str('0'), str('cpu'), int(numel),
  [0x74, 0x51], int(0), int(size), [0x85], int(stride), [0x85, 0x89], glob('collections', 'OrderedDict'), [0x29, 0x52, 0x74, 0x52],
] as (Buffer | number[])[];
const archive = (data: Buffer, extra: ZipInput[] = []) =>
  buildZip([{ name: 'archive/data.pkl', data }, ...extra, { name: 'archive/version', data: Buffer.from('3\n') }]);

describe('readPth', () => {
  it('reads a bare state dict: every tensor equals the seeded state of the safetensors fixture', () => {
    const tensors = extractStateDict(readPth(fixture('resnet_tiny.state_dict.pth')));
    const expected = fixtureState('resnet_tiny');
    assert.deepEqual([...tensors.keys()].sort(), [...expected.keys()].sort());
    for (const [key, value] of expected) assertSameTensor(tensors.get(key), value, key);
  });

  it("reads the official training layout: the model (not the EMA), epoch, args, the optimizer's real state", () => {
    const tree = readPth(fixture('pix_resnet_tiny_cs.training.pth')) as Record<string, any>;
    assert.deepEqual(Object.keys(tree), ['model', 'optimizer', 'epoch', 'scaler', 'args', 'model_ema']);
    assert.equal(tree.scaler, null);
    const { epoch, args } = pthMetadata(tree);
    assert.equal(epoch, 7);
    assert.equal(args?.model, 'pix_resnet_tiny_cs');
    assert.equal(args?.lr, 1e-3);
    assert.equal(args?.opt_betas, null);
    assert.equal(args?.model_ema, true);
    assert.equal(args?.model_key, 'model|module');

    const model = extractStateDict(tree);
    const ema = extractStateDict(tree, 'model_ema');
    assert.deepEqual([...model.keys()].sort(), [...fixtureState('pix_resnet_tiny_cs').keys()].sort());
    assert.ok(model.get('conv_stem.weight') === tree.model['conv_stem.weight']);
    assert.ok(!bytesOf(model.get('conv_stem.weight')!.data).equals(bytesOf(ema.get('conv_stem.weight')!.data)));

    const [group] = tree.optimizer.param_groups;
    assert.deepEqual(group.betas, [0.9, 0.999]);
    assert.equal(group.params.length, Object.keys(tree.optimizer.state).length);
    const first = tree.optimizer.state['0'];
    assert.deepEqual(Array.from(first.step.data), [1]);
    assert.deepEqual(first.exp_avg.shape, model.get('conv_stem.weight')!.shape);
  });

  it("strips DataParallel's module. prefix", () => {
    const tree = readPth(fixture('pix_resnet_tiny_cs.layer1.dataparallel.pth'));
    assert.ok(Object.keys(tree as object).every((k) => k.startsWith('module.')));
    const tensors = extractStateDict(tree);
    const expected = fixtureState('pix_resnet_tiny_cs', 'layer1.');
    assert.deepEqual([...tensors.keys()].sort(), [...expected.keys()].sort());
    for (const [key, value] of expected) assertSameTensor(tensors.get(key), value, key);
  });

  it('materializes shared storages, offsets, strides, broadcasts and every dtype', () => {
    const v = readPth(fixture('views.pth')) as Record<string, StoredTensor>;
    const values = (name: string) => Array.from(v[name]!.data as ArrayLike<number | bigint>);
    const base = Array.from({ length: 24 }, (_, i) => i);
    assert.deepEqual(values('base'), base);
    assert.deepEqual(values('row'), [12, 13, 14, 15, 16, 17]);
    assert.deepEqual(v.transposed!.shape, [6, 4]);
    assert.deepEqual(values('transposed'), Array.from({ length: 24 }, (_, i) => (i % 4) * 6 + Math.floor(i / 4)));
    assert.deepEqual(values('every_other'), [6, 8, 10, 12, 14, 16, 18, 20, 22]);
    assert.deepEqual(values('broadcast'), [1.5, -2.5, 3.5, 1.5, -2.5, 3.5]);
    assert.ok(v.tied === v.base, 'a tensor saved twice is one tensor');
    assert.ok(v.row!.data.buffer !== v.base!.data.buffer, 'views are materialized, not aliased');
    assert.deepEqual([v.scalar!.shape, values('scalar')], [[], [-7n]]);
    assert.deepEqual([v.empty!.shape, values('empty')], [[0, 3], []]);
    assert.deepEqual(values('f64'), [0.1, -1e300]);
    assert.deepEqual(values('f16'), [1.5, -2, 65504, 2 ** -24, 0, -0.25]);
    assert.deepEqual(values('f16_transposed'), [1.5, 2 ** -24, -2, 0, 65504, -0.25]);
    assert.deepEqual([v.f16!.dtype, v.bf16!.dtype], ['F16', 'BF16']);
    assert.deepEqual(values('bf16'), [1, -3.140625, 2 ** 100]);
    assert.deepEqual(values('i64'), [2n ** 62n, -(2n ** 63n)]);
    assert.deepEqual(values('i32'), [-(2 ** 31), 2 ** 31 - 1]);
    assert.deepEqual(values('i16'), [-32768, 32767]);
    assert.deepEqual(values('i8'), [-128, 127]);
    assert.deepEqual(values('u8'), [0, 255]);
    assert.deepEqual([v.bool!.dtype, values('bool')], ['BOOL', [1, 0, 1]]);
    assert.deepEqual([v.param!.shape, values('param')], [[1, 2], [0.25, 0.5]]);
  });

  it('reads the legacy format, deflated zips and the zip layout of PyTorch 2 to the same tensors', () => {
    const zip = asMap(readPth(fixture('views.pth')));
    for (const name of ['views.legacy.pth', 'views.deflated.pth', 'views.torch2.pth']) {
      const other = asMap(readPth(fixture(name)));
      assert.deepEqual([...other.keys()], [...zip.keys()], name);
      for (const [key, value] of zip) assertSameTensor(other.get(key), value, `${name}: ${key}`);
    }
  });
});

describe('extractStateDict', () => {
  const weight = tensor('F32', [1], new Float32Array([1]));

  it("takes the first of 'model|module' that the checkpoint has, else the checkpoint itself", () => {
    assert.deepEqual([...extractStateDict({ module: { w: weight }, epoch: 1 }).keys()], ['w']);
    assert.deepEqual([...extractStateDict({ model: { a: weight }, module: { b: weight } }).keys()], ['a']);
    assert.deepEqual([...extractStateDict({ 'module.w': weight, note: 'x' }).keys()], ['w']);
    assert.deepEqual([...extractStateDict({ model: { a: weight }, state_dict: { b: weight } }, 'state_dict').keys()], ['b']);
  });

  it('names what it found when there are no tensors', () => {
    assert.throws(() => extractStateDict({ state_dict: { w: weight }, epoch: 1 }), /no tensors found under 'model\|module' or at the top level \(keys: state_dict, epoch\)/);
    assert.throws(() => extractStateDict(weight), /a single tensor, not a state dict/);
  });
});

describe('malicious pickles', () => {
  const cases: [string, RegExp][] = [
    ['os_system', /refusing global os\.system/], ['posix_system', /refusing global posix\.system/],
    ['builtins_eval', /refusing global builtins\.eval/], ['subprocess_popen', /refusing global subprocess\.Popen/],
    ['inst_os_system', /refusing global os\.system/], ['obj_os_system', /refusing global os\.system/],
    ['hidden_in_state_dict', /refusing global os\.system/], ['legacy_os_system', /refusing global os\.system/],
    ['persistent_id', /refusing persistent id 'module'/],
  ];
  for (const [name, message] of cases) {
    it(`refuses ${name} by name and runs nothing`, () => {
      const witness = `/tmp/pix-pth-pwned-${name}`;
      rmSync(witness, { force: true });
      assert.throws(() => readPth(fixture(`malicious/${name}.pth`)), (e: unknown) => e instanceof PthError && message.test(e.message));
      assert.ok(!existsSync(witness), `${witness} was created: the payload ran`);
    });
  }

  it('keeps keys such as __proto__ as plain data', () => {
    const tree = parsePth(archive(pickle([0x7d], str('__proto__'), [0x7d], str('polluted'), [0x88, 0x73, 0x73])), 'x.pth') as Record<string, unknown>;
    assert.deepEqual(Object.keys(tree), ['__proto__']);
    assert.equal(Object.getPrototypeOf(tree), Object.prototype);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });
});

describe('damaged and hostile files', () => {
  const views = readFileSync(fixture('views.pth'));
  const zip = openZip(views, 'views.pth');
  const entries = zip.names.map((name) => ({ name, data: zip.read(name) }));
  const patched = (edit: (b: Buffer) => void) => { const b = Buffer.from(views); edit(b); return b; };
  const centralDirectory = views.indexOf(Buffer.from([0x50, 0x4b, 1, 2]));

  const bad: [string, Buffer, RegExp][] = [
    ['an empty file', Buffer.alloc(0), /not a PyTorch checkpoint: neither a zip archive nor a pickle/],
    ['a text file', Buffer.from('hello, world\n'), /not a PyTorch checkpoint/],
    ['a tar file', (() => { const b = Buffer.alloc(1024); b.write('ustar', 257); return b; })(), /tar format of the earliest torch\.save versions is not supported/],
    ['a truncated zip', views.subarray(0, views.length - 30), /zip container: no end-of-central-directory record/],
    ['a damaged entry', patched((b) => { b[70] ^= 0xff; }), /entry 'views\/data\.pkl' is damaged \(CRC mismatch\)/],
    ['an unsupported compression method', patched((b) => b.writeUInt16LE(12, centralDirectory + 10)), /uses compression method 12/],
    ['an encrypted entry', patched((b) => b.writeUInt16LE(1, centralDirectory + 8)), /is encrypted/],
    ['a missing storage record', buildZip(entries.filter((e) => e.name !== 'views/data/0')), /storage '0' has no entry views\/data\/0/],
    ['a big-endian checkpoint', buildZip([...entries, { name: 'views/byteorder', data: Buffer.from('big') }]), /big-endian checkpoints are not supported/],
    ['a zip without data.pkl', buildZip([{ name: 'archive/version', data: Buffer.from('3\n') }]), /the archive has no archive\/data\.pkl/],
    ['a view past its storage', archive(pickle(...view(1, 2, 1)), [{ name: 'archive/data/0', data: Buffer.alloc(4) }]),
      /size \[2\], stride \[1\] at offset 0 reaches element 1 of storage '0', which has 1/],
    ['a broadcast of 2^30 elements', archive(pickle(...view(1, 2 ** 30, 0)), [{ name: 'archive/data/0', data: Buffer.alloc(4) }]),
      /more memory than the file can justify/],
    ['a storage shorter than declared', archive(pickle(...view(2, 2, 1)), [{ name: 'archive/data/0', data: Buffer.alloc(4) }]),
      /storage '0' holds 4 bytes, 2 F32 elements need 8/],
    ['a protocol-0 opcode', archive(pickle(Buffer.from('I1\n'))), /unsupported pickle opcode INT/],
    ['BUILD on a plain dict', archive(pickle([0x7d, 0x7d, 0x62])), /BUILD on a dict is not supported/],
    ['a pickle without STOP', archive(Buffer.from([0x80, 2, 0x7d])), /the pickle is truncated/],
  ];
  for (const [what, bytes, message] of bad) {
    it(`refuses ${what}`, () => assert.throws(() => parsePth(bytes, 'x.pth'), (e: unknown) => e instanceof PthError && message.test(e.message) && e.message.startsWith('x.pth: ')));
  }

  it('reads zip64 end records', () => {
    // torch writes zip64 end records beside the classic one; saturating the classic one forces their use.
    const zip64 = patched((b) => {
      const end = b.length - 22;
      b.writeUInt16LE(0xffff, end + 8);
      b.writeUInt16LE(0xffff, end + 10);
      b.writeUInt32LE(0xffffffff, end + 12);
      b.writeUInt32LE(0xffffffff, end + 16);
    });
    assert.deepEqual(Object.keys(parsePth(zip64, 'x.pth') as object), Object.keys(readPth(fixture('views.pth')) as object));
  });

  /** Every outcome of a mutated file must be a value or a PthError naming the file: never another exception. */
  function fuzz(valid: Buffer, runs: number, seed: number, rebuild: (bytes: Buffer) => Buffer = (b) => b): void {
    const next = rng(seed);
    for (let i = 0; i < runs; i++) {
      let bytes = Buffer.from(valid);
      if (i % 3 === 0) bytes = bytes.subarray(0, Math.floor(next() * bytes.length));
      else if (i % 3 === 1) for (let j = 0; j < 1 + Math.floor(next() * 4); j++) bytes[Math.floor(next() * bytes.length)] = Math.floor(next() * 256);
      else bytes.writeUInt32LE(Math.floor(next() * 2 ** 32), Math.floor(next() * (bytes.length - 4)));
      try {
        parsePth(rebuild(bytes), 'fuzz');
      } catch (error) {
        assert.ok(error instanceof PthError && error.message.startsWith('fuzz: '), `run ${i}: ${String((error as Error).stack)}`);
      }
    }
  }

  it('survives 2000 seeded mutations and truncations of a PyTorch zip with clean errors only', () => fuzz(views, 2000, 1));

  it('survives 2000 seeded mutations of its pickle (re-zipped with valid CRCs) with clean errors only', () => {
    const pkl = zip.read('views/data.pkl');
    fuzz(pkl, 2000, 2, (mutated) => buildZip(entries.map((e) => (e.name === 'views/data.pkl' ? { name: e.name, data: mutated } : e))));
  });

  it("survives 200 seeded mutations of a training checkpoint's pickle (optimizer, Namespace) with clean errors only", () => {
    const training = openZip(readFileSync(fixture('pix_resnet_tiny_cs.training.pth')), 'training');
    const parts = training.names.map((name) => ({ name, data: training.read(name) }));
    const pkl = 'pix_resnet_tiny_cs.training/data.pkl';
    fuzz(training.read(pkl), 200, 4, (mutated) => buildZip(parts.map((e) => (e.name === pkl ? { name: pkl, data: mutated } : e))));
  });

  it('survives 2000 seeded mutations and truncations of a legacy file with clean errors only', () => {
    fuzz(readFileSync(fixture('views.legacy.pth')), 2000, 3);
  });
});

describe('writePth', () => {
  const views = asMap(readPth(fixture('views.pth')));

  it('round-trips every dtype and layout through our reader', () => {
    const tree = parsePth(serializePth(views), 'x.pth');
    const back = asMap(tree);
    assert.deepEqual([...back.keys()], [...views.keys()]);
    for (const [key, value] of views) assertSameTensor(back.get(key), value, key);
  });

  it('writes the official layout {model, epoch} when given an epoch', () => {
    const path = join(dir, 'resnet_tiny.pth');
    const state = fixtureState('resnet_tiny');
    writePth(path, state, { epoch: 12 });
    const tree = readPth(path) as Record<string, unknown>;
    assert.deepEqual(Object.keys(tree), ['model', 'epoch']);
    assert.equal(pthMetadata(tree).epoch, 12);
    const back = extractStateDict(tree);
    for (const [key, value] of state) assertSameTensor(back.get(key), value, key);
  });

  it('refuses a tensor whose data does not fit its shape', () => {
    assert.throws(() => serializePth(new Map([['w', { dtype: 'F32', shape: [3], data: new Float32Array(2) }]])), /tensor 'w': shape \[3\] F32 does not match its 8 bytes/);
  });

  const python = '/usr/bin/python3';
  const torchMissing = spawnSync(python, ['-c', 'import torch'], { encoding: 'utf8' }).status !== 0;
  it('writes files that torch.load(weights_only=True) reads, to the same bytes', {
    skip: torchMissing && `${python} has no PyTorch (apt-get install python3-torch) to check our files against`,
  }, () => {
    const path = join(dir, 'views-for-torch.pth');
    writePth(path, views, { epoch: 3 });
    const script = [
      'import hashlib, json, sys, torch',
      'c = torch.load(sys.argv[1], weights_only=True)',
      'out = {"epoch": c["epoch"], "tensors": []}',
      'for k, t in c["model"].items():',
      '    raw = t.contiguous().reshape(-1).view(torch.uint8).numpy().tobytes()',
      '    out["tensors"].append([k, str(t.dtype), list(t.shape), hashlib.sha256(raw).hexdigest()])',
      'print(json.dumps(out))',
    ].join('\n');
    const result = spawnSync(python, ['-c', script, path], { encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
    const loaded = JSON.parse(result.stdout) as { epoch: number; tensors: [string, string, number[], string][] };
    assert.equal(loaded.epoch, 3);
    const torchDType: Record<string, string> = {
      F32: 'torch.float32', F64: 'torch.float64', F16: 'torch.float16', BF16: 'torch.bfloat16', I64: 'torch.int64',
      I32: 'torch.int32', I16: 'torch.int16', I8: 'torch.int8', U8: 'torch.uint8', BOOL: 'torch.bool',
    };
    // Our bytes for each tensor are the file's data/<n> record, which the reader has checked against the values above.
    const records = openZip(readFileSync(path), path);
    const expected = [...views].map(([name, t], i) => [name, torchDType[t.dtype], t.shape,
      createHash('sha256').update(records.read(`archive/data/${i}`)).digest('hex')]);
    assert.deepEqual(loaded.tensors, expected);
  });
});
