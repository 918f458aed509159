// Which Host/Origin names a server accepts for each kind of bind.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { allowedAuthorities, hostHeaderAllowed, isLoopbackHost, originAllowed } from '../../../electron/host/serve/allowed_hosts';

describe('allowed hosts', () => {
  it('a loopback bind answers to every loopback spelling of its port, and nothing else', () => {
    const allowed = allowedAuthorities('127.0.0.1', 8765, () => ['10.0.0.5']);
    for (const host of ['127.0.0.1:8765', 'localhost:8765', 'LocalHost:8765', '[::1]:8765']) assert.ok(hostHeaderAllowed(host, allowed), host);
    for (const host of ['127.0.0.1:8766', '127.0.0.1', '10.0.0.5:8765', 'evil.example:8765', 'localhost.:8765', '', 'a b:1']) {
      assert.ok(!hostHeaderAllowed(host, allowed), host);
    }
    assert.ok(!hostHeaderAllowed(undefined, allowed), 'a missing Host header');
  });

  it('a bind to one external address answers to that address only', () => {
    const allowed = allowedAuthorities('10.0.0.5', 80, () => []);
    assert.ok(hostHeaderAllowed('10.0.0.5', allowed), 'port 80 may be left out');
    assert.ok(hostHeaderAllowed('10.0.0.5:80', allowed));
    assert.ok(!hostHeaderAllowed('localhost:80', allowed));
  });

  it('a wildcard bind answers to the machine’s addresses and name, IPv6 in brackets', () => {
    const allowed = allowedAuthorities('::', 9000, () => ['192.168.1.20', 'fe80::1', 'gpu-box']);
    for (const host of ['192.168.1.20:9000', '[fe80::1]:9000', 'gpu-box:9000', 'localhost:9000', '[::]:9000']) assert.ok(hostHeaderAllowed(host, allowed), host);
    assert.ok(!hostHeaderAllowed('rebind.attacker.example:9000', allowed));
  });

  it('an Origin must be http on an allowed authority; none at all is fine (not a browser, or same-origin GET)', () => {
    const allowed = allowedAuthorities('127.0.0.1', 8765);
    assert.ok(originAllowed(undefined, allowed));
    assert.ok(originAllowed('http://localhost:8765', allowed));
    for (const origin of ['null', 'https://localhost:8765', 'http://localhost:8766', 'http://attacker.example', 'file://', 'garbage']) {
      assert.ok(!originAllowed(origin, allowed), origin);
    }
  });

  it('knows loopback addresses', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', '::1', 'localhost']) assert.ok(isLoopbackHost(host), host);
    for (const host of ['0.0.0.0', '::', '10.0.0.1', '128.0.0.1', 'localhost.example']) assert.ok(!isLoopbackHost(host), host);
  });
});
