// The browser's serve-mode client against a scripted fetch and a hand-driven WebSocket.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MISSING_TOKEN_MESSAGE, REJECTED_TOKEN_MESSAGE } from '../../src/api/access_token';
import { createServeClient } from '../../src/api/serve_client';
import { FakeSocket } from './fake_socket';

const origin = 'http://127.0.0.1:8765';

function reply(status: number, body?: unknown): Response {
  return new Response(body === undefined ? null : JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
}

function client(token: string | null, fetch: (url: string, init: RequestInit) => Promise<Response>) {
  return createServeClient({
    origin, token, fetch: fetch as typeof globalThis.fetch,
    WebSocket: FakeSocket as unknown as typeof WebSocket,
    backoff: { initialMs: 100, maxMs: 400 },
  });
}

describe('serve client', () => {
  beforeEach(() => {
    FakeSocket.instances = [];
    vi.useFakeTimers();
  });
  afterEach(() => vi.useRealTimers());

  it('posts each call with the bearer token, JSON only when there is a request', async () => {
    const fetch = vi.fn(async (url: string, init: RequestInit) => reply(200, { url, body: init.body ?? null }));
    const c = client('tok', fetch);
    expect(await c.api.listModels()).toEqual({ url: `${origin}/api/listModels`, body: null });
    expect(await c.api.getRun({ id: 'r1' })).toEqual({ url: `${origin}/api/getRun`, body: '{"id":"r1"}' });
    expect(fetch.mock.calls[0][1]).toMatchObject({ method: 'POST', headers: { Authorization: 'Bearer tok' } });
    expect(fetch.mock.calls[1][1].headers).toEqual({ Authorization: 'Bearer tok', 'Content-Type': 'application/json' });
  });

  it("rejects a request problem (4xx) with the server's message as it is", async () => {
    const c = client('tok', async (url) => (url.endsWith('getRun')
      ? reply(404, { error: "no run 'x'" })
      : reply(400, { error: 'getRun: invalid request (id: too short)' })));
    await expect(c.api.getRun({ id: 'x' })).rejects.toThrow(new Error("no run 'x'"));
    await expect(c.api.stopRun({ id: 'x' })).rejects.toThrow(new Error('getRun: invalid request (id: too short)'));
  });

  it('says that the host failed (5xx), with its message or else the status', async () => {
    const c = client('tok', async (url) => (url.endsWith('getRun') ? reply(500, { error: 'ENOSPC: no space left on device' }) : new Response('oops', { status: 502 })));
    await expect(c.api.getRun({ id: 'x' })).rejects.toThrow(new Error('The workbench host failed: ENOSPC: no space left on device'));
    await expect(c.api.listRuns()).rejects.toThrow(new Error('The workbench host failed: listRuns: the server answered HTTP 502'));
  });

  it('says that the host failed when a success carries no JSON', async () => {
    const c = client('tok', async () => new Response('<html>', { status: 200 }));
    await expect(c.api.listRuns()).rejects.toThrow(new Error('The workbench host failed: listRuns: the server answered HTTP 200 with a body that is not JSON'));
  });

  it('says plainly when the server is unreachable, or the connection drops mid-answer', async () => {
    const c = client('tok', async () => {
      throw new TypeError('Failed to fetch');
    });
    await expect(c.api.listRuns()).rejects.toThrow(/^Cannot reach the workbench server at http:\/\/127\.0\.0\.1:8765 \(Failed to fetch\); is `pix serve` still running\?$/);
    const dropped = new Response(new ReadableStream({ start: (controller) => controller.error(new TypeError('network error')) }), { status: 200 });
    const d = client('tok', async () => dropped);
    await expect(d.api.listRuns()).rejects.toThrow(/^Cannot reach the workbench server at .* \(network error\); is `pix serve` still running\?$/);
  });

  it('without a token: every call rejects with what to do, nothing is fetched, no socket opens', async () => {
    const fetch = vi.fn();
    const c = client(null, fetch);
    await expect(c.api.listRuns()).rejects.toThrow(MISSING_TOKEN_MESSAGE);
    c.on('runUpdated', () => undefined);
    expect(fetch).not.toHaveBeenCalled();
    expect(FakeSocket.instances).toHaveLength(0);
  });

  it('a refused token (401) is final: later calls say so without fetching, the socket closes', async () => {
    const fetch = vi.fn(async () => reply(401, { error: 'missing or wrong access token' }));
    const c = client('stale', fetch);
    c.on('runLog', () => undefined);
    FakeSocket.instances[0].open();
    await expect(c.api.listRuns()).rejects.toThrow(REJECTED_TOKEN_MESSAGE);
    expect(FakeSocket.instances[0].closedByClient).toBe(true);
    await expect(c.api.listRuns()).rejects.toThrow(REJECTED_TOKEN_MESSAGE);
    expect(fetch).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(FakeSocket.instances).toHaveLength(1);
  });

  it('opens one socket on the first subscription, with the token as a subprotocol, and delivers events', () => {
    const c = client('tok', vi.fn());
    const logs: unknown[] = [];
    const updates: unknown[] = [];
    const off = c.on('runLog', (payload) => logs.push(payload));
    c.on('runUpdated', (payload) => updates.push(payload));
    expect(FakeSocket.instances).toHaveLength(1);
    const socket = FakeSocket.instances[0];
    expect(socket.url).toBe('ws://127.0.0.1:8765/api/events');
    expect(socket.protocols).toEqual(['pix-events', 'pix-token.tok']);
    socket.open();
    socket.push({ event: 'runLog', payload: { id: 'a', lines: ['hello'] } });
    off();
    socket.push({ event: 'runLog', payload: { id: 'a', lines: ['after off'] } });
    expect(logs).toEqual([{ id: 'a', lines: ['hello'] }]);
    expect(updates).toEqual([]);
    expect(() => socket.push({ payload: 1 })).toThrow(/without an event name/);
  });

  it('reconnects with growing, capped delays after drops, and resets once connected', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(1);  // no jitter: delays are exactly 100, 200, 400, 400
    const c = client('tok', vi.fn(async () => new Response(null, { status: 204 })));
    c.on('runLog', () => undefined);
    const waits: number[] = [];
    for (let i = 0; i < 4; i++) {
      const before = FakeSocket.instances.length;
      FakeSocket.instances.at(-1)!.drop();
      let waited = 0;
      while (FakeSocket.instances.length === before) {
        await vi.advanceTimersByTimeAsync(50);
        waited += 50;
      }
      waits.push(waited);
    }
    expect(waits).toEqual([100, 200, 400, 400]);
    FakeSocket.instances.at(-1)!.open();
    FakeSocket.instances.at(-1)!.drop();
    await vi.advanceTimersByTimeAsync(100);
    expect(FakeSocket.instances).toHaveLength(6);
  });

  it('says once that the stream is lost, however many reopenings fail, and when it is restored', async () => {
    const c = client('tok', vi.fn(async () => new Response(null, { status: 204 })));
    const states: string[] = [];
    const off = c.onStreamState!((state) => states.push(state));
    c.on('runLog', () => undefined);
    FakeSocket.instances[0].open();
    expect(states).toEqual([]);
    FakeSocket.instances[0].drop();
    await vi.advanceTimersByTimeAsync(1000);
    FakeSocket.instances.at(-1)!.drop();
    await vi.advanceTimersByTimeAsync(1000);
    expect(states).toEqual(['lost']);
    FakeSocket.instances.at(-1)!.open();
    expect(states).toEqual(['lost', 'restored']);
    off();
    FakeSocket.instances.at(-1)!.drop();
    expect(states).toEqual(['lost', 'restored']);
  });

  it('asks the server whether a socket that never opened was refused, and stops if so', async () => {
    const fetch = vi.fn(async () => reply(401));
    const c = client('stale', fetch);
    c.on('runLog', () => undefined);
    FakeSocket.instances[0].drop();
    await vi.advanceTimersByTimeAsync(1000);
    expect(fetch).toHaveBeenCalledWith(`${origin}/api/session`, { headers: { Authorization: 'Bearer stale' } });
    expect(FakeSocket.instances).toHaveLength(1);
    await expect(c.api.listRuns()).rejects.toThrow(REJECTED_TOKEN_MESSAGE);
  });
});
