// The one place the renderer obtains its WorkbenchClient: the Electron preload's `window.pix` in
// the desktop app, otherwise (a browser on `pix serve`) the HTTP + WebSocket client with the token
// from the page's URL. Stores and pages take the client they are given and never look for a
// transport themselves.
import type { WorkbenchClient } from '../../../shared/api';
import { reloadOnNewAccessToken, takeAccessToken } from './access_token';
import { createServeClient } from './serve_client';

let client: WorkbenchClient | undefined;

export function getClient(): WorkbenchClient {
  if (!client && !window.pix) reloadOnNewAccessToken(window);
  client ??= window.pix ?? createServeClient({
    origin: window.location.origin,
    token: takeAccessToken(window.location, window.sessionStorage, window.history),
    fetch: window.fetch.bind(window),
    WebSocket: window.WebSocket,
  });
  return client;
}
