// Host errors reach the page as the host worded them, without Electron's invoke wrapping, and say
// whether the request or the host was at fault, in the words serve mode uses.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { hostErrorMessage, settleInvoke } from '../../electron/invoke_error';

it('strips Electron’s invoke prefix and nothing else', () => {
  assert.equal(hostErrorMessage(new Error("Error invoking remote method 'workbench:getRun': Error: no run 'x'")), "no run 'x'");
  assert.equal(hostErrorMessage(new Error("Error invoking remote method 'workbench:getRun': TypeError: bad")), 'bad');
  assert.equal(hostErrorMessage(new Error('plain: Error: kept')), 'plain: Error: kept');
  assert.equal(hostErrorMessage('a string'), 'a string');
});

it("gives a success's value, a request problem's message as it is, and labels the host's failures", async () => {
  assert.deepEqual(await settleInvoke(async () => ({ ok: true, value: { id: 'r1' } })), { id: 'r1' });
  assert.equal(await settleInvoke(async () => ({ ok: true, value: null })), null);
  await assert.rejects(
    settleInvoke(async () => ({ ok: false, failure: { kind: 'request', message: 'path: /nope does not exist' } })),
    (error: Error) => error.message === 'path: /nope does not exist',
  );
  await assert.rejects(
    settleInvoke(async () => ({ ok: false, failure: { kind: 'host', message: 'ENOSPC: no space left on device' } })),
    (error: Error) => error.message === 'The workbench host failed: ENOSPC: no space left on device',
  );
});

it('labels an invoke that rejects (no handler, an uncopyable value) as the host failing', async () => {
  await assert.rejects(
    settleInvoke(async () => {
      throw new Error("Error invoking remote method 'workbench:getRun': Error: An object could not be cloned.");
    }),
    (error: Error) => error.message === 'The workbench host failed: An object could not be cloned.',
  );
});
