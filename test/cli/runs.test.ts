// `pix runs` against a real `pix serve` child: serve.json (0600, removed on Ctrl-C), the CPU's
// one-run-at-a-time queue seen from the command line (a second run waits at position 1, is
// cancelled while queued, queued again by resume, and both finish), and the one-line errors for a
// refused token, no server, a stale serve.json, an unknown run id and a mistyped subcommand.
// The runs are one epoch of the embedded digits (the demo preset), about 15 s each on 2 cores.
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { RunSummary } from '../../shared/api';
import { freePort } from '../helpers/free_port';

const projectRoot = join(__dirname, '..', '..', '..');
const pixEntry = join(projectRoot, 'bin', 'pix.js');
/** Two one-epoch runs back to back, with room for a slow machine. */
const BOTH_DONE_WITHIN_MS = 100_000;
const TINY_RUN = ['--epochs', '1', '--num_workers', '0'];

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function pix(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Result> {
  return new Promise((resolve) => {
    // PIX_SERVER cleared unless a test sets it: the caller's shell must not pick the server.
    const child = spawn(process.execPath, [pixEntry, ...args], { env: { ...process.env, PIX_SERVER: '', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

async function listRuns(home: string): Promise<RunSummary[]> {
  const result = await pix(['runs', '--home', home, '--json']);
  assert.equal(result.code, 0, result.stderr);
  return JSON.parse(result.stdout) as RunSummary[];
}

/** Starts `pix serve` and resolves with the URL it printed. */
function startServe(home: string): Promise<{ child: ChildProcess; pageUrl: string; output: () => string }> {
  const child = spawn(process.execPath, [pixEntry, 'serve', '--port', '0', '--home', home], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  return new Promise((resolve, reject) => {
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
      const match = /Open this URL \(it carries the access token\): (\S+#token=\S+)\n/.exec(output);
      if (match) resolve({ child, pageUrl: match[1]!, output: () => output });
    });
    child.on('exit', (code) => reject(new Error(`pix serve exited (${code}) before printing its URL:\n${output}`)));
  });
}

async function waitFor<T>(what: string, limitMs: number, probe: () => Promise<T | undefined> | T | undefined): Promise<T> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${limitMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

describe('pix runs', () => {
  let home: string;
  let otherHome: string;
  let serve: Awaited<ReturnType<typeof startServe>>;
  let port: string;

  before(async () => {
    // pix serve serves the built renderer; build it the way `npm run build` does when it is missing.
    if (!existsSync(join(projectRoot, 'dist', 'renderer', 'index.html'))) {
      execFileSync(process.execPath, [join(projectRoot, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--config', 'renderer/vite.config.mts', '--logLevel', 'error'],
        { cwd: projectRoot, stdio: 'inherit' });
    }
    home = mkdtempSync(join(tmpdir(), 'pix-runs-cli-'));
    otherHome = mkdtempSync(join(tmpdir(), 'pix-runs-cli-none-'));
    serve = await startServe(home);
    port = new URL(serve.pageUrl).port;
    await waitFor('serve.json', 10_000, () => (existsSync(join(home, 'serve.json')) ? true : undefined));
  });

  after(async () => {
    if (serve?.child.exitCode === null) {
      const exited = new Promise<number | null>((resolve) => serve.child.on('exit', resolve));
      serve.child.kill('SIGINT');
      assert.equal(await exited, 0, serve.output());
      assert.ok(!existsSync(join(home, 'serve.json')), 'pix serve removes its serve.json when it closes');
    }
    rmSync(home, { recursive: true, force: true });
    rmSync(otherHome, { recursive: true, force: true });
  });

  it('finds the server through serve.json, which only its owner can read', async () => {
    const path = join(home, 'serve.json');
    assert.equal(statSync(path).mode & 0o777, 0o600);
    const record = JSON.parse(readFileSync(path, 'utf8')) as { url: string; token: string; pid: number; startedAt: number };
    assert.equal(record.pid, serve.child.pid);
    assert.equal(`${record.url}#token=${record.token}`, serve.pageUrl);
    assert.deepEqual(await listRuns(home), []);
    const text = await pix(['runs', '--home', home]);
    assert.match(text.stdout, /no runs yet/);
  });

  it('queues a second CPU run, cancels it while queued, resumes it, and finishes both', async () => {
    const first = await pix(['runs', 'start', '--home', home, '--name', 'first', ...TINY_RUN]);
    assert.equal(first.code, 0, first.stderr);
    const firstId = /^run (\S+) running on cpu: first$/m.exec(first.stdout)?.[1];
    assert.ok(firstId, first.stdout);

    const second = await pix(['runs', '--home', home, 'start', '--json', ...TINY_RUN]);
    assert.equal(second.code, 0, second.stderr);
    const queued = JSON.parse(second.stdout) as RunSummary;
    assert.deepEqual([queued.status, queued.queuePosition, queued.device, queued.name], ['queued', 1, 'cpu', 'pix_resnet_tiny_cs demo digits']);
    assert.equal(queued.epochs, 1, 'the flag given reached the host; the demo preset filled the rest');

    const table = await pix(['runs', 'list', '--home', home]);
    assert.match(table.stdout, /^ID\s+NAME\s+STATUS\s+DEVICE\s+QUEUE\s+EPOCH\s+BEST ACC1\s+IMAGES\/S\s+ERROR$/m);
    assert.match(table.stdout, new RegExp(`^${queued.id}\\s+pix_resnet_tiny_cs demo digits\\s+queued\\s+cpu\\s+#1\\s+0/1$`, 'm'));

    const cancelled = await pix(['runs', 'cancel', queued.id, '--home', home]);
    assert.equal(cancelled.code, 0, cancelled.stderr);
    assert.match(cancelled.stdout, new RegExp(`run ${queued.id} was queued: cancelled`));
    const afterCancel = (await listRuns(home)).find((r) => r.id === queued.id)!;
    assert.deepEqual([afterCancel.status, afterCancel.queuePosition], ['stopped', null]);

    const resumed = await pix(['runs', 'resume', queued.id, '--home', home]);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.match(resumed.stdout, new RegExp(`^run ${queued.id} (queued at position 1, waiting for cpu|running on cpu)$`, 'm'));

    const done = await waitFor('both runs to complete', BOTH_DONE_WITHIN_MS, async () => {
      const runs = await listRuns(home);
      const failed = runs.find((r) => r.status === 'failed');
      if (failed) throw new Error(`run ${failed.id} failed: ${failed.error}`);
      return runs.length === 2 && runs.every((r) => r.status === 'completed') ? runs : undefined;
    });
    assert.deepEqual(done.map((r) => r.id), [firstId, queued.id], 'oldest first, as listRuns gives them');
    for (const run of done) assert.ok(run.epoch === 1 && run.bestAcc1 !== null, JSON.stringify(run));
    // An ended run still shows the images/s of its last steps.
    assert.match((await pix(['runs', '--home', home])).stdout, new RegExp(`^${firstId}\\s+first\\s+completed\\s+cpu\\s+1/1\\s+\\d+\\.\\d\\d%\\s+\\d+$`, 'm'));

    const again = await pix(['runs', 'stop', firstId, '--home', home]);
    assert.equal(again.code, 1);
    // The server's 409, as one line of the host's words: no status code, no stack.
    assert.equal(again.stderr, `pix: run ${firstId} is completed; there is nothing to stop\n`);
  });

  it('says what is wrong, on one line, when the server cannot be reached or refuses', async () => {
    const wrongToken = await pix(['runs', '--server', `http://127.0.0.1:${port}/#token=wrong`]);
    assert.equal(wrongToken.code, 1);
    assert.match(wrongToken.stderr, /^pix: pix serve at http:\/\/127\.0\.0\.1:\d+\/ refused the access token from --server; .*\n$/);

    const viaEnv = await pix(['runs', '--json', '--home', otherHome], { PIX_SERVER: serve.pageUrl });
    assert.equal(viaEnv.code, 0, viaEnv.stderr);
    assert.ok(Array.isArray(JSON.parse(viaEnv.stdout)), 'PIX_SERVER wins over the home');

    const nobody = await pix(['runs', '--home', otherHome]);
    assert.equal(nobody.code, 1);
    assert.match(nobody.stderr, /no pix serve is running for home \S+ \(no \S+serve\.json\); start one with pix serve --home/);

    const closed = await pix(['runs', '--server', `http://127.0.0.1:${await freePort()}/#token=x`]);
    assert.equal(closed.code, 1);
    assert.match(closed.stderr, /^pix: Cannot reach the workbench server at http:\/\/127\.0\.0\.1:\d+ \(connection refused; from --server\); is `pix serve` still running\?\n$/);

    const exited = spawnSync(process.execPath, ['-e', '']).pid;
    writeFileSync(join(otherHome, 'serve.json'), JSON.stringify({ url: `http://127.0.0.1:${port}/`, token: 'old', pid: exited, startedAt: 0 }));
    const stale = await pix(['runs', '--home', otherHome]);
    assert.equal(stale.code, 1);
    assert.match(stale.stderr, new RegExp(`no pix serve is running for home \\S+ \\(stale serve\\.json from pid ${exited}\\); start one with pix serve`));

    const unknownRun = await pix(['runs', 'resume', 'no-such-run', '--home', home]);
    assert.equal(unknownRun.code, 1);
    assert.match(unknownRun.stderr, /^pix: no run with id 'no-such-run'\n$/);

    const refusedConfig = await pix(['runs', 'start', '--home', home, '--model', 'nope']);
    assert.equal(refusedConfig.code, 1);
    assert.match(refusedConfig.stderr, /model: unknown model 'nope'/);
  });

  it('refuses bad arguments with exit code 2 and a suggestion', async () => {
    const cases: [string[], RegExp][] = [
      [['runs', 'resme', 'x'], /unknown subcommand 'resme' for pix runs \(did you mean 'resume'\?\); subcommands: list, start, stop, cancel, resume, delete/],
      [['runs', 'frobnicate'], /unknown subcommand 'frobnicate' for pix runs; subcommands: list, start/],
      [['runs', '--hme', home], /unknown flag --hme for pix runs list \(did you mean --home\?\)/],
      [['runs', 'stop'], /stop takes one run id; usage: pix runs stop\|cancel ID/],
      [['runs', 'start', '--home', home, '--epoch', '1'], /unknown flag --epoch \(did you mean --epochs\?\)/],
      [['runs', 'start', '--home', home, '--epochs', 'many'], /--epochs expects an integer, got 'many'/],
    ];
    for (const [args, message] of cases) {
      const result = await pix(args);
      assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, message);
    }
    const help = await pix(['runs', '--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /usage: pix runs \[list\] \[--json\]/);
  });
});
