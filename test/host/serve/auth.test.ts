// The access token: its shape, where a request may carry it, and the comparison.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createAccessToken, presentedToken, tokensMatch } from '../../../electron/host/serve/auth';

describe('access token', () => {
  it('is 32 random bytes in base64url, new each time', () => {
    const a = createAccessToken();
    assert.equal(Buffer.from(a, 'base64url').length, 32);
    assert.match(a, /^[A-Za-z0-9_-]+$/);
    assert.notEqual(a, createAccessToken());
  });

  it('is read from a bearer header or a pix-token subprotocol, nowhere else', () => {
    assert.equal(presentedToken({ authorization: 'Bearer abc_-1' }), 'abc_-1');
    assert.equal(presentedToken({ 'sec-websocket-protocol': 'pix-events, pix-token.abc' }), 'abc');
    assert.equal(presentedToken({ authorization: 'Basic abc' }), undefined);
    assert.equal(presentedToken({ authorization: 'Bearer a b' }), undefined);
    assert.equal(presentedToken({ cookie: 'token=abc' }), undefined);
    assert.equal(presentedToken({}), undefined);
  });

  it('matches only the exact token', () => {
    const token = createAccessToken();
    assert.ok(tokensMatch(token, token));
    assert.ok(!tokensMatch(token, undefined));
    assert.ok(!tokensMatch(token, ''));
    assert.ok(!tokensMatch(token, token.slice(1)));
    assert.ok(!tokensMatch(token, `${token}x`));
  });
});
