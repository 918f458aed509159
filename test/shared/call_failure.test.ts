// The words of a failed call read back into its kind: what the page's banner is titled by.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { callFailureMessage, readCallFailure, unreachableMessage } from '../../shared/call_failure';

describe('readCallFailure', () => {
  it('reads back each kind from the words that name it', () => {
    assert.deepEqual(readCallFailure(callFailureMessage({ kind: 'host', message: 'ENOSPC: no space left on device' })),
      { kind: 'host', detail: 'ENOSPC: no space left on device' });
    assert.deepEqual(readCallFailure(callFailureMessage({ kind: 'request', message: "no run 'x'" })), { kind: 'request', detail: "no run 'x'" });
    const unreachable = unreachableMessage('http://127.0.0.1:8765', 'connection refused');
    assert.equal(unreachable, 'Cannot reach the workbench server at http://127.0.0.1:8765 (connection refused); is `pix serve` still running?');
    assert.deepEqual(readCallFailure(unreachable), { kind: 'unreachable', detail: unreachable });
  });

  it('takes any other text, a refused token say, as the request\'s problem', () => {
    const refused = 'The server refused the access token: `pix serve` makes a new one each time it starts; open the URL it printed last.';
    assert.deepEqual(readCallFailure(refused), { kind: 'request', detail: refused });
  });
});
