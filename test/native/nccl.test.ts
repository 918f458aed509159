// NCCL's loading and the binding's argument checks, on any machine (native/src/distributed,
// native/src/binding/js_nccl.cc). The engine opens libnccl.so.2 at run time; each case runs in a
// child process whose environment names where NCCL is (NCCL_ROOT) and drops the folders holding a
// libnccl.so.2 from the loader's path (LD_LIBRARY_PATH), so the real library of a GPU machine does
// not interfere. Stand-in libraries
// compiled here with the C compiler stand for NCCL: one lacking entry points, one complete that
// hands out a known id and answers ncclCommInitRank with an error. The collectives themselves
// need a GPU: test/native/nccl.cuda.test.ts.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { engineInfo, loadEngine } from '../../electron/host/engine/addon';

const addon = engineInfo().addonPath;
const cudaBuild = engineInfo().backends.cuda.compiled;
const usableGpu = cudaBuild && engineInfo().backends.cuda.devices.length > 0;
const NO_CUDA = /this build of the PiX engine has no CUDA backend/;

/** Runs `body` (JS with `e` the engine) in a fresh process with NCCL_ROOT = root; returns what it printed as JSON. */
function inChild(root: string | undefined, body: string): unknown {
  const loaderPath = (process.env.LD_LIBRARY_PATH ?? '').split(':').filter((dir) => dir && !existsSync(join(dir, 'libnccl.so.2')));
  const env: NodeJS.ProcessEnv = { ...process.env, LD_LIBRARY_PATH: loaderPath.join(':') };
  delete env.NCCL_ROOT;
  if (root !== undefined) env.NCCL_ROOT = root;
  const script = `const e = require(${JSON.stringify(addon)});
    const run = (f) => { try { return { value: f() }; } catch (err) { return { error: err.message, type: err.constructor.name }; } };
    process.stdout.write(JSON.stringify((() => { ${body} })()));`;
  const child = spawnSync(process.execPath, ['-e', script], { env, encoding: 'utf8', timeout: 60_000 });
  assert.equal(child.status, 0, child.stderr);
  return JSON.parse(child.stdout);
}

interface Status { available: boolean; path: string | null; version: string | null; reason: string | null }

function emptyDir(): string {
  return mkdtempSync(join(tmpdir(), 'pix-nccl-'));
}

/** A stand-in libnccl.so.2 under <root>/lib, or null when there is no C compiler here. */
function stubLibrary(options: { partial?: boolean; version?: number } = {}): string | null {
  const root = emptyDir();
  mkdirSync(join(root, 'lib'));
  const source = join(root, 'stub.c');
  writeFileSync(source, `
#include <stddef.h>
typedef struct { char internal[128]; } ncclUniqueId;
int ncclGetVersion(int* version) { *version = ${options.version ?? 22703}; return 0; }
${options.partial ? '' : `
static int id_ok(const ncclUniqueId* id) {
  for (int i = 0; i < 128; ++i) if ((unsigned char)id->internal[i] != (unsigned char)(i * 7 + 3)) return 0;
  return 1;
}
int ncclGetUniqueId(ncclUniqueId* id) { for (int i = 0; i < 128; ++i) id->internal[i] = (char)(i * 7 + 3); return 0; }
/* The id arrives by value, intact: then the answer is NCCL's to two ranks on one GPU. */
int ncclCommInitRank(void** comm, int nranks, ncclUniqueId id, int rank) { *comm = NULL; return id_ok(&id) ? 5 : 4; }
int ncclAllReduce(const void* s, void* r, size_t n, int t, int op, void* c, void* st) { return 3; }
int ncclBroadcast(const void* s, void* r, size_t n, int t, int root, void* c, void* st) { return 3; }
int ncclCommDestroy(void* c) { return 0; }
int ncclCommAbort(void* c) { return 0; }
const char* ncclGetErrorString(int result) { return result == 5 ? "invalid usage (stub)" : "other error (stub)"; }
const char* ncclGetLastError(void* comm) { return "Duplicate GPU detected : rank 1 and rank 0 both on CUDA device 1000 (stub)"; }
`}`);
  const compiled = spawnSync('cc', ['-shared', '-fPIC', '-o', join(root, 'lib', 'libnccl.so.2'), source], { encoding: 'utf8' });
  if (compiled.error) return null;
  assert.equal(compiled.status, 0, compiled.stderr);
  return root;
}
const haveCompiler = !spawnSync('cc', ['--version']).error;
const needsCompiler = haveCompiler ? false : 'no C compiler (cc) here to build a stand-in libnccl.so.2';

