// One TLS connection: bytes → frames → JSON → schema → handler, strictly in
// order. Everything that can go wrong with input ends here as an error reply
// or, for abuse, a disconnect; nothing escapes to crash the server.
import type { TLSSocket } from 'node:tls';
import type { Logger } from '../log/logger.js';
import { encodeJsonFrame, FrameDecoder, FrameKind, FrameTooLargeError, type Frame } from '../protocol/framing.js';
import { ERROR_CODES, ProtocolError, type ErrorCode } from '../protocol/errors.js';
import { parseClientMessage, PRE_AUTH_TYPES, type ClientMessage } from '../protocol/client-messages.js';
import type { ServerMessage, UserView } from '../protocol/server-messages.js';
import type { ServerConfig } from '../config/server-config.js';
import { TokenBucket } from './token-bucket.js';
import { SocketOutbox } from './outbox.js';

/** What a connection knows once logged in. */
export interface SessionInfo extends Omit<UserView, 'voiceToken'> {
  connectedAt: number;
  /** Voice-lane token (public id), once the voice lane attached the session. */
  voiceToken?: number;
}

export type MessageHandler = (conn: Connection, message: ClientMessage) => Promise<unknown> | unknown;

/** A socket whose peer does not read is cut before its backlog costs us memory. */
const MAX_PENDING_WRITE_BYTES = 4 * 1024 * 1024;
/** Frames pending per connection, the one being processed included; more than this is a flood. */
const MAX_QUEUED_FRAMES = 256;
const FLOOD_WINDOW_MS = 10_000;
/** After a queue overflow, how long the request in flight may still take to get its reply. */
const FLOOD_REPLY_GRACE_MS = 5000;

export class Connection {
  session: SessionInfo | null = null;
  readonly connectedAt = Date.now();
  lastActivity = Date.now();
  closed = false;
  /**
   * Extra per-connection hooks (e.g. the voice tunnel) can attach here. A hook
   * that returns false says the frame did not authenticate (garbage).
   */
  onVoiceFrame: ((body: Buffer) => boolean | void) | null = null;
  /**
   * Asks connection admission for a logged-in session's slot (server.ts sets
   * it); false when the server's sessions are full.
   */
  claimSessionSlot: () => boolean = () => true;

  private readonly decoder: FrameDecoder;
  /** Frames waiting for the socket, written a slice at a time (outbox.ts says why). */
  private readonly outbox: SocketOutbox;
  private readonly bucket: TokenBucket;
  /**
   * Voice frames over TLS have a budget of their own, spent before any crypto:
   * the same rate the voice lane allows a session over UDP (a voice client
   * sends 50/s, far more than the message bucket's 20/s).
   */
  private readonly voiceBucket: TokenBucket;
  private queue: Promise<void> = Promise.resolve();
  private queued = 0;
  private inFlight = false;
  /** A queue overflow was seen: nothing more is processed, the connection is being cut. */
  private flooding = false;
  private violations = 0;
  private violationWindowStart = Date.now();
  private voiceGarbage = 0;
  private voiceGarbageWindowStart = Date.now();
  private readonly closeListeners: Array<(code: ErrorCode | 'CLOSED') => void> = [];

