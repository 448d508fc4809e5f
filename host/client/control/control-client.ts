// Client side of the control lane: TLS with fingerprint pinning, framing,
// request/reply correlation, and a mirror of the server state built from the
// events. The headless client and the tests use it; the UI will too.
import { EventEmitter } from 'node:events';
import tls from 'node:tls';
import { isIP } from 'node:net';
import { encodeFrame, encodeJsonFrame, FrameDecoder, FrameKind } from '../../protocol/framing.js';
import type { ErrorCode } from '../../protocol/errors.js';
import type { ChannelView, ChatMessageView, SelfView, ServerMessage, UserView, VoiceFeedback, WelcomeResult } from '../../protocol/server-messages.js';
import { MAX_VOICE_REPORT_SPEAKERS } from '../../protocol/client-messages.js';
import { FingerprintMismatchError, KnownHosts } from './known-hosts.js';

export class ServerError extends Error {
  constructor(readonly code: ErrorCode, message: string, readonly details?: Record<string, unknown>) {
    super(`${code}: ${message}`);
  }
}

export interface ConnectOptions {
  host: string;
  port: number;
  /** Exact fingerprint to require (e.g. from the server's first-run output). */
  fingerprint?: string;
  /** TOFU store; ignored when `fingerprint` is given. */
  knownHostsFile?: string;
  /** Accept any certificate (no pinning). Only for throwaway tools; never for a real client. */
  insecure?: boolean;
  /** Seconds between keep-alive pings (0 disables). */
  pingIntervalMs?: number;
  requestTimeoutMs?: number;
  maxFrameBytes?: number;
}

function fingerprintFormat(fp: string): string {
  return fp.toUpperCase();
}

/** Mirror of what the server told us, kept current from events. */
export class ClientState {
  self: SelfView | null = null;
  readonly channels = new Map<number, ChannelView>();
  readonly users = new Map<number, UserView>();
  readonly chat: ChatMessageView[] = [];
  /** What our listeners last reported about hearing us (voice.feedback), with when it came; null until the first. */
  voiceFeedback: (VoiceFeedback & { receivedAt: number }) | null = null;

  apply(m: ServerMessage): void {
    switch (m.type) {
      case 'state':
        this.self = m.self;
        this.channels.clear();
        this.users.clear();
        for (const c of m.channels) this.channels.set(c.id, c);
        for (const u of m.users) this.users.set(u.sessionId, u);
        break;
      case 'channel.upsert':
        this.channels.set(m.channel.id, m.channel);
        break;
      case 'user.upsert':
        this.users.set(m.user.sessionId, m.user);
        if (this.self && m.user.sessionId === this.self.sessionId) this.self = { ...this.self, role: m.user.role };
        break;
      case 'user.remove':
        this.users.delete(m.sessionId);
        break;
      case 'chat.message':
        this.chat.push(m.message);
        break;
      case 'voice.feedback':
        this.voiceFeedback = { lossPercent: m.lossPercent, jitterMs: m.jitterMs, listeners: m.listeners, receivedAt: Date.now() };
        break;
      default:
        break;
    }
  }
}

export class ControlClient extends EventEmitter {
  readonly state = new ClientState();
  fingerprint = '';
  disconnectReason: Extract<ServerMessage, { type: 'disconnect' }> | null = null;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  private nextId = 1;
  private pingTimer: NodeJS.Timeout | null = null;
  closed = false;

