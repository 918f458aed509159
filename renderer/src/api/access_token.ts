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

export const MISSING_TOKEN_MESSAGE =
  'No access token: open the full URL that `pix serve` printed (it ends in #token=…).';

export const REJECTED_TOKEN_MESSAGE =
  'The server refused the access token: `pix serve` makes a new one each time it starts; open the URL it printed last.';
