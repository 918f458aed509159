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
    const child = spawn(process.execPath, [pix, 'serve', '--port', '0', '--home', home], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const pageUrl = await new Promise<string>((resolve, reject) => {
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        stdout += chunk;
        const match = /Open this URL \(it carries the access token\): (http:\/\/127\.0\.0\.1:\d+\/#token=[A-Za-z0-9_-]{43})\n/.exec(stdout);
        if (match) resolve(match[1]);
      });
      child.on('exit', (code) => reject(new Error(`pix serve exited (${code}) before printing its URL:\n${stdout}${stderr}`)));
    });
    const url = new URL(pageUrl);
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

    child.kill('SIGINT');
    assert.equal(await exited, 0, stderr);
    assert.match(stdout, /SIGINT: stopping/);
    assert.equal(stderr, '', 'a loopback bind warns about nothing');
    await assert.rejects(fetch(new URL('/', url)), 'the port is closed');
  });

  it('refuses a port that is not one, naming the flag', () => {
    const result = spawnSync(process.execPath, [pix, 'serve', '--port', '80a', '--home', home], { encoding: 'utf8' });
    assert.equal(result.status, 1);
    assert.match(result.stderr, /--port must be an integer from 0 to 65535 .*got '80a'/);
  });
});