  private constructor(readonly socket: tls.TLSSocket, private readonly opts: ConnectOptions) {
    super();
    const decoder = new FrameDecoder(opts.maxFrameBytes ?? 16 * 1024 * 1024);
    socket.on('data', (chunk: Buffer) => {
      let frames;
      try {
        frames = decoder.push(chunk);
      } catch (err) {
        this.emit('protocolError', err);
        socket.destroy();
        return;
      }
      for (const f of frames) {
        if (f.kind === FrameKind.voice) this.emit('voice', f.body);
        else if (f.kind === FrameKind.json) {
          let m: ServerMessage;
          try {
            m = JSON.parse(f.body.toString('utf8')) as ServerMessage;
          } catch (err) {
            this.emit('protocolError', err);
            continue;
          }
          this.onMessage(m);
        }
      }
    });
    socket.on('close', () => {
      this.closed = true;
      if (this.pingTimer) clearInterval(this.pingTimer);
      for (const p of this.pending.values()) {
        clearTimeout(p.timer);
        p.reject(new Error(this.disconnectReason ? `disconnected: ${this.disconnectReason.code}` : 'connection closed'));
      }
      this.pending.clear();
      this.emit('close', this.disconnectReason);
    });
    socket.on('error', (err) => this.emit('socketError', err));
  }

  static connect(opts: ConnectOptions): Promise<ControlClient> {
    return new Promise((resolve, reject) => {
      const socket = tls.connect({
        host: opts.host,
        port: opts.port,
        minVersion: 'TLSv1.3',
        // The certificate is self-signed: trust comes from the pinned fingerprint, checked below
        // before a single byte (let alone a password) is sent.
        rejectUnauthorized: false,
        // SNI carries host names only, never address literals.
        servername: isIP(opts.host) === 0 ? opts.host : undefined,
      } as tls.ConnectionOptions);
      const fail = (err: Error) => {
        socket.destroy();
        reject(err);
      };
      socket.once('error', fail);
      socket.once('secureConnect', () => {
        socket.off('error', fail);
        const fp = fingerprintFormat(socket.getPeerCertificate().fingerprint256 ?? '');
        const hostKey = `${opts.host}:${opts.port}`;
        try {
          if (opts.fingerprint !== undefined) {
            if (fingerprintFormat(opts.fingerprint) !== fp) throw new FingerprintMismatchError(hostKey, opts.fingerprint, fp);
          } else if (opts.knownHostsFile) {
            new KnownHosts(opts.knownHostsFile).verify(hostKey, fp);
          } else if (!opts.insecure) {
            throw new Error('refusing to connect without a fingerprint or a known-hosts file to pin it in');
          }
        } catch (err) {
          return fail(err as Error);
        }
        const client = new ControlClient(socket, opts);
        client.fingerprint = fp;
        const every = opts.pingIntervalMs ?? 20_000;
        if (every > 0) {
          client.pingTimer = setInterval(() => client.sendRaw({ type: 'ping' }), every);
          client.pingTimer.unref();
        }
        resolve(client);
      });
    });
  }

