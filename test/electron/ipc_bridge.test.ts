// The IPC handlers against a fake ipcMain: sender checks, request validation, dialogs, events.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { channelOf, dialogChannelOf, eventChannelOf, workbenchMethods, type WorkbenchDialogs } from '../../shared/api';
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
    // Like ipcMain: a throw in the handler becomes a rejection for the renderer.
    async invoke(channel, frame, ...args) {
      const handler = handlers.get(channel);
      assert.ok(handler, `no handler on ${channel}`);
      return handler({ senderFrame: frame }, ...args);
    },
  };
}

const page: FrameLike = { url: 'file:///app/index.html', parent: null };
const isTrusted = (frame: FrameLike | null) => frame === page;

describe('IPC bridge', () => {
  it('registers one handler per method and forwards validated requests', async () => {
    const host = createFakeHost();
    const ipc = fakeIpc();
    registerApiHandlers(ipc, host.api, isTrusted);
    assert.deepEqual(ipc.channels, workbenchMethods.map(channelOf));
    assert.deepEqual(await ipc.invoke(channelOf('stopRun'), page, { id: 'run-3' }), { id: 'run-3', status: 'stopping' });
    assert.deepEqual(host.calls, [{ method: 'stopRun', request: { id: 'run-3' } }]);
  });

  it('refuses untrusted senders and invalid requests before the host sees them', async () => {
    const host = createFakeHost();
    const ipc = fakeIpc();
    registerApiHandlers(ipc, host.api, isTrusted);
    await assert.rejects(ipc.invoke(channelOf('listModels'), { url: page.url, parent: page }), /refused: the caller is not the workbench renderer/);
    await assert.rejects(ipc.invoke(channelOf('listModels'), null), /refused/);
    await assert.rejects(ipc.invoke(channelOf('stopRun'), page, { id: '' }), /stopRun: invalid request \(id: /);
    await assert.rejects(ipc.invoke(channelOf('listModels'), page, { unexpected: true }), /listModels: invalid request/);
    assert.deepEqual(host.calls, []);
  });

  it('opens dialogs for the page only, with plain extensions only', async () => {
    const asked: string[][] = [];
    const dialogs: WorkbenchDialogs = { pickFolder: async () => '/data/imagenet', pickFile: async (extensions) => (asked.push(extensions), null) };
    const ipc = fakeIpc();
    registerDialogHandlers(ipc, dialogs, isTrusted);
    assert.equal(await ipc.invoke(dialogChannelOf('pickFolder'), page), '/data/imagenet');
    assert.equal(await ipc.invoke(dialogChannelOf('pickFile'), page, ['pth', 'safetensors']), null);
    assert.deepEqual(asked, [['pth', 'safetensors']]);
    await assert.rejects(ipc.invoke(dialogChannelOf('pickFolder'), { url: 'https://evil.example/', parent: null }), /refused/);
    for (const bad of [[], ['.pth'], ['*'], 'pth', [7]]) {
      await assert.rejects(ipc.invoke(dialogChannelOf('pickFile'), page, bad), /pickFile: invalid extensions/, JSON.stringify(bad));
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
