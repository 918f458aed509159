// The IPC handlers against a fake ipcMain: sender checks, request validation, dialogs, events, and
// failures answered as outcomes that say whether the request or the host was at fault.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { channelOf, dialogChannelOf, eventChannelOf, workbenchMethods, type WorkbenchApi, type WorkbenchDialogs } from '../../shared/api';
import type { CallFailureKind, IpcOutcome } from '../../shared/call_failure';
import { RequestError } from '../../electron/host/request_error';
import { forwardEvents, registerApiHandlers, registerDialogHandlers, type IpcRegistry } from '../../electron/ipc_bridge';
import type { FrameLike } from '../../electron/trusted_sender';
import { createFakeHost } from '../host/serve/fake_host';

type Listener = (event: { senderFrame: FrameLike | null }, ...args: unknown[]) => unknown;

function fakeIpc(): IpcRegistry & { invoke(channel: string, frame: FrameLike | null, ...args: unknown[]): Promise<unknown>; channels: string[] } {
  const handlers = new Map<string, Listener>();
  return {
    channels: [],
    handle(channel, listener) {
      assert.ok(!handlers.has(channel), `${channel} registered twice`);
      handlers.set(channel, listener);
      this.channels.push(channel);
    },
    // Like ipcMain: a handler's answer (or throw) reaches the renderer's invoke.
    async invoke(channel, frame, ...args) {
      const handler = handlers.get(channel);
      assert.ok(handler, `no handler on ${channel}`);
      return handler({ senderFrame: frame }, ...args);
    },
  };
}

const page: FrameLike = { url: 'file:///app/index.html', parent: null };
const isTrusted = (frame: FrameLike | null) => frame === page;

/** The value of a successful outcome; fails the test on a failed one. */
async function valueOf(outcome: Promise<unknown>): Promise<unknown> {
  const settled = (await outcome) as IpcOutcome;
  assert.ok(settled.ok, `expected success, got ${JSON.stringify(settled)}`);
  return settled.value;
}

/** Asserts a failed outcome of the given kind whose message matches. */
async function failsWith(outcome: Promise<unknown>, kind: CallFailureKind, message: RegExp, note?: string): Promise<void> {
  const settled = (await outcome) as IpcOutcome;
  assert.ok(!settled.ok, `expected a failure, got ${JSON.stringify(settled)}`);
  assert.equal(settled.failure.kind, kind, note);
  assert.match(settled.failure.message, message, note);
}

describe('IPC bridge', () => {
  it('registers one handler per method and forwards validated requests', async () => {
    const host = createFakeHost();
    const ipc = fakeIpc();
    registerApiHandlers(ipc, host.api, isTrusted);
    assert.deepEqual(ipc.channels, workbenchMethods.map(channelOf));
    assert.deepEqual(await valueOf(ipc.invoke(channelOf('stopRun'), page, { id: 'run-3' })), { id: 'run-3', status: 'stopping' });
    assert.deepEqual(host.calls, [{ method: 'stopRun', request: { id: 'run-3' } }]);
  });

  it('refuses untrusted senders and invalid requests before the host sees them', async () => {
    const host = createFakeHost();
    const ipc = fakeIpc();
    registerApiHandlers(ipc, host.api, isTrusted);
    await failsWith(ipc.invoke(channelOf('listModels'), { url: page.url, parent: page }), 'request', /refused: the caller is not the workbench renderer/);
    await failsWith(ipc.invoke(channelOf('listModels'), null), 'request', /refused/);
    await failsWith(ipc.invoke(channelOf('stopRun'), page, { id: '' }), 'request', /^stopRun: invalid request \(id: /);
    await failsWith(ipc.invoke(channelOf('listModels'), page, { unexpected: true }), 'request', /^listModels: invalid request/);
    assert.deepEqual(host.calls, []);
  });

  it("answers the host's RequestError as the request's problem and any other throw as the host failing", async () => {
    const host = createFakeHost();
    const api = {
      ...host.api,
      async stopRun() {
        throw new RequestError(409, "run 'run-3' is completed; only a queued or running run can be stopped");
      },
      async listModels() {
        throw new Error('ENOSPC: no space left on device');
      },
    } as WorkbenchApi;
    const ipc = fakeIpc();
    registerApiHandlers(ipc, api, isTrusted);
    const stopped = await ipc.invoke(channelOf('stopRun'), page, { id: 'run-3' });
    assert.deepEqual(stopped, { ok: false, failure: { kind: 'request', message: "run 'run-3' is completed; only a queued or running run can be stopped" } });
    assert.deepEqual(await ipc.invoke(channelOf('listModels'), page), { ok: false, failure: { kind: 'host', message: 'ENOSPC: no space left on device' } });
  });

  it('opens dialogs for the page only, with plain extensions only', async () => {
    const asked: string[][] = [];
    const dialogs: WorkbenchDialogs = { pickFolder: async () => '/data/imagenet', pickFile: async (extensions) => (asked.push(extensions), null) };
    const ipc = fakeIpc();
    registerDialogHandlers(ipc, dialogs, isTrusted);
    assert.equal(await valueOf(ipc.invoke(dialogChannelOf('pickFolder'), page)), '/data/imagenet');
    assert.equal(await valueOf(ipc.invoke(dialogChannelOf('pickFile'), page, ['pth', 'safetensors'])), null);
    assert.deepEqual(asked, [['pth', 'safetensors']]);
    await failsWith(ipc.invoke(dialogChannelOf('pickFolder'), { url: 'https://evil.example/', parent: null }), 'request', /refused/);
    for (const bad of [[], ['.pth'], ['*'], 'pth', [7]]) {
      await failsWith(ipc.invoke(dialogChannelOf('pickFile'), page, bad), 'request', /pickFile: invalid extensions/, JSON.stringify(bad));
    }
    assert.equal(asked.length, 1);
  });

  it('forwards every host event on its channel until stopped', () => {
    const host = createFakeHost();
    const sent: [string, unknown][] = [];
    const stop = forwardEvents(host, (channel, payload) => sent.push([channel, payload]));
    host.emit('runDeleted', { id: 'a' });
    host.emit('runLog', { id: 'a', lines: ['x'] });
    stop();
    host.emit('runDeleted', { id: 'b' });
    assert.deepEqual(sent, [[eventChannelOf('runDeleted'), { id: 'a' }], [eventChannelOf('runLog'), { id: 'a', lines: ['x'] }]]);
    assert.equal(host.listenerCount(), 0);
  });
});
