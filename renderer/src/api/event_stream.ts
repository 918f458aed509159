// A WebSocket that comes back: when the events socket closes (server restarted, laptop slept, SSH
// tunnel dropped) it reopens after a delay that doubles up to a cap, with jitter so many tabs do
// not reconnect in lockstep. It only carries frames; what they mean is the serve client's business.
export interface Backoff {
  initialMs: number;
  maxMs: number;
}

export const DEFAULT_BACKOFF: Backoff = { initialMs: 500, maxMs: 30_000 };

export interface EventStreamOptions {
  url: string;
  protocols: string[];
  WebSocket: typeof WebSocket;
  backoff: Backoff;
  onMessage(data: string): void;
  /** After each open; `reopened` is true from the second successful open on (events were missed). */
  onOpen?(reopened: boolean): void;
  /** After each close; `opened` is false when the socket never got through (refused or unreachable). */
  onClose?(opened: boolean): void;
}

export interface EventStream {
  /** Closes the socket for good; no reconnect follows. */
  stop(): void;
}

export function openEventStream(options: EventStreamOptions): EventStream {
  let socket: WebSocket | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let failures = 0;
  let everOpened = false;
  let stopped = false;

  function connect(): void {
    const current = new options.WebSocket(options.url, options.protocols);
    let opened = false;
    socket = current;
    current.onopen = () => {
      opened = true;
      failures = 0;
      const reopened = everOpened;
      everOpened = true;
      options.onOpen?.(reopened);
    };
    current.onmessage = (message: MessageEvent) => options.onMessage(String(message.data));
    current.onclose = () => {
      if (socket === current) socket = undefined;
      if (stopped) return;
      const delay = Math.min(options.backoff.maxMs, options.backoff.initialMs * 2 ** failures);
      failures += 1;
      timer = setTimeout(connect, delay * (0.5 + Math.random() / 2));
      options.onClose?.(opened);
    };
  }

  connect();
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
      socket?.close(1000);
    },
  };
}
