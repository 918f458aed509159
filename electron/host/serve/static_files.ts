// Serves the built renderer (dist/renderer) read-only: GET and HEAD of files inside that folder and
// nothing else. A path is decoded once and resolved, and anything that lands outside the folder —
// `..` segments, encoded slashes, a symlink pointing out, a NUL byte — is answered 404 like a file
// that does not exist, so probing reveals nothing. Not a general file server: no directory listings,
// no ranges, no compression (the bundle is a few hundred KiB served to one user).
import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, isAbsolute, relative, resolve } from 'node:path';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
}

/**
 * The file a URL path names under `root` (already a real path), or undefined when it names nothing
 * servable. `/` is index.html.
 */
export async function resolveStaticFile(root: string, urlPath: string): Promise<string | undefined> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return undefined;
  }
  // Decoded `..%2f..` and backslashes resolve like any other path; the containment checks below,
  // before and after following symlinks, are what keep every request inside root.
  const wanted = resolve(root, `.${decoded === '/' ? '/index.html' : decoded}`);
  if (!isInside(root, wanted)) return undefined;
  try {
    const real = await realpath(wanted);
    if (!isInside(root, real) || !(await stat(real)).isFile()) return undefined;
    return real;
  } catch {
    return undefined;
  }
}

/** Answers a GET/HEAD for the renderer bundle; the caller has already set the security headers. */
export async function serveStaticFile(root: string, request: IncomingMessage, response: ServerResponse, urlPath: string): Promise<void> {
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain; charset=utf-8' }).end('Method not allowed\n');
    return;
  }
  const file = await resolveStaticFile(root, urlPath);
  if (file === undefined) {
    response.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('Not found\n');
    return;
  }
  const { size } = await stat(file);
  response.writeHead(200, {
    'Content-Type': CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream',
    'Content-Length': size,
    // The page is rebuilt in place; revalidating every load keeps a stale bundle from lingering.
    'Cache-Control': 'no-cache',
  });
  if (request.method === 'HEAD') {
    response.end();
    return;
  }
  createReadStream(file).on('error', (error) => response.destroy(error)).pipe(response);
}