  constructor(
    readonly socket: TLSSocket,
    readonly ip: string,
    readonly connId: number,
    private readonly config: ServerConfig,
    readonly log: Logger,
    private readonly handle: MessageHandler,
  ) {
    this.decoder = new FrameDecoder(config.limits.maxFrameBytes);
    this.outbox = new SocketOutbox(socket);
    this.bucket = new TokenBucket(config.limits.messagesPerSecond, config.limits.messageBurst);
    this.voiceBucket = new TokenBucket(config.voice.packetsPerSecond, config.voice.packetBurst);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => log.debug({ err: err.message }, 'socket error'));
    socket.on('close', () => this.finish('CLOSED'));
  }

  onClose(fn: (code: ErrorCode | 'CLOSED') => void): void {
    this.closeListeners.push(fn);
  }

  send(message: ServerMessage): void {
    this.sendRaw(encodeJsonFrame(message));
  }

  sendRaw(frame: Buffer): void {
    if (this.closed || this.socket.destroyed) return;
    if (this.outbox.pendingBytes > MAX_PENDING_WRITE_BYTES) {
      this.log.warn({ pending: this.outbox.pendingBytes }, 'peer is not reading; disconnecting');
      this.socket.destroy();
      return;
    }
    this.outbox.push(frame);
  }

  sendError(code: ErrorCode, message: string = ERROR_CODES[code], id?: unknown, details?: Record<string, unknown>): void {
    const m: ServerMessage = { type: 'error', code, message };
    if (typeof id === 'number' || typeof id === 'string') m.id = id;
    if (details) m.details = details;
    this.send(m);
  }

  /** Tells the peer why, then closes. Idempotent. */
  disconnect(code: ErrorCode, message: string = ERROR_CODES[code], extra: { reason?: string; expiresAt?: number | null } = {}): void {
    if (this.closed) return;
    this.send({ type: 'disconnect', code, message, ...extra });
    this.log.info({ code, reason: extra.reason }, 'disconnecting');
    this.finish(code);
    this.outbox.end();
    // A peer that never reads must not keep the socket half-open forever.
    setTimeout(() => this.socket.destroy(), 2000).unref();
  }

  /** Periodic checks driven by the server's sweep timer. */
  checkTimers(now: number): void {
    const l = this.config.limits;
    if (this.closed) return;
    if (this.session === null && now - this.connectedAt > l.loginTimeoutMs) {
      this.disconnect('TIMEOUT', 'not logged in within the login timeout');
    } else if (this.decoder.partialSince !== null && now - this.decoder.partialSince > l.frameStallTimeoutMs) {
      this.disconnect('TIMEOUT', 'a frame stalled half-sent');
    } else if (now - this.lastActivity > l.idleTimeoutMs) {
      this.disconnect('TIMEOUT', 'no traffic within the idle timeout (send ping)');
    }
  }

  private finish(code: ErrorCode | 'CLOSED'): void {
    if (this.closed) return;
    this.closed = true;
    for (const fn of this.closeListeners) {
      try {
        fn(code);
      } catch (err) {
        this.log.error({ err }, 'close listener failed');
      }
    }
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    let frames: Frame[];
    try {
      frames = this.decoder.push(chunk);
    } catch (err) {
      if (err instanceof FrameTooLargeError) {
        this.log.warn({ length: err.length }, 'oversized frame');
        this.disconnect('FRAME_TOO_LARGE', err.message);
      } else {
        this.log.warn({ err: (err as Error).message }, 'bad frame');
        this.disconnect('BAD_FRAME', (err as Error).message);
      }
      return;
    }
    if (frames.length === 0) return;
    this.lastActivity = Date.now();
    for (const frame of frames) {
      if (this.queued >= MAX_QUEUED_FRAMES) return this.queueOverflow();
      this.queued++;
      this.queue = this.queue.then(() => this.run(frame)).finally(() => this.queued--);
    }
  }

  /**
   * More than MAX_QUEUED_FRAMES pending. The request being processed right now
   * (if any) still completes and gets its reply, so a client never loses the
   * answer to something that took effect; nothing queued behind it is
   * processed; then `disconnect FLOOD`.
   */
  private queueOverflow(): void {
    if (this.flooding) return;
    this.flooding = true;
    this.log.warn({ inFlight: this.inFlight }, 'frame queue overflow');
    this.socket.pause();
    const cut = () => this.disconnect('FLOOD', 'too many messages queued');
    if (!this.inFlight) return cut();
    this.queue = this.queue.then(cut);
    setTimeout(cut, FLOOD_REPLY_GRACE_MS).unref();
  }

  private async run(frame: Frame): Promise<void> {
    if (this.closed || this.flooding) return;
    this.inFlight = true;
    try {
      await this.process(frame);
    } finally {
      this.inFlight = false;
    }
  }

  private async process(frame: Frame): Promise<void> {
    if (frame.kind === FrameKind.voice && this.session && this.onVoiceFrame) {
      // Spent before the voice lane opens (decrypts) anything. Over the rate:
      // dropped, and counted towards FLOOD like refused messages.
      if (!this.voiceBucket.take()) {
        this.violation(false);
        return;
      }
      if (this.onVoiceFrame(frame.body) === false) this.countVoiceGarbage();
      return;
    }
    // Everything else (JSON, and frames that only earn an error reply) spends message tokens,
    // so a stream of bad frames is cut as a flood like any other.
    if (!this.rateOk()) return;
    if (frame.kind === FrameKind.voice) {
      this.sendError(this.session ? 'BAD_FRAME' : 'NOT_AUTHENTICATED', 'voice frames need a voice session');
      return;
    }
    if (frame.kind !== FrameKind.json) {
      this.sendError('BAD_FRAME', `unknown frame kind ${frame.kind}`);
      return;
    }
    let value: unknown;
    try {
      value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(frame.body));
    } catch {
      this.sendError('BAD_JSON', 'frame body is not valid UTF-8 JSON');
      return;
    }
    const parsed = parseClientMessage(value);
    if (!parsed.ok) {
      this.sendError(parsed.code, parsed.message, parsed.id, parsed.details);
      return;
    }
    const msg = parsed.message;
    if (this.session === null && !PRE_AUTH_TYPES.has(msg.type)) {
      this.sendError('NOT_AUTHENTICATED', `log in before sending ${msg.type}`, msg.id);
      return;
    }
    try {
      const result = await this.handle(this, msg);
      if (msg.id !== undefined && !this.closed) {
        this.send({ type: 'reply', id: msg.id, ok: true, result: result ?? {} });
      }
    } catch (err) {
      if (err instanceof ProtocolError) {
        this.sendError(err.code, err.message, msg.id, err.details);
      } else {
        this.log.error({ err, type: msg.type }, 'handler failed');
        this.sendError('INTERNAL', 'internal error; nothing was changed', msg.id);
      }
    }
  }

  private rateOk(): boolean {
    if (this.bucket.take()) return true;
    this.violation(true);
    return false;
  }

  /** A frame refused for rate. `answer`: tell the peer (not for voice, which expects no answers). */
  private violation(answer: boolean): void {
    const now = Date.now();
    if (now - this.violationWindowStart > FLOOD_WINDOW_MS) {
      this.violationWindowStart = now;
      this.violations = 0;
    }
    this.violations++;
    if (this.violations > this.config.limits.floodDisconnectAfter) {
      this.log.warn({ violations: this.violations }, 'flood');
      this.disconnect('FLOOD', answer ? 'sustained message flood' : 'sustained voice frame flood');
    } else if (answer && this.violations <= 5) {
      this.sendError('RATE_LIMITED', 'too many messages; slow down');
    }
  }

  /**
   * A voice frame that did not authenticate. A genuine client never sends one
   * (each datagram is sealed under the session's key with a fresh sequence), so
   * a stream of them is garbage and is cut before it costs more decryption.
   */
  private countVoiceGarbage(): void {
    const now = Date.now();
    if (now - this.voiceGarbageWindowStart > FLOOD_WINDOW_MS) {
      this.voiceGarbageWindowStart = now;
      this.voiceGarbage = 0;
    }
    this.voiceGarbage++;
    if (this.voiceGarbage > this.config.limits.voiceGarbageDisconnectAfter) {
      this.log.warn({ garbage: this.voiceGarbage }, 'voice frames over TLS do not authenticate');
      this.disconnect('BAD_VOICE', `${this.voiceGarbage} voice frames within ${FLOOD_WINDOW_MS / 1000} s did not authenticate`);
    }
  }
}
