// A bare control-lane client for the abuse tests and bench/abuse: it can bind
// any loopback source address (Linux routes all of 127/8 to lo, so 127.0.0.2 ...
// act as different client IPs), and it answers every request with the server's
// message instead of throwing, so a test can count replies and errors.
import { readFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { encodeFrame, encodeJsonFrame, FrameDecoder, FrameKind } from '../../host/protocol/framing.js';
import type { ServerMessage } from '../../host/protocol/server-messages.js';

export type Answer = Extract<ServerMessage, { type: 'reply' } | { type: 'error' }>;
export type Disconnect = Extract<ServerMessage, { type: 'disconnect' }>;

export class AbuseClient {
  readonly messages: ServerMessage[] = [];
  readonly voiceFrames: Buffer[] = [];
  disconnect: Disconnect | null = null;
  closed = false;
  private nextId = 1;
  private readonly pending = new Map<number, (m: Answer | null) => void>();
  private readonly closeWaiters: Array<() => void> = [];

  private constructor(readonly socket: tls.TLSSocket) {
    const decoder = new FrameDecoder(16 * 1024 * 1024);
    socket.on('data', (chunk: Buffer) => {
      for (const f of decoder.push(chunk)) {
        if (f.kind === FrameKind.voice) {
          this.voiceFrames.push(f.body);
          continue;
        }
        const m = JSON.parse(f.body.toString('utf8')) as ServerMessage;
        this.messages.push(m);
        if (m.type === 'disconnect') this.disconnect = m;
        if ((m.type === 'reply' || m.type === 'error') && typeof m.id === 'number') {
          this.pending.get(m.id)?.(m);
          this.pending.delete(m.id);
        }
      }
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      this.closed = true;
      for (const r of this.pending.values()) r(null);
      this.pending.clear();
      for (const w of this.closeWaiters.splice(0)) w();
    });
  }

  /** TLS from `localAddress` (default: the kernel's choice, 127.0.0.1 for loopback). */
  static connect(port: number, localAddress?: string, timeoutMs = 10_000): Promise<AbuseClient> {
    return new Promise((resolve, reject) => {
      // localAddress goes through to net.connect (tls's typings leave it out).
      const socket = tls.connect({ host: '127.0.0.1', port, localAddress, minVersion: 'TLSv1.3', rejectUnauthorized: false } as tls.ConnectionOptions);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`no TLS handshake within ${timeoutMs} ms`));
      }, timeoutMs);
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      socket.once('secureConnect', () => {
        clearTimeout(timer);
        resolve(new AbuseClient(socket));
      });
    });
  }

  /** Sends a request; resolves with its reply or error, or null if the connection closed first. */
  request(type: string, fields: Record<string, unknown> = {}): Promise<Answer | null> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      if (this.closed) return resolve(null);
      this.pending.set(id, resolve);
      this.socket.write(encodeJsonFrame({ ...fields, type, id }));
    });
  }

  login(username: string, password: string): Promise<Answer | null> {
    return this.request('login', { username, password });
  }

  sendJson(value: unknown): void {
    if (!this.closed) this.socket.write(encodeJsonFrame(value));
  }

  /** Many JSON frames in one write (so they arrive together, in one TLS record when small). */
  sendJsonBatch(values: unknown[]): void {
    if (!this.closed) this.socket.write(Buffer.concat(values.map((v) => encodeJsonFrame(v))));
  }

  sendVoice(datagram: Buffer): boolean {
    if (this.closed) return false;
    return this.socket.write(encodeFrame(FrameKind.voice, datagram));
  }

  /** Resolves once the server closed the connection (with its disconnect, if it sent one). */
  waitClose(timeoutMs = 10_000): Promise<Disconnect | null> {
    if (this.closed) return Promise.resolve(this.disconnect);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('connection did not close')), timeoutMs);
      this.closeWaiters.push(() => {
        clearTimeout(timer);
        resolve(this.disconnect);
      });
    });
  }

  close(): void {
    this.socket.destroy();
  }
}

/** A plain TCP socket from `localAddress` that never sends a byte (no ClientHello). */
export function silentSocket(port: number, localAddress: string): Promise<net.Socket> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port, localAddress });
    s.on('error', () => {});
    // Resolved on connect or on failure alike: a refused socket is part of the flood too.
    s.once('connect', () => resolve(s));
    s.once('close', () => resolve(s));
  });
}

/** Soft limit of open files of this process (Linux), or Infinity when unknown. */
export function openFileLimit(): number {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
    const soft = line?.split(/\s{2,}/)[1];
    return soft === undefined || soft === 'unlimited' ? Infinity : Number(soft);
  } catch {
    return Infinity;
  }
}
