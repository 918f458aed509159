// `pix serve` as a user runs it: it prints a URL that works (page, token, API), refuses bad flags,
// and on Ctrl-C closes the server and the host and exits 0.
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

const projectRoot = join(__dirname, '..', '..', '..');
const pix = join(projectRoot, 'bin', 'pix.js');

interface Served {
  pageUrl: string;
  /** Ctrl-C, then what the process printed and its exit code. */
  interrupt(): Promise<{ code: number | null; stdout: string; stderr: string }>;
}

/** Starts `pix serve` and resolves once it has printed the URL to open. */
function startPixServe(args: string[]): Promise<Served> {
  const child = spawn(process.execPath, [pix, 'serve', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      const match = /Open this URL \(it carries the access token\): (http:\/\/[\d.]+:\d+\/#token=[A-Za-z0-9_-]{43})\n/.exec(stdout);
      if (match) {
        resolve({
          pageUrl: match[1],
          async interrupt() {
            child.kill('SIGINT');
            return { code: await exited, stdout, stderr };
          },
        });
      }
    });
    child.on('exit', (code) => reject(new Error(`pix serve exited (${code}) before printing its URL:\n${stdout}${stderr}`)));
  });
}

describe('pix serve', () => {
  let home: string;

  before(() => {
    home = mkdtempSync(join(tmpdir(), 'pix-serve-cli-'));
    // pix serve serves the built renderer; build it the way `npm run build` does when it is missing.
    if (!existsSync(join(projectRoot, 'dist', 'renderer', 'index.html'))) {
      execFileSync(process.execPath, [join(projectRoot, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--config', 'renderer/vite.config.mts', '--logLevel', 'error'],
        { cwd: projectRoot, stdio: 'inherit' });
    }
  });
  after(() => rmSync(home, { recursive: true, force: true }));

  it('prints a working URL and exits cleanly on SIGINT', async () => {
    const served = await startPixServe(['--port', '0', '--home', home]);
    const url = new URL(served.pageUrl);
    const token = url.hash.slice('#token='.length);

    const page = await fetch(new URL('/', url));
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<div id="root">/);
    assert.match(String(page.headers.get('content-security-policy')), /frame-ancestors 'none'/);
    assert.equal((await fetch(new URL('/api/session', url), { headers: { Authorization: `Bearer ${token}` } })).status, 204);
    assert.equal((await fetch(new URL('/api/session', url))).status, 401);
    const models = await fetch(new URL('/api/listModels', url), { method: 'POST', headers: { Authorization: `Bearer ${token}` } });
    assert.equal(models.status, 200, await models.clone().text());
    assert.ok(((await models.json()) as { name: string }[]).some((m) => m.name === 'pix_resnet50_cs'));

    const { code, stdout, stderr } = await served.interrupt();
    assert.equal(code, 0, stderr);
    assert.match(stdout, /SIGINT: stopping/);
    assert.equal(stderr, '', 'a loopback bind warns about nothing');
    await assert.rejects(fetch(new URL('/', url)), 'the port is closed');
  });

  it('warns loudly when bound beyond this machine', async () => {
    const served = await startPixServe(['--host', '0.0.0.0', '--port', '0', '--home', home]);
    const { code, stderr } = await served.interrupt();
    assert.equal(code, 0, stderr);
    assert.match(stderr, /WARNING: serving on 0\.0\.0\.0, reachable from other machines, over plain HTTP/);
    assert.match(stderr, /ssh -L \d+:127\.0\.0\.1:\d+/);
  });

  it('refuses a port that is not one, naming the flag', () => {
    const result = spawnSync(process.execPath, [pix, 'serve', '--port', '80a', '--home', home], { encoding: 'utf8' });
    assert.equal(result.status, 1);
    assert.match(result.stderr, /--port must be an integer from 0 to 65535 .*got '80a'/);
  });
});
