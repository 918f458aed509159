// A TCP socket carrying length-prefixed frames, read as awaited messages: the transport under the
// rendezvous and the ring all-reduce. Each frame is a 4-byte little-endian length and its bytes.
// It is not a general RPC layer: one reader awaits one frame at a time, in order.
import type { Socket } from 'node:net';

export class FramedSocket {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private waiter: { resolve: (frame: Buffer) => void; reject: (error: Error) => void } | undefined;
  private failure: Error | undefined;

  constructor(readonly socket: Socket, private readonly peer: string) {
    socket.setNoDelay(true);
    socket.on('data', (data: Buffer) => {
      this.chunks.push(data);
      this.buffered += data.length;
      this.deliver();
    });
    socket.on('error', (error) => this.fail(new Error(`connection to ${peer} failed: ${error.message}`)));
    socket.on('close', () => this.fail(new Error(`${peer} closed the connection (did that process exit?)`)));
  }

  send(frame: Uint8Array): void {
    if (this.failure) throw this.failure;
    const header = Buffer.alloc(4);
    header.writeUInt32LE(frame.byteLength);
    this.socket.write(header);
    this.socket.write(frame);
  }

  sendJson(value: unknown): void {
    this.send(Buffer.from(JSON.stringify(value)));
  }

  /** The next frame. Only one receive may be pending at a time. */
  receive(): Promise<Buffer> {
    if (this.waiter) return Promise.reject(new Error(`FramedSocket(${this.peer}): a receive is already pending`));
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
      this.deliver();
    });
  }

  async receiveJson<T>(): Promise<T> {
    return JSON.parse((await this.receive()).toString('utf8')) as T;
  }

  close(): void {
    this.socket.end();
    this.socket.destroy();
  }

  private take(bytes: number): Buffer {
    const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.buffered);
    const out = all.subarray(0, bytes);
    const rest = all.subarray(bytes);
    this.chunks = rest.length ? [rest] : [];
    this.buffered = rest.length;
    return out;
  }

  private deliver(): void {
    if (!this.waiter) return;
    if (this.buffered >= 4) {
      const head = this.chunks[0]!.length >= 4 ? this.chunks[0]! : Buffer.concat(this.chunks, this.buffered);
      const length = head.readUInt32LE(0);
      if (this.buffered >= 4 + length) {
        this.take(4);
        // Copy: the frame must not alias a buffer that later data is appended to.
        const frame = Buffer.from(this.take(length));
        const { resolve } = this.waiter;
        this.waiter = undefined;
        resolve(frame);
        return;
      }
    }
    if (this.failure) {
      const { reject } = this.waiter;
      this.waiter = undefined;
      reject(this.failure);
    }
  }

  private fail(error: Error): void {
    this.failure ??= error;
    this.deliver();
  }
}