  /**
   * Opens TLS only to read the server certificate's SHA-256 fingerprint, and
   * closes at once: nothing is sent. For asking the user about a server seen
   * for the first time, before anything (a password above all) goes to it.
   */
  static probeFingerprint(host: string, port: number, timeoutMs = 10_000): Promise<string> {
    return new Promise((resolve, reject) => {
      const socket = tls.connect({ host, port, minVersion: 'TLSv1.3', rejectUnauthorized: false, servername: isIP(host) === 0 ? host : undefined } as tls.ConnectionOptions);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`no TLS handshake with ${host}:${port} within ${timeoutMs} ms`));
      }, timeoutMs);
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      socket.once('secureConnect', () => {
        clearTimeout(timer);
        const fp = fingerprintFormat(socket.getPeerCertificate().fingerprint256 ?? '');
        socket.destroy();
        resolve(fp);
      });
    });
  }

  private onMessage(m: ServerMessage): void {
    if (m.type === 'reply' || (m.type === 'error' && m.id !== undefined)) {
      const p = typeof m.id === 'number' ? this.pending.get(m.id) : undefined;
      if (p) {
        this.pending.delete(m.id as number);
        clearTimeout(p.timer);
        if (m.type === 'reply') p.resolve(m.result);
        else p.reject(new ServerError(m.code, m.message, m.details));
        if (m.type === 'reply') {
          const r = m.result as Partial<WelcomeResult> | undefined;
          if (r && r.self && r.channels && r.users) this.state.apply({ type: 'state', self: r.self, channels: r.channels, users: r.users });
        }
        return;
      }
    }
    if (m.type === 'disconnect') this.disconnectReason = m;
    this.state.apply(m);
    this.emit('message', m);
    // 'error' is special to EventEmitter (throws without a listener): server errors that
    // answer no request are emitted as 'serverError'.
    this.emit(m.type === 'error' ? 'serverError' : m.type, m);
  }

  /** Sends any JSON value as a frame, unchecked: tests use it to send bad input. */
  sendRaw(value: unknown): void {
    if (!this.socket.destroyed) this.socket.write(encodeJsonFrame(value));
  }

  sendBytes(bytes: Buffer): void {
    if (!this.socket.destroyed) this.socket.write(bytes);
  }

  sendVoiceFrame(datagram: Buffer): void {
    if (!this.socket.destroyed) this.socket.write(encodeFrame(FrameKind.voice, datagram));
  }

  request<T = Record<string, unknown>>(type: string, fields: Record<string, unknown> = {}): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      if (this.closed) return reject(new Error('connection closed'));
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${type}: no reply within ${this.opts.requestTimeoutMs ?? 10_000} ms`));
      }, this.opts.requestTimeoutMs ?? 10_000);
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      this.sendRaw({ ...fields, type, id });
    });
  }

  login(username: string, password: string): Promise<WelcomeResult> {
    return this.request<WelcomeResult>('login', { username, password });
  }

  register(username: string, password: string, extra: { invite?: string; bootstrapToken?: string } = {}): Promise<WelcomeResult> {
    return this.request<WelcomeResult>('register', { username, password, ...extra });
  }

  /**
   * Tells the server how well we hear each speaker (voice.report), so their
   * encoders can plan for our loss. Fire-and-forget: no id, no reply. The
   * server takes about one per second; a call within 1 s of the last sent one
   * is skipped (returns false) rather than earning a RATE_LIMITED. Values are
   * clamped to the protocol's ranges and at most 64 speakers are sent.
   */
  reportVoice(speakers: readonly { sessionId: number; lossPercent: number; jitterMs: number }[]): boolean {
    const now = Date.now();
    if (this.closed || now - this.lastVoiceReportAt < 1000) return false;
    this.lastVoiceReportAt = now;
    const clamp = (v: number, max: number) => (Number.isFinite(v) ? Math.min(max, Math.max(0, v)) : 0);
    this.sendRaw({
      type: 'voice.report',
      speakers: speakers.slice(0, MAX_VOICE_REPORT_SPEAKERS).map((s) => ({ sessionId: s.sessionId, lossPercent: clamp(s.lossPercent, 100), jitterMs: clamp(s.jitterMs, 10_000) })),
    });
    return true;
  }

  private lastVoiceReportAt = -Infinity;

  /** Resolves with the next server message matching `pred` (events only, not replies). */
  waitFor<T extends ServerMessage = ServerMessage>(pred: (m: ServerMessage) => boolean, timeoutMs = 5000): Promise<T> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off('message', on);
        reject(new Error('timed out waiting for a server message'));
      }, timeoutMs);
      const on = (m: ServerMessage) => {
        if (!pred(m)) return;
        clearTimeout(timer);
        this.off('message', on);
        resolve(m as T);
      };
      this.on('message', on);
    });
  }

  waitClose(timeoutMs = 5000): Promise<Extract<ServerMessage, { type: 'disconnect' }> | null> {
    if (this.closed) return Promise.resolve(this.disconnectReason);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('connection did not close')), timeoutMs);
      this.once('close', (r) => {
        clearTimeout(timer);
        resolve(r);
      });
    });
  }

  close(): void {
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.socket.end();
    this.socket.destroy();
  }
}
