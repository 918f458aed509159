// `/api/events`: a WebSocket that pushes every WorkbenchEvents event as `{ event, payload }` JSON to
// every connected browser. One host subscription per event while any socket is open, one JSON
// encoding per event, however many sockets listen. One-way: what a client sends is ignored.
// The upgrade is authenticated by the server before it reaches handleUpgrade here.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import { workbenchEvents, type WorkbenchClient } from '../../../shared/api';
import { EVENTS_PROTOCOL } from './auth';

/** A client this far behind (a stalled tab, a dead tunnel) is dropped; it reconnects and refetches. */
const MAX_BUFFERED_BYTES = 8 * 2 ** 20;
/** How often a silent peer is pinged; one that misses a round is gone (half-open TCP over SSH). */
const HEARTBEAT_MS = 30_000;

export interface EventsSocket {
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Closes every socket (1001, going away) and stops listening to the host. */
  close(): Promise<void>;
}

export function createEventsSocket(client: Pick<WorkbenchClient, 'on'>): EventsSocket {
  const server = new WebSocketServer({
    noServer: true,
    // Browsers only accept the upgrade if it picks one of their offered protocols; the token entry
    // is offered too, so this names the fixed one and the token is never echoed back.
    handleProtocols: (offered) => (offered.has(EVENTS_PROTOCOL) ? EVENTS_PROTOCOL : false),
    maxPayload: 4096,
  });
  const alive = new WeakSet<WebSocket>();

  server.on('connection', (socket) => {
    alive.add(socket);
    listen();
    socket.on('pong', () => alive.add(socket));
    socket.on('error', () => socket.terminate());
    // ws has already removed a closed socket from server.clients.
    socket.on('close', () => {
      if (server.clients.size === 0) stopListening();
    });
  });

  const heartbeat = setInterval(() => {
    for (const socket of server.clients) {
      if (!alive.has(socket)) {
        socket.terminate();
        continue;
      }
      alive.delete(socket);
      socket.ping();
    }
  }, HEARTBEAT_MS);
  heartbeat.unref();

  function broadcast(message: string): void {
    for (const socket of server.clients) {
      if (socket.readyState !== WebSocket.OPEN) continue;
      if (socket.bufferedAmount > MAX_BUFFERED_BYTES) socket.terminate();
      else socket.send(message);
    }
  }

  // Subscribed only while a browser listens: the host does work per listener (it samples system
  // stats only while someone wants them), which a server with no tab open should not cause.
  let unsubscribes: (() => void)[] = [];
  function listen(): void {
    if (unsubscribes.length > 0) return;
    unsubscribes = workbenchEvents.map((event) => client.on(event, (payload) => broadcast(JSON.stringify({ event, payload }))));
  }
  function stopListening(): void {
    for (const unsubscribe of unsubscribes) unsubscribe();
    unsubscribes = [];
  }

  return {
    handleUpgrade(request, socket, head) {
      server.handleUpgrade(request, socket, head, (ws) => server.emit('connection', ws, request));
    },
    close() {
      clearInterval(heartbeat);
      stopListening();
      for (const socket of server.clients) socket.close(1001, 'server shutting down');
      return new Promise((resolve) => {
        // Sockets that do not finish the closing handshake promptly are cut.
        const cutoff = setTimeout(() => {
          for (const socket of server.clients) socket.terminate();
        }, 1000);
        server.close(() => {
          clearTimeout(cutoff);
          resolve();
        });
      });
    },
  };
}
