// The serve mode's access token on the browser side. `pix serve` prints a URL ending in
// `#token=…`; a fragment never leaves the browser (no request, log or Referer carries it). On first
// load the token moves into sessionStorage, so a reload keeps working, and the fragment is cleared,
// so the token is not left in the address bar, a bookmark or a screen share.
export const TOKEN_STORAGE_KEY = 'pix-serve-token';

const TOKEN_FRAGMENT = /^#token=([A-Za-z0-9_-]+)$/;

export function takeAccessToken(location: Location, storage: Storage, history: History): string | null {
  const match = TOKEN_FRAGMENT.exec(location.hash);
  if (match) {
    storage.setItem(TOKEN_STORAGE_KEY, match[1]);
    history.replaceState(history.state, '', `${location.pathname}${location.search}`);
    return match[1];
  }
  return storage.getItem(TOKEN_STORAGE_KEY);
}

/**
 * A new `#token=…` opened in a tab that already runs the page (pix serve restarted and printed a
 * new URL) changes only the fragment, which reloads nothing: the page kept the old token and the
 * refused state. This stores the new token and reloads, so the new URL works where it is opened.
 * Returns the function that stops listening.
 */
export function reloadOnNewAccessToken(window: Window, reload: () => void = () => window.location.reload()): () => void {
  const onHashChange = () => {
    if (!TOKEN_FRAGMENT.test(window.location.hash)) return;
    takeAccessToken(window.location, window.sessionStorage, window.history);
    reload();
  };
  window.addEventListener('hashchange', onHashChange);
  return () => window.removeEventListener('hashchange', onHashChange);
}

export const MISSING_TOKEN_MESSAGE =
  'No access token: open the full URL that `pix serve` printed (it ends in #token=…).';

export const REJECTED_TOKEN_MESSAGE =
  'The server refused the access token: `pix serve` makes a new one each time it starts; open the URL it printed last.';
