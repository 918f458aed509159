// The token moves from the URL fragment to sessionStorage and leaves the address bar.
import { beforeEach, describe, expect, it } from 'vitest';
import { reloadOnNewAccessToken, TOKEN_STORAGE_KEY, takeAccessToken } from '../../src/api/access_token';

describe('takeAccessToken', () => {
  beforeEach(() => {
    sessionStorage.clear();
    history.replaceState(null, '', '/');
  });

  it('takes the token from the fragment, stores it and clears the fragment', () => {
    history.replaceState(null, '', '/?x=1#token=abc_DEF-123');
    expect(takeAccessToken(location, sessionStorage, history)).toBe('abc_DEF-123');
    expect(sessionStorage.getItem(TOKEN_STORAGE_KEY)).toBe('abc_DEF-123');
    expect(location.hash).toBe('');
    expect(location.search).toBe('?x=1');
  });

  it('falls back to the stored token after a reload', () => {
    sessionStorage.setItem(TOKEN_STORAGE_KEY, 'stored');
    history.replaceState(null, '', '/#/runs');
    expect(takeAccessToken(location, sessionStorage, history)).toBe('stored');
    expect(location.hash).toBe('#/runs');
  });

  it('prefers a new token in the URL over a stored one (the server restarted)', () => {
    sessionStorage.setItem(TOKEN_STORAGE_KEY, 'old');
    history.replaceState(null, '', '/#token=new');
    expect(takeAccessToken(location, sessionStorage, history)).toBe('new');
    expect(sessionStorage.getItem(TOKEN_STORAGE_KEY)).toBe('new');
  });

  it('is null when there is none, and ignores a fragment that is not a token', () => {
    history.replaceState(null, '', '/#token=has spaces');
    expect(takeAccessToken(location, sessionStorage, history)).toBeNull();
    expect(location.hash).not.toBe('');
  });
});

describe('reloadOnNewAccessToken', () => {
  beforeEach(() => {
    sessionStorage.clear();
    history.replaceState(null, '', '/');
  });

  it('stores a token opened in the running tab and reloads; other fragments change nothing', () => {
    sessionStorage.setItem(TOKEN_STORAGE_KEY, 'old');
    let reloads = 0;
    const stop = reloadOnNewAccessToken(window, () => reloads++);
    history.replaceState(null, '', '/#/runs');
    window.dispatchEvent(new HashChangeEvent('hashchange'));
    expect(reloads).toBe(0);
    expect(sessionStorage.getItem(TOKEN_STORAGE_KEY)).toBe('old');

    history.replaceState(null, '', '/#token=new_1');
    window.dispatchEvent(new HashChangeEvent('hashchange'));
    expect(reloads).toBe(1);
    expect(sessionStorage.getItem(TOKEN_STORAGE_KEY)).toBe('new_1');
    expect(location.hash).toBe('');
    stop();
    history.replaceState(null, '', '/#token=later');
    window.dispatchEvent(new HashChangeEvent('hashchange'));
    expect(reloads).toBe(1);
  });
});
