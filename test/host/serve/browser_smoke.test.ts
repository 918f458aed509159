// Serve mode in a real browser: Debian's Chromium, driven by playwright-core, opens what `pix serve`
// serves — the freshly built renderer and a real host — with and without the token in the URL.
// It checks the transport (token hand-over, CSP, API and events reachable), not the pages' flows,
// which renderer/test and the end-to-end tests own.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser } from 'playwright-core';
import { createHost } from '../../../electron/host/api';
import { startServer, type RunningServer } from '../../../electron/host/serve/server';

const CHROMIUM = '/usr/bin/chromium';
const projectRoot = join(__dirname, '..', '..', '..', '..');
const skip = existsSync(CHROMIUM) ? false : `no browser at ${CHROMIUM} (Debian: apt-get install -y chromium)`;

describe('serve mode in Chromium', { skip, timeout: 120_000 }, () => {
  let work: string;
  let host: ReturnType<typeof createHost>;
  let server: RunningServer;
  let browser: Browser;

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'pix-smoke-'));
    // The renderer as it is now, not whatever an earlier build left in dist/.
    execFileSync(process.execPath, [join(projectRoot, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--config', 'renderer/vite.config.mts',
      '--outDir', join(work, 'renderer'), '--emptyOutDir', '--logLevel', 'error'], { cwd: projectRoot, stdio: 'inherit' });
    host = createHost({ home: join(work, 'home') });
    server = await startServer({ client: host, rendererRoot: join(work, 'renderer'), port: 0 });
    browser = await chromium.launch({
      headless: true,
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    await host?.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('with the token URL: the app renders, connects, and the token leaves the address bar', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(message.text());
    });
    page.on('pageerror', (error) => problems.push(error.message));
    const socketOpened = page.waitForEvent('websocket');
    const apiAnswered = page.waitForResponse((response) => response.url().includes('/api/') && response.request().method() === 'POST');

    await page.goto(server.pageUrl);
    await page.getByRole('navigation', { name: 'Pages' }).waitFor();
    assert.equal((await apiAnswered).status(), 200, 'an API call got through with the token');
    const socket = await socketOpened;
    assert.equal(socket.url(), `ws://127.0.0.1:${server.port}/api/events`);
    assert.equal(socket.isClosed(), false, 'the events socket was accepted');
    // The host samples system stats every 2 s while someone listens: the first one arrives pushed.
    const frame = await socket.waitForEvent('framereceived', { timeout: 10_000 });
    assert.equal((JSON.parse(String(frame.payload)) as { event: string }).event, 'systemStats');
    // No connection banner, whatever its kind (renderer/src/App.tsx's failure titles).
    assert.equal(await page.getByText(/Cannot reach the workbench host|The workbench host failed|Cannot use the workbench host/).count(), 0);
    assert.equal(new URL(page.url()).hash, '', 'the token is cleared from the URL');
    assert.equal(await page.evaluate('sessionStorage.getItem("pix-serve-token")'), server.token);
    assert.deepEqual(problems.filter((text) => /Content Security Policy|Refused to/i.test(text)), [], 'no CSP violation');

    // A reload finds the token in sessionStorage.
    const afterReload = page.waitForResponse((response) => response.url().includes('/api/') && response.request().method() === 'POST');
    await page.reload();
    assert.equal((await afterReload).status(), 200);
    await context.close();
  });

  it('without a token: the page says so instead of failing silently', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(server.url);
    await page.getByText(/No access token: open the full URL that `pix serve` printed/).first().waitFor();
    await context.close();
  });
});
