// Supervision with stand-in workers (fake_worker.ts, no engine): outcomes and messages arrive,
// output lines are forwarded, a crash (exit without outcome) and a hang (no heartbeat) are told
// apart, and a stop request ends the worker with 'stopped'.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { defaultRunConfig } from '../../../shared/config';
import { superviseWorker } from '../../../electron/host/jobs/supervisor';
import type { WorkerToHost } from '../../../electron/host/jobs/worker_protocol';

const FAKE = join(__dirname, 'fake_worker.js');

function start(behaviour: string, options: { epochs?: number; stepMs?: number; heartbeatTimeoutMs?: number } = {}) {
  const messages: WorkerToHost[] = [];
  const lines: string[] = [];
  const config = { ...defaultRunConfig(), model: `fake-${behaviour}`, epochs: options.epochs ?? 2, batch_size: options.stepMs ?? 5, output_dir: '' };
  const worker = superviseWorker({
    script: FAKE, payload: { config }, heartbeatTimeoutMs: options.heartbeatTimeoutMs ?? 5000,
    onMessage: (m) => messages.push(m), onOutput: (line) => lines.push(line),
  });
  return { worker, messages, lines };
}

describe('superviseWorker', () => {
  it('forwards iterations and epochs and settles with the outcome', async () => {
    const { worker, messages } = start('normal');
    assert.deepEqual(await worker.exit, { outcome: { status: 'completed' } });
    assert.equal(messages.filter((m) => m.type === 'iteration').length, 6);
    assert.equal(messages.filter((m) => m.type === 'epoch').length, 2);
  });

  it('reports a worker that exits without an outcome as crashed', async () => {
    const { worker } = start('crash');
    const exit = await worker.exit;
    assert.ok('crashed' in exit && /exited with code 3 before reporting an outcome/.test(exit.crashed), JSON.stringify(exit));
  });

  it('kills a worker that stops sending heartbeats and says it hung', async () => {
    const started = Date.now();
    const { worker } = start('hang', { heartbeatTimeoutMs: 1500 });
    const exit = await worker.exit;
    assert.ok('crashed' in exit && /no heartbeat for 2 s \(hung\) and was killed/.test(exit.crashed), JSON.stringify(exit));
    assert.ok(Date.now() - started < 10_000, 'killed long before the worker would have woken');
  });

  it('reports SIGKILL from outside as a crash', async () => {
    const { worker, messages } = start('slow', { epochs: 50, stepMs: 20 });
    while (!messages.some((m) => m.type === 'iteration')) await new Promise((r) => setTimeout(r, 10));
    process.kill(worker.pid!, 'SIGKILL');
    const exit = await worker.exit;
    assert.ok('crashed' in exit && /killed by SIGKILL/.test(exit.crashed), JSON.stringify(exit));
  });

  it('stops a worker on request: it finishes the step and reports stopped', async () => {
    const { worker, messages, lines } = start('slow', { epochs: 50, stepMs: 20 });
    while (!messages.some((m) => m.type === 'iteration')) await new Promise((r) => setTimeout(r, 10));
    worker.stop();
    const exit = await worker.exit;
    assert.ok('outcome' in exit && exit.outcome.status === 'stopped', JSON.stringify(exit));
    assert.deepEqual(lines, []);
  });
});
