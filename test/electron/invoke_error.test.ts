// Host errors reach the page as the host worded them, without Electron's invoke wrapping.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { hostErrorMessage } from '../../electron/invoke_error';

it('strips Electron’s invoke prefix and nothing else', () => {
  assert.equal(hostErrorMessage(new Error("Error invoking remote method 'workbench:getRun': Error: no run 'x'")), "no run 'x'");
  assert.equal(hostErrorMessage(new Error("Error invoking remote method 'workbench:getRun': TypeError: bad")), 'bad');
  assert.equal(hostErrorMessage(new Error('plain: Error: kept')), 'plain: Error: kept');
  assert.equal(hostErrorMessage('a string'), 'a string');
});