describe('NCCL library loading', () => {
  it('reports its status without throwing, in every build', () => {
    const status = loadEngine().ncclLibraryStatus();
    assert.equal(typeof status.available, 'boolean');
    if (status.available) assert.match(status.version!, /^2\.\d+\.\d+$/);
    else assert.match(status.reason!, /^NCCL /);
  });

  it('says what is missing and where it looked when NCCL_ROOT is an empty folder', (t) => {
    const root = emptyDir();
    const status = inChild(root, 'return e.ncclLibraryStatus();') as Status;
    if (status.available) return t.skip(`libnccl.so.2 is found without NCCL_ROOT or LD_LIBRARY_PATH here (${status.path})`);
    assert.equal(status.path, null);
    assert.match(status.reason!, /^NCCL library libnccl\.so\.2 not found: not in NCCL_ROOT=.* \(lib\/ or lib64\/\) nor on the dynamic loader's path/);
    assert.ok(status.reason!.includes(root), status.reason!);
    assert.match(status.reason!, /set NCCL_ROOT to the NCCL install holding lib\/libnccl\.so\.2/);
  });

  it('says so when NCCL_ROOT is unset and the loader cannot find it', (t) => {
    const status = inChild(undefined, 'return e.ncclLibraryStatus();') as Status;
    if (status.available) return t.skip(`libnccl.so.2 is on the loader's default path here (${status.path})`);
    assert.match(status.reason!, /^NCCL library libnccl\.so\.2 not found: NCCL_ROOT is not set/);
  });

  it('names a libnccl.so.2 that is there but cannot be loaded', () => {
    const root = emptyDir();
    mkdirSync(join(root, 'lib'));
    writeFileSync(join(root, 'lib', 'libnccl.so.2'), 'not a shared library');
    const status = inChild(root, 'return e.ncclLibraryStatus();') as Status;
    assert.equal(status.available, false);
    assert.match(status.reason!, new RegExp(`^NCCL library ${join(root, 'lib', 'libnccl.so.2')} could not be loaded: `));
  });

  it('names the first missing entry point of a library that is not NCCL 2', { skip: needsCompiler }, () => {
    const root = stubLibrary({ partial: true })!;
    const status = inChild(root, 'return e.ncclLibraryStatus();') as Status;
    assert.equal(status.available, false);
    assert.match(status.reason!, /^NCCL library .*libnccl\.so\.2 has no symbol ncclGetUniqueId: it is not an NCCL 2 library/);
  });

  it('loads a complete library from NCCL_ROOT/lib and reads its version in both encodings', { skip: needsCompiler }, () => {
    const root = stubLibrary()!;
    const status = inChild(root, 'return e.ncclLibraryStatus();') as Status;
    assert.deepEqual(status, { available: true, path: join(root, 'lib', 'libnccl.so.2'), version: '2.27.3', reason: null });
    const old = inChild(stubLibrary({ version: 2708 })!, 'return e.ncclLibraryStatus();') as Status;
    assert.equal(old.version, '2.7.8', 'NCCL before 2.9 encodes X*1000 + Y*100 + Z');
  });
});

describe('ncclUniqueId', () => {
  it('without NCCL: the loader\'s message in a CUDA build, the missing CUDA backend otherwise', () => {
    const result = inChild(emptyDir(), 'return [e.ncclLibraryStatus().available, run(() => e.ncclUniqueId())];') as [boolean, { error?: string }];
    if (!cudaBuild) assert.match(result[1].error!, NO_CUDA);
    else if (!result[0]) assert.match(result[1].error!, /^NCCL library libnccl\.so\.2 not found: /);
  });

  it('returns the library\'s 128 bytes as a Buffer (CUDA builds; no GPU needed)', { skip: needsCompiler }, () => {
    const result = inChild(stubLibrary()!, 'return run(() => { const id = e.ncclUniqueId(); return [Buffer.isBuffer(id), Array.from(id)]; });') as
      { value?: [boolean, number[]]; error?: string };
    if (!cudaBuild) return assert.match(result.error!, NO_CUDA);
    assert.deepEqual(result.value, [true, Array.from({ length: 128 }, (_, i) => (i * 7 + 3) % 256)]);
  });
});

describe('NcclComm arguments', () => {
  // Checked before anything needs CUDA or NCCL, so these read the same in every build. Invalid
  // arguments only: a valid id would make a GPU machine's real NCCL wait for the other ranks.
  const { NcclComm } = loadEngine();
  const id = Buffer.alloc(128);
  const cases: [string, () => unknown, RegExp][] = [
    ['no arguments', () => new (NcclComm as unknown as new () => unknown)(), /^new NcclComm: 'id' must be the 128-byte Buffer ncclUniqueId\(\) returns$/],
    ['a short id', () => new NcclComm(Buffer.alloc(127), 1, 0, 0), /'id' must be the 128-byte Buffer/],
    ['an id that is not bytes', () => new NcclComm(new Float32Array(32) as unknown as Uint8Array, 1, 0, 0), /'id' must be the 128-byte Buffer/],
    ['world size 0', () => new NcclComm(id, 0, 0, 0), /^new NcclComm: 'worldSize' must be an integer >= 1$/],
    ['a fractional world size', () => new NcclComm(id, 1.5, 0, 0), /'worldSize' must be an integer >= 1/],
    ['a rank outside the world', () => new NcclComm(id, 2, 2, 0), /^new NcclComm: 'rank' must be an integer in \[0, 1\]$/],
    ['a negative rank', () => new NcclComm(id, 2, -1, 0), /'rank' must be an integer in \[0, 1\]/],
    ['a negative device', () => new NcclComm(id, 2, 1, -1), /^new NcclComm: 'deviceIndex' must be an integer >= 0$/],
    ['a device that is not a number', () => new NcclComm(id, 2, 1, '0' as unknown as number), /'deviceIndex' must be an integer >= 0/],
  ];
  for (const [what, make, message] of cases) {
    it(`refuses ${what} with a TypeError`, () => assert.throws(make, (error: Error) => error instanceof TypeError && message.test(error.message)));
  }

  it('with valid arguments: refused without CUDA, or with the loader\'s message without NCCL', () => {
    // Where NCCL loads anyway (a CUDA build on a machine whose loader finds it), nothing is tried.
    const result = inChild(emptyDir(), `const loads = e.ncclLibraryStatus().available && e.engineInfo().backends.cuda.compiled;
      return [loads, loads ? null : run(() => new e.NcclComm(Buffer.alloc(128), 2, 1, 0))];`) as [boolean, { error?: string; type?: string } | null];
    if (result[0]) return;
    assert.match(result[1]!.error!, cudaBuild ? /^NCCL library libnccl\.so\.2 not found: / : NO_CUDA);
    assert.equal(result[1]!.type, 'Error');
  });

  it('reports a failed ncclCommInitRank with NCCL\'s words and the rank, and says what a duplicate GPU means',
    { skip: !haveCompiler ? needsCompiler : usableGpu ? false : 'needs a usable CUDA device (the communicator joins on one)' }, () => {
      // The stand-in answers an intact id with ncclInvalidUsage and a duplicate-GPU last error.
      const result = inChild(stubLibrary()!, 'return run(() => new e.NcclComm(e.ncclUniqueId(), 2, 1, 0));') as { error?: string };
      assert.equal(result.error, 'NCCL error in ncclCommInitRank (rank 1 of 2 on cuda:0): invalid usage (stub) (Duplicate GPU detected : ' +
        'rank 1 and rank 0 both on CUDA device 1000 (stub)); NCCL gives each rank a GPU of its own: with --device cuda rank r uses cuda:LOCAL_RANK');
    });
});
