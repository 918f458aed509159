// The workbench's CIFAR-100 fetch through serve mode over a real host, from a local server holding
// a CIFAR-100-shaped archive: progress events through downloading, verifying and unpacking, then
// done, after which the dataset check finds CIFAR-100; a second fetch into the same folder refused
// with 409 while the first runs, then cancelled leaving nothing; a running fetch listed as it stands
// (as a reloaded page learns of it), gone from the list once cancelled; a wrong MD5 and a 404
// failing with their reasons, nothing kept; paths the client got wrong refused before anything starts.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { CifarFetchState, DatasetCheck } from '../../../shared/api';
import { createHost, type Host } from '../../../electron/host/api';
import { startServer, type RunningServer } from '../../../electron/host/serve/server';
import { cifarArchive, md5, serveArchive, type ArchiveServer } from '../../helpers/cifar_archive';
import { callApi } from '../serve/api_call';
import { makeRendererBundle } from '../serve/fake_host';

/** What the archive's address answers next: the archive, its first half and then nothing, other bytes, or 404. */
type Mode = 'archive' | 'stall' | 'corrupt' | 'missing';

describe('fetchCifar over serve mode', () => {
  const tgz = cifarArchive();
  let mode: Mode = 'archive';
  let work: string;
  let archiveServer: ArchiveServer;
  let host: Host;
  let server: RunningServer;
  const events: { event: 'cifarFetchProgress' | 'cifarFetchDone'; state: CifarFetchState }[] = [];

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'pix-cifar-fetches-'));
    archiveServer = await serveArchive(tgz, (request, response) => {
      if (request.url !== '/cifar-100-python.tar.gz' || mode === 'archive') return false;
      if (mode === 'missing') {
        response.writeHead(404).end();
      } else if (mode === 'corrupt') {
        const other = Buffer.from(tgz);
        other[other.length >> 1]! ^= 1;
        response.writeHead(200, { 'content-length': other.length }).end(other);
      } else {
        response.writeHead(200, { 'content-length': tgz.length });
        response.write(tgz.subarray(0, tgz.length >> 1));
      }
      return true;
    });
    host = createHost({ home: join(work, 'home'), cifarSource: { url: `${archiveServer.base}/cifar-100-python.tar.gz`, md5: md5(tgz) } });
    for (const event of ['cifarFetchProgress', 'cifarFetchDone'] as const) host.on(event, (state) => events.push({ event, state }));
    server = await startServer({ client: host, rendererRoot: makeRendererBundle().root, port: 0 });
  });

  after(async () => {
    await server?.close();
    await host?.close();
    await archiveServer?.close();
    rmSync(work, { recursive: true, force: true });
  });

  /** The events of the fetch into dataPath, once its cifarFetchDone has arrived. */
  const finished = async (dataPath: string) => {
    for (let i = 0; i < 500; i++) {
      const mine = events.filter((e) => e.state.dataPath === dataPath);
      if (mine.some((e) => e.event === 'cifarFetchDone')) return mine;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    throw new Error(`the fetch into ${dataPath} never ended`);
  };

  it('reports bytes, then verifying and unpacking, then done; the folder then checks out as CIFAR-100', async () => {
    mode = 'archive';
    const dataPath = join(work, 'cifar');  // made by the fetch
    const started = await callApi(server, 'fetchCifar', { dataPath });
    assert.equal(started.status, 200, started.error);
    assert.deepEqual({ ...(started.body as CifarFetchState), startedAt: 0 },
      { dataPath, phase: 'downloading', receivedBytes: 0, totalBytes: null, fetched: null, error: null, startedAt: 0, finishedAt: null });

    const mine = await finished(dataPath);
    const progress = mine.filter((e) => e.event === 'cifarFetchProgress').map((e) => e.state);
    assert.ok(progress.some((s) => s.phase === 'downloading' && s.receivedBytes > 0 && s.totalBytes === tgz.length), JSON.stringify(progress));
    assert.deepEqual(progress.map((s) => s.phase).filter((p, i, all) => p !== all[i - 1]), ['downloading', 'verifying', 'unpacking']);
    assert.equal(progress.at(-1)!.receivedBytes, tgz.length);
    const done = mine.at(-1)!;
    assert.equal(done.event, 'cifarFetchDone');
    assert.deepEqual([done.state.phase, done.state.fetched, done.state.error], ['done', true, null]);
    assert.ok(done.state.finishedAt! >= done.state.startedAt);
    assert.deepEqual(readdirSync(join(dataPath, 'cifar-100-python')).sort(), ['meta', 'test', 'train']);

    const check = (await callApi(server, 'checkDataset', { path: dataPath })).body as DatasetCheck;
    assert.deepEqual(check.ok && [check.dataSet, check.valImages], ['CIFAR', 20]);
    // Fetching again finds the files there and downloads nothing.
    const requests = archiveServer.requests();
    assert.equal((await callApi(server, 'fetchCifar', { dataPath })).status, 200);
    const again = (await finished(dataPath)).filter((e) => e.event === 'cifarFetchDone').at(-1)!;
    assert.deepEqual([again.state.phase, again.state.fetched], ['done', false]);
    assert.equal(archiveServer.requests(), requests);
  });

  it('refuses a second fetch into the same folder while one runs (409), and cancels it leaving nothing', async () => {
    mode = 'stall';
    const dataPath = mkdtempSync(join(work, 'stalled-'));
    assert.equal((await callApi(server, 'fetchCifar', { dataPath })).status, 200);
    for (const spelling of [dataPath, `${dataPath}/`, join(dataPath, '..', dataPath.split('/').at(-1)!)]) {
      const second = await callApi(server, 'fetchCifar', { dataPath: spelling });
      assert.equal(second.status, 409, spelling);
      assert.match(second.error!, new RegExp(`CIFAR-100 is already being fetched into ${dataPath} \\(downloading\\): wait for it to end or cancel it`));
    }
    const other = mkdtempSync(join(work, 'other-'));  // another folder is not held up by it
    assert.equal((await callApi(server, 'fetchCifar', { dataPath: other })).status, 200);

    for (const folder of [dataPath, other]) {
      const cancelled = await callApi(server, 'cancelCifarFetch', { dataPath: folder });
      assert.equal(cancelled.status, 200, cancelled.error);
      const done = (await finished(folder)).at(-1)!.state;
      assert.equal(done.phase, 'cancelled');
      assert.match(done.error!, /cancelled/);
      assert.deepEqual(readdirSync(folder), []);
    }
    const none = await callApi(server, 'cancelCifarFetch', { dataPath });
    assert.deepEqual([none.status, none.error], [404, `no CIFAR-100 fetch is running into ${dataPath}`]);
  });

  it('lists a running fetch with its latest bytes, and no more once it is cancelled', async () => {
    mode = 'stall';
    const dataPath = mkdtempSync(join(work, 'listed-'));
    assert.deepEqual(await callApi(server, 'listCifarFetches'), { status: 200, error: undefined, body: [] });
    const started = (await callApi(server, 'fetchCifar', { dataPath })).body as CifarFetchState;
    // The stalled download holds its first half at once, while the progress events, a few a second
    // at most, may not have said so yet: the list has the fetch as it stands.
    const half = tgz.length >> 1;
    let listed: CifarFetchState[] = [];
    for (let i = 0; i < 500 && listed[0]?.receivedBytes !== half; i++) {
      if (i > 0) await new Promise((resolve) => setTimeout(resolve, 10));
      listed = (await callApi(server, 'listCifarFetches')).body as CifarFetchState[];
    }
    assert.deepEqual(listed, [{ ...started, receivedBytes: half, totalBytes: tgz.length }]);

    assert.equal((await callApi(server, 'cancelCifarFetch', { dataPath })).status, 200);
    assert.equal((await finished(dataPath)).at(-1)!.state.phase, 'cancelled');
    assert.deepEqual((await callApi(server, 'listCifarFetches')).body, []);
  });

  it('fails on an archive whose MD5 is not the published one, and on a 404, keeping nothing', async () => {
    for (const [wrong, reason] of [
      ['corrupt', new RegExp(`has MD5 [0-9a-f]{32}, not ${md5(tgz)}: it is not the published CIFAR-100 archive`)],
      ['missing', /cifar-100-python\.tar\.gz answered 404/],
    ] as const) {
      mode = wrong;
      const dataPath = mkdtempSync(join(work, `${wrong}-`));
      assert.equal((await callApi(server, 'fetchCifar', { dataPath })).status, 200);
      const done = (await finished(dataPath)).at(-1)!;
      assert.deepEqual([done.event, done.state.phase, done.state.fetched], ['cifarFetchDone', 'failed', null]);
      assert.match(done.state.error!, reason);
      assert.deepEqual(readdirSync(dataPath), [], wrong);
    }
  });

  it('refuses a relative path, a file, and a folder it cannot write, before anything starts', async () => {
    const count = events.length;
    const relative = await callApi(server, 'fetchCifar', { dataPath: 'data/cifar' });
    assert.deepEqual([relative.status, relative.error], [400, "dataPath: 'data/cifar' must be an absolute path"]);
    const file = join(work, 'a-file');
    writeFileSync(file, '');
    const notFolder = await callApi(server, 'fetchCifar', { dataPath: file });
    assert.deepEqual([notFolder.status, notFolder.error], [400, `dataPath: ${file} is not a folder`]);
    const inside = await callApi(server, 'fetchCifar', { dataPath: join(file, 'cifar') });
    assert.deepEqual([inside.status, inside.error], [400, `dataPath: ${file} is not a folder`]);
    assert.equal((await callApi(server, 'fetchCifar', {})).status, 400);
    assert.equal(events.length, count);
  });
});
