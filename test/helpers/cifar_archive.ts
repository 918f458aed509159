// A CIFAR-100-shaped archive (the py2 fixture's cifar-100-python/, packed by the system's tar as the
// published archive is) and a local server holding it, for the fetch tests of the CLI and the host.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { fixturesDir } from './fixtures';

/** The py2 fixture's cifar-100-python/ as a gzipped tar of that folder. */
export function cifarArchive(): Buffer {
  const dir = mkdtempSync(join(tmpdir(), 'pix-cifar-tar-'));
  cpSync(join(fixturesDir, 'cifar', 'py2', 'cifar-100-python'), join(dir, 'cifar-100-python'), { recursive: true });
  const tar = spawnSync('tar', ['-cf', '-', '-C', dir, 'cifar-100-python'], { maxBuffer: 1 << 26 });
  assert.equal(tar.status, 0, String(tar.stderr));
  return gzipSync(tar.stdout);
}

export const md5 = (bytes: Buffer) => createHash('md5').update(bytes).digest('hex');

export interface ArchiveServer {
  /** http://127.0.0.1:port */
  base: string;
  /** Requests answered so far. */
  requests(): number;
  close(): Promise<void>;
}

/**
 * Serves `archive` at /cifar-100-python.tar.gz (with its length) and 404 elsewhere. `route` may
 * answer a request itself first (a slow or stalled download); it returns true when it did.
 */
export async function serveArchive(archive: Buffer, route?: (request: IncomingMessage, response: ServerResponse) => boolean): Promise<ArchiveServer> {
  let requests = 0;
  const server = createServer((request, response) => {
    requests++;
    if (route?.(request, response)) return;
    if (request.url === '/cifar-100-python.tar.gz') {
      response.writeHead(200, { 'content-length': archive.length });
      response.end(archive);
    } else {
      response.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests: () => requests,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
