// Which Host and Origin headers the serve mode answers: the defence against DNS rebinding, where a
// hostile web page re-points its own domain at 127.0.0.1 and then talks to the server "same-origin".
// Such a request still names the hostile domain in Host (and Origin), so only the names this server
// is really reached by are accepted. This file only decides; the server turns a refusal into a 403.
import { hostname, networkInterfaces } from 'node:os';

const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '::1'];

export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** 0.0.0.0 and :: listen on every interface. */
export function isWildcardHost(host: string): boolean {
  return host === '0.0.0.0' || host === '::';
}

/** `host:port` as it appears in a URL (IPv6 in brackets). */
export function formatAuthority(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** One spelling per authority: the URL parser lowercases, brackets IPv6 and fills the default port. */
function authorityKey(url: URL): string {
  return `${url.hostname}:${url.port || '80'}`;
}

function keyOf(authority: string): string | undefined {
  return URL.canParse(`http://${authority}`) ? authorityKey(new URL(`http://${authority}`)) : undefined;
}

/** This machine's addresses and name: the ways a browser reaches a server bound to every interface. */
function localNames(): string[] {
  const addresses = Object.values(networkInterfaces()).flatMap((list) => list ?? []).map((a) => a.address);
  return [...addresses, hostname()];
}

/**
 * The authorities a browser may name when it reaches a server bound to `host`:`port`. A loopback
 * bind also answers to the other loopback spellings; a wildcard bind to every local address.
 */
export function allowedAuthorities(host: string, port: number, machineNames: () => string[] = localNames): Set<string> {
  const names = [host];
  if (isLoopbackHost(host) || isWildcardHost(host)) names.push(...LOOPBACK_NAMES);
  if (isWildcardHost(host)) names.push(...machineNames());
  const keys = names.map((name) => keyOf(formatAuthority(name, port)));
  return new Set(keys.filter((key): key is string => key !== undefined));
}

/** The Host header must name this server; HTTP/1.1 requires the header, so a missing one is refused. */
export function hostHeaderAllowed(header: string | undefined, allowed: ReadonlySet<string>): boolean {
  if (header === undefined) return false;
  const key = keyOf(header);
  return key !== undefined && allowed.has(key);
}

/** An Origin, when the browser sends one, must be this server over http (no other site, no 'null'). */
export function originAllowed(origin: string | undefined, allowed: ReadonlySet<string>): boolean {
  if (origin === undefined) return true;
  if (!URL.canParse(origin)) return false;
  const url = new URL(origin);
  return url.protocol === 'http:' && allowed.has(authorityKey(url));
}
