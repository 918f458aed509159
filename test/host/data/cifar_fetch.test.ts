// `pix data fetch-cifar` against a local server holding a CIFAR-100-shaped archive (the py2 fixture,
// packed by the system's tar): downloaded, checked against its MD5 and unpacked into place; nothing
// fetched when the files are there; a wrong MD5, a missing archive, a hostile name and a damaged
// header refused with nothing half-made left behind; a cancelled download leaving nothing; and the
// CLI's lines.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { fetchCifar100, tarFiles } from '../../../electron/host/data/cifar_fetch';
import { readCifar100 } from '../../../electron/host/data/cifar';
import { cifarArchive, md5, serveArchive, type ArchiveServer } from '../../helpers/cifar_archive';
import { fixturesDir } from '../../helpers/fixtures';

const root = join(__dirname, '..', '..', '..', '..');

describe('fetchCifar100', () => {
  const tgz = cifarArchive();
  let server: ArchiveServer;
  let base = '';
  // /stalled.tar.gz sends its first half, then nothing until the test's connection is closed.
  before(async () => {
    server = await serveArchive(tgz, (request, response) => {
      if (request.url !== '/stalled.tar.gz') return false;
      response.writeHead(200, { 'content-length': tgz.length });
      response.write(tgz.subarray(0, tgz.length >> 1));
      return true;
    });
    base = server.base;
  });
  after(() => server.close());

  it('downloads, checks the MD5 and unpacks what --data_set CIFAR reads; then fetches nothing more', async () => {
    const dataPath = join(mkdtempSync(join(tmpdir(), 'pix-fetch-')), 'data');
    const seen: number[] = [];
    const phases: string[] = [];
    const result = await fetchCifar100(dataPath, {
      url: `${base}/cifar-100-python.tar.gz`, md5: md5(tgz), progress: (received) => seen.push(received), phase: (phase) => phases.push(phase),
    });
    assert.deepEqual(result, { folder: join(dataPath, 'cifar-100-python'), fetched: true });
    assert.equal(seen.at(-1), tgz.length);
    assert.deepEqual(phases, ['verifying', 'unpacking']);
    for (const file of ['train', 'test', 'meta']) {
      assert.ok(readFileSync(join(dataPath, 'cifar-100-python', file)).equals(readFileSync(join(fixturesDir, 'cifar', 'py2', 'cifar-100-python', file))), file);
    }
    assert.equal(readCifar100(dataPath, 'test').samples.length, 20);
    assert.deepEqual(readdirSync(dataPath).sort(), ['cifar-100-python', 'cifar-100-python.tar.gz']);  // no .part left
    const count = server.requests();
    assert.deepEqual(await fetchCifar100(dataPath, { url: `${base}/cifar-100-python.tar.gz` }), { folder: join(dataPath, 'cifar-100-python'), fetched: false });
    assert.equal(server.requests(), count);
  });

  it('refuses an archive whose MD5 is not the expected one, keeping nothing', async () => {
    const dataPath = mkdtempSync(join(tmpdir(), 'pix-fetch-'));
    await assert.rejects(fetchCifar100(dataPath, { url: `${base}/cifar-100-python.tar.gz` }),
      /has MD5 [0-9a-f]{32}, not eb9058c3a382ffc7106e4002c42a8d85: it is not the published CIFAR-100 archive/);
    assert.deepEqual(readdirSync(dataPath), []);
    await assert.rejects(fetchCifar100(dataPath, { md5: 'xyz' }), /--md5 must be 32 hexadecimal digits, got 'xyz'/);
  });

  it('names a missing archive and an unreachable server', async () => {
    const dataPath = mkdtempSync(join(tmpdir(), 'pix-fetch-'));
    await assert.rejects(fetchCifar100(dataPath, { url: `${base}/nothing.tar.gz` }), /\/nothing\.tar\.gz answered 404/);
    await assert.rejects(fetchCifar100(dataPath, { url: 'http://127.0.0.1:1/x.tar.gz' }), /cannot reach http:\/\/127\.0\.0\.1:1\/x\.tar\.gz: .*download the archive elsewhere/);
    assert.deepEqual(readdirSync(dataPath), []);
  });

  it('stops a download when its signal is aborted, removing the partial file', async () => {
    const dataPath = mkdtempSync(join(tmpdir(), 'pix-fetch-'));
    const abort = new AbortController();
    const fetching = fetchCifar100(dataPath, {
      url: `${base}/stalled.tar.gz`, md5: md5(tgz), signal: abort.signal, progress: () => abort.abort(),
    });
    await assert.rejects(fetching, /pix data fetch-cifar: cancelled after \d+ bytes; the partial download was removed/);
    assert.deepEqual(readdirSync(dataPath), []);
    await assert.rejects(fetchCifar100(dataPath, { signal: AbortSignal.abort() }), /cancelled before the download began/);
  });

  it('reads tar headers with their checksums, refusing damage and names that leave the folder', async () => {
    const tar = spawnSync('tar', ['-cf', '-', '-C', join(fixturesDir, 'cifar', 'py2'), 'cifar-100-python'], { maxBuffer: 1 << 26 }).stdout;
    assert.deepEqual(tarFiles(tar, 'x.tar').map((f) => f.name).sort(), ['cifar-100-python/meta', 'cifar-100-python/test', 'cifar-100-python/train']);
    const damaged = Buffer.from(tar);
    damaged[10]! ^= 1;
    assert.throws(() => tarFiles(damaged, 'x.tar'), /x\.tar is damaged: the tar header at byte 0 fails its checksum/);
    // A member named ../evil, its checksum fixed up: refused before anything is written.
    const evil = Buffer.alloc(1024);
    evil.write('../evil', 0, 'latin1');
    evil.write('0000644\0', 100, 'latin1');
    evil.write('00000000000\0', 124, 'latin1');
    evil[156] = '0'.charCodeAt(0);
    evil.fill(0x20, 148, 156);
    let sum = 0;
    for (let i = 0; i < 512; i++) sum += evil[i]!;
    evil.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
    const dataPath = mkdtempSync(join(tmpdir(), 'pix-fetch-'));
    writeFileSync(join(dataPath, 'cifar-100-python.tar.gz'), gzipSync(evil));
    await assert.rejects(fetchCifar100(dataPath, { md5: md5(gzipSync(evil)) }), /holds \.\.\/evil, outside the folder it unpacks into/);
    assert.ok(!existsSync(join(dataPath, '..', 'evil')));
  });

  it('pix data fetch-cifar says what it did and how to train on it', async () => {
    const dataPath = mkdtempSync(join(tmpdir(), 'pix-fetch-'));
    const run = (args: string[]) => new Promise<{ status: number | null; stdout: string }>((resolve) => {
      const child = spawn(process.execPath, [join(root, 'bin', 'pix.js'), 'data', 'fetch-cifar', ...args]);
      let stdout = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d));
      child.on('close', (status) => resolve({ status, stdout }));
    });
    const first = await run(['--data_path', dataPath, '--url', `${base}/cifar-100-python.tar.gz`, '--md5', md5(tgz)]);
    assert.equal(first.status, 0);
    assert.match(first.stdout, /fetched and unpacked CIFAR-100 into .*cifar-100-python\ntrain on it with: pix train --data_set CIFAR --data_path .* --input_size 32/);
    const again = await run(['--data_path', dataPath]);
    assert.match(again.stdout, /already holds CIFAR-100's train, test and meta/);
  });
});
