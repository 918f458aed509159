// Only the renderer page's top frame may call the main process or be navigated to.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, it } from 'node:test';
import { isRendererUrl, isTrustedSender, type FrameLike } from '../../electron/trusted_sender';

const index = join('/opt', 'PiX Workbench', 'resources', 'app', 'dist', 'renderer', 'index.html');
const pageUrl = pathToFileURL(index).href;

describe('trusted sender', () => {
  it('recognises the renderer page, with any query or hash', () => {
    assert.ok(isRendererUrl(pageUrl, index));
    assert.ok(isRendererUrl(`${pageUrl}?x=1#/runs`, index));
  });

  it('refuses other files, other schemes, remote hosts and garbage', () => {
    for (const url of [
      pathToFileURL(join(index, '..', 'other.html')).href,
      pathToFileURL('/etc/passwd').href,
      `https://example.com${pathToFileURL(index).pathname}`,
      `file://remote-share${pathToFileURL(index).pathname}`,
      'about:blank', 'not a url', '',
    ]) assert.ok(!isRendererUrl(url, index), url);
  });

  it('trusts the top frame of the page only', () => {
    const top: FrameLike = { url: pageUrl, parent: null };
    assert.ok(isTrustedSender(top, index));
    assert.ok(!isTrustedSender({ url: pageUrl, parent: top }, index), 'a subframe showing the same file');
    assert.ok(!isTrustedSender({ url: 'https://evil.example/', parent: null }, index));
    assert.ok(!isTrustedSender(null, index), 'a frame that is gone');
    assert.ok(!isTrustedSender(undefined, index));
  });
});
