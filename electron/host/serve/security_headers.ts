// The headers every serve-mode response carries. The page's Content-Security-Policy matches the
// meta tag in renderer/index.html (the two are enforced together, so the stricter wins), plus what
// only a header can say: frame-ancestors, and the one WebSocket origin the page may connect to.
import type { ServerResponse } from 'node:http';

/**
 * The policy for a page served as `authority` (host:port, already checked against the allowed
 * names): scripts and styles only from the bundle, images also as data:/blob: (chart PNG export),
 * fetches to this server and its events socket only, and no framing at all.
 */
export function contentSecurityPolicy(authority: string): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    `connect-src 'self' ws://${authority}`,
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

export function setSecurityHeaders(response: ServerResponse, authority: string): void {
  response.setHeader('Content-Security-Policy', contentSecurityPolicy(authority));
  response.setHeader('X-Content-Type-Options', 'nosniff');
  response.setHeader('Referrer-Policy', 'no-referrer');
  response.setHeader('X-Frame-Options', 'DENY');
  response.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
  response.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
}
