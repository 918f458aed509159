// The serve mode's access token: made once per server start, required on every /api/ request.
// Over HTTP it travels as `Authorization: Bearer <token>`. A browser's WebSocket cannot set headers,
// so the events socket carries it as a Sec-WebSocket-Protocol value (`pix-token.<token>`) rather
// than a query parameter: query strings end up in access logs, proxy logs and browser history,
// protocol headers do not. This file knows nothing of HTTP routing or of which paths need the token.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

/** The subprotocol the events socket speaks; the server answers with it, never with the token. */
export const EVENTS_PROTOCOL = 'pix-events';
/** Prefix of the Sec-WebSocket-Protocol entry that carries the token. */
export const TOKEN_PROTOCOL_PREFIX = 'pix-token.';

/** 32 random bytes as base64url: 256 bits, and only characters valid in a URL fragment and a subprotocol. */
export function createAccessToken(): string {
  return randomBytes(32).toString('base64url');
}

/** Constant-time equality, so response timing does not reveal how much of a guess was right. */
export function tokensMatch(expected: string, given: string | undefined): boolean {
  if (given === undefined) return false;
  const a = Buffer.from(expected, 'utf8');
  const b = Buffer.from(given, 'utf8');
  // timingSafeEqual needs equal lengths; the length of a fixed-size token is no secret.
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The token a request presents: the bearer credential, else (for a WebSocket) the token subprotocol. */
export function presentedToken(headers: IncomingHttpHeaders): string | undefined {
  const bearer = /^Bearer ([A-Za-z0-9_-]+)$/.exec(headers.authorization ?? '');
  if (bearer) return bearer[1];
  const protocols = (headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
  const carrier = protocols.find((p) => p.startsWith(TOKEN_PROTOCOL_PREFIX));
  return carrier?.slice(TOKEN_PROTOCOL_PREFIX.length);
}
