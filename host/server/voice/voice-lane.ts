// The server side of the voice lane: one UDP socket, plus the same datagrams
// tunnelled through TLS when UDP does not get through. Per datagram:
// size check → token lookup → AEAD open → replay window → (learn address) →
// rate limit → keep-alive answer or fan-out re-encrypted per listener.
// Nothing unauthenticated is ever answered, so the lane cannot be used to
// reflect or amplify traffic. It also turns listeners' voice.report messages
// into each speaker's voice.feedback (loss its encoder should plan for).
import dgram from 'node:dgram';
import dns from 'node:dns';
import { isIP } from 'node:net';
import { randomBytes, randomInt } from 'node:crypto';
import type { Logger } from '../../log/logger.js';
import type { ServerConfig } from '../../config/server-config.js';
import { encodeFrame, FRAME_HEADER_BYTES, FrameKind } from '../../protocol/framing.js';
import type { VoiceFeedback, VoiceSetup } from '../../protocol/server-messages.js';
import {
  DEFAULT_VOICE_BACKEND,
  HEADER_BYTES,
  MAX_DATAGRAM_BYTES,
  MAX_PAYLOAD_BYTES,
  MIN_DATAGRAM_BYTES,
  TAG_BYTES,
  VOICE_SECRET_BYTES,
  type VoiceBackend,
} from '../../voice/packet.js';
import type { Connection, SessionInfo } from '../connection.js';
import type { Hub } from '../hub.js';
import { aggregateReports, VoiceSession, type ListenerReport } from './voice-session.js';
import { SealPool } from './seal-pool.js';

/** One entry of a voice.report (schema: protocol/client-messages.ts). */
export interface SpeakerReport {
  sessionId: number;
  lossPercent: number;
  jitterMs: number;
}

const sameFeedback = (a: VoiceFeedback, b: VoiceFeedback) => a.lossPercent === b.lossPercent && a.jitterMs === b.jitterMs && a.listeners === b.listeners;

/** A fan-out handed to a seal worker: who gets the datagrams once sealed. */
interface PendingFanout {
  speaker: VoiceSession;
  channelId: number;
  listeners: VoiceSession[];
}

export const DROP_KINDS = ['truncated', 'oversize', 'unknownToken', 'forged', 'replayed', 'overRate', 'muted', 'notVoiceChannel'] as const;
export type DropKind = (typeof DROP_KINDS)[number];

export interface VoiceStats {
  received: number;
  authenticated: number;
  keepalives: number;
  forwarded: number;
  forwardedTcp: number;
  /** Of `forwarded`: sealed by a seal worker (voice.sealWorkers). */
  forwardedSealedByWorker: number;
  dropped: Record<DropKind, number>;
}

const EMPTY = Buffer.alloc(0);
const TWO_32 = 0x1_0000_0000;
/** Sequences below 2^53 (high word below 2^21) are exact as numbers. */
const SAFE_HIGH_WORD = 0x20_0000;
/** A TCP-fallback frame: [length u32][kind u8] in front of the datagram. */
const VOICE_FRAME_PREFIX = FRAME_HEADER_BYTES + 1;

/**
 * dgram resolves every destination through `lookup` (default dns.lookup, which
 * answers even an IP literal on the next tick: a deferred call and a closure
 * per datagram). The lane only sends to addresses taken from rinfo, i.e. IP
 * literals, so answer those at once; anything else still goes to dns.lookup.
 */
function ipLiteralLookup(address: string, family: number, callback: (err: NodeJS.ErrnoException | null, address: string, family: number) => void): void {
  const f = isIP(address);
  if (f !== 0) callback(null, address, f);
  else dns.lookup(address, family, callback);
}

export class VoiceLane {
  readonly stats: VoiceStats = {
    received: 0,
    authenticated: 0,
    keepalives: 0,
    forwarded: 0,
    forwardedTcp: 0,
    forwardedSealedByWorker: 0,
    dropped: Object.fromEntries(DROP_KINDS.map((k) => [k, 0])) as Record<DropKind, number>,
  };
  /** AEAD implementation for sessions attached from now on (benchmarks compare them). */
  cryptoBackend: VoiceBackend = DEFAULT_VOICE_BACKEND;
  private socket: dgram.Socket | null = null;
  private readonly byToken = new Map<number, VoiceSession>();
  /** Tokens handed out during this process's life: never reused, so no listener key ever sees a (token, sequence) nonce twice. */
  private readonly usedTokens = new Set<number>();
  private readonly channels = new Map<number, Set<VoiceSession>>();
  private readonly scratch = Buffer.allocUnsafe(MAX_PAYLOAD_BYTES);
  /** One fan-out's sealed datagrams and their listeners, reused from packet to packet. */
  private readonly batchDatagrams: Buffer[] = [];
  private readonly batchListeners: VoiceSession[] = [];
  private readonly dropsSinceLog = new Map<DropKind, number>();
  private lastDropLog = 0;
  private sweepTimer: NodeJS.Timeout | null = null;
  /** voice.sealWorkers > 0: seals fan-outs of at least sealWorkerMinListeners UDP listeners. */
  private sealPool: SealPool<PendingFanout> | null = null;
  /**
   * Smaller fan-outs are sealed inline: a worker round trip costs more than it
   * saves (bench/voice-forward 20x2, 19 listeners: +1.5-3.5 points of a core
   * and ~0.1-0.4 ms p50 through a worker).
   */
  sealWorkerMinListeners = 32;
  /** Seal worker each speaker is pinned to (keeps its packets in order). */
  private readonly sealSlot = new Map<VoiceSession, number>();
  /**
   * Loss feedback (docs/PROTOCOL.md 12.5): reports older than reportMaxAgeMs
   * no longer count; a speaker hears of a change of at least lossStep points,
   * jitterStepMs or a different listener count after minIntervalMs, and of any
   * smaller change after refreshMs, so its encoder is not retuned on every wobble.
   */
  feedbackTiming = { reportMaxAgeMs: 10_000, minIntervalMs: 1000, refreshMs: 5000, lossStep: 1, jitterStepMs: 5 };

  constructor(
    private readonly config: ServerConfig,
    private readonly hub: Hub,
    private readonly log: Logger,
  ) {
    hub.presenceListeners.push((s, event) => this.onPresence(s, event));
  }

  get port(): number {
    return this.socket?.address().port ?? 0;
  }

  async start(controlPort: number): Promise<number> {
    const socket = dgram.createSocket({
      type: this.config.host.includes(':') ? 'udp6' : 'udp4',
      recvBufferSize: 4 << 20,
      sendBufferSize: 4 << 20,
      lookup: ipLiteralLookup as unknown as dgram.SocketOptions['lookup'],
    });
    socket.on('message', (msg, rinfo) => this.onDatagram(msg, rinfo.address, rinfo.port));
    socket.on('error', (err) => this.log.error({ err }, 'voice socket error'));
    const port = this.config.voice.port ?? (this.config.port === 0 ? 0 : controlPort);
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(port, this.config.host, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    this.socket = socket;
    if (this.config.voice.sealWorkers > 0) {
      this.sealPool = new SealPool<PendingFanout>(this.config.voice.sealWorkers, this.log, (ctx, buf, size, sealed) => this.sendSealed(ctx, buf, size, sealed));
      for (const vs of this.byToken.values()) this.sealPool.addKey(vs.token, vs.toClientKey, this.cryptoBackend);
    }
    this.sweepTimer = setInterval(() => this.sweep(), 1000);
    this.sweepTimer.unref();
    this.log.info({ port: this.port }, 'voice lane listening (UDP)');
    return this.port;
  }

  stop(): void {
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.socket?.close();
    this.socket = null;
    void this.sealPool?.close();
    this.sealPool = null;
  }

  /** Creates the voice credentials of a freshly logged-in session. */
  attach(conn: Connection & { session: SessionInfo }): VoiceSetup {
    let token: number;
    do token = randomInt(1, 2 ** 32 - 1);
    while (this.usedTokens.has(token));
    this.usedTokens.add(token);
    const secret = randomBytes(VOICE_SECRET_BYTES);
    const vs = new VoiceSession(token, secret, conn, this.config.voice, this.cryptoBackend);
    this.byToken.set(token, vs);
    if (this.sealPool) {
      this.sealPool.addKey(token, vs.toClientKey, this.cryptoBackend);
      this.sealSlot.set(vs, this.sealPool.assign());
    }
    conn.session.voiceToken = token;
    conn.onVoiceFrame = (body) => this.onDatagram(body, null, 0);
    // The keys die with the session: the token stops resolving at once.
    conn.onClose(() => this.detach(vs));
    this.log.debug({ sessionId: conn.session.sessionId, token }, 'voice session created');
    return { token, secret: secret.toString('base64'), udpPort: this.port, keepaliveMs: this.config.voice.keepaliveMs };
  }

  private detach(vs: VoiceSession): void {
    this.byToken.delete(vs.token);
    this.channels.get(vs.channelId)?.delete(vs);
    this.forgetListener(vs);
    for (const l of vs.heardBy.keys()) l.reportedAbout.delete(vs);
    vs.heardBy.clear();
    if (this.sealPool) {
      this.sealPool.dropKey(vs.token);
      this.sealSlot.delete(vs);
    }
  }

  private onPresence(s: SessionInfo, event: 'join' | 'update' | 'leave'): void {
    const vs = s.voiceToken === undefined ? undefined : this.byToken.get(s.voiceToken);
    if (!vs) return;
    this.channels.get(vs.channelId)?.delete(vs);
    if (event === 'leave') return this.forgetListener(vs);
    vs.channelId = s.channelId;
    let set = this.channels.get(s.channelId);
    if (!set) this.channels.set(s.channelId, (set = new Set()));
    set.add(vs);
    // A move or a deafen can end listener/speaker pairs both ways: recount what
    // this session reported (as a listener) and what was reported about it.
    const now = Date.now();
    for (const speaker of [...vs.reportedAbout]) this.refreshFeedback(speaker, now);
    this.refreshFeedback(vs, now);
  }

  /** Whether a session receives relayed voice at all (a report from one that does not is noise). */
  private hears(l: VoiceSession): boolean {
    return !l.conn.session.selfDeaf && this.hub.tree.get(l.channelId)?.isVoice === true;
  }

  /**
   * A listener's voice.report. Entries about sessions it does not hear right
   * now (unknown, elsewhere, itself) are ignored without a trace, so the reply
   * reveals nothing about sessions it cannot see. False: over the rate (1/s).
   */
  report(conn: Connection & { session: SessionInfo }, speakers: readonly SpeakerReport[]): boolean {
    const listener = conn.session.voiceToken === undefined ? undefined : this.byToken.get(conn.session.voiceToken);
    if (!listener) return true;
    const now = Date.now();
    if (!listener.reportBucket.take(now)) return false;
    if (!this.hears(listener)) return true;
    const touched = new Set<VoiceSession>();
    for (const r of speakers) {
      const token = this.hub.session(r.sessionId)?.session.voiceToken;
      const speaker = token === undefined ? undefined : this.byToken.get(token);
      if (!speaker || speaker === listener || speaker.channelId !== listener.channelId) continue;
      speaker.heardBy.set(listener, { lossPercent: r.lossPercent, jitterMs: r.jitterMs, at: now });
      listener.reportedAbout.add(speaker);
      touched.add(speaker);
    }
    for (const speaker of touched) this.refreshFeedback(speaker, now);
    return true;
  }

  /** Drops everything a session said as a listener (it left, or its session ended). */
  private forgetListener(l: VoiceSession): void {
    const speakers = [...l.reportedAbout];
    l.reportedAbout.clear();
    const now = Date.now();
    for (const speaker of speakers) {
      speaker.heardBy.delete(l);
      this.refreshFeedback(speaker, now);
    }
  }

  /**
   * Recomputes a speaker's feedback from its current listeners' fresh reports
   * and sends voice.feedback if it changed enough (feedbackTiming). What is not
   * sent now is retried by the sweep.
   */
  private refreshFeedback(speaker: VoiceSession, now: number): void {
    if (this.byToken.get(speaker.token) !== speaker) return;
    const t = this.feedbackTiming;
    const live: ListenerReport[] = [];
    for (const [l, r] of speaker.heardBy) {
      // Only listeners who still hear this speaker count; anything else is forgotten here.
      if (now - r.at > t.reportMaxAgeMs || this.byToken.get(l.token) !== l || l.channelId !== speaker.channelId || !this.hears(l)) {
        speaker.heardBy.delete(l);
        l.reportedAbout.delete(speaker);
      } else live.push(r);
    }
    const next = aggregateReports(live);
    const last = speaker.lastFeedback;
    if (last === null ? next.listeners === 0 : sameFeedback(last, next)) return;
    const meaningful =
      last === null ||
      next.listeners !== last.listeners ||
      Math.abs(next.lossPercent - last.lossPercent) >= t.lossStep ||
      Math.abs(next.jitterMs - last.jitterMs) >= t.jitterStepMs;
    if (last !== null && now - last.at < (meaningful ? t.minIntervalMs : t.refreshMs)) return;
    speaker.lastFeedback = { ...next, at: now };
    // Aggregates only: no listener's identity or individual figure is sent.
    speaker.conn.send({ type: 'voice.feedback', ...next });
  }

  /** A datagram from UDP (address set) or from the TLS tunnel (address null). */
  onDatagram(msg: Buffer, address: string | null, port: number): void {
    this.stats.received++;
    if (msg.length < MIN_DATAGRAM_BYTES) return this.drop('truncated');
    if (msg.length > MAX_DATAGRAM_BYTES) return this.drop('oversize');
    const vs = this.byToken.get(msg.readUInt32BE(0));
    if (!vs) return this.drop('unknownToken');
    const payload = vs.fromClient.openPayload(msg, this.scratch);
    if (payload === null) return this.drop('forged');
    // The sequence as a plain number while exact; a BigInt only past 2^53.
    const seqHigh = msg.readUInt32BE(4);
    const sequence = seqHigh < SAFE_HIGH_WORD ? seqHigh * TWO_32 + msg.readUInt32BE(8) : msg.readBigUInt64BE(4);
    if (!vs.replay.accept(sequence)) return this.drop('replayed');
    this.stats.authenticated++;
    const now = Date.now();
    if (address !== null) {
      if (vs.address !== address || vs.port !== port) {
        if (vs.address !== null) this.log.info({ sessionId: vs.session.sessionId, from: `${vs.address}:${vs.port}`, to: `${address}:${port}` }, 'voice address changed (NAT rebinding)');
        else this.log.info({ sessionId: vs.session.sessionId, address: `${address}:${port}` }, 'voice UDP established');
        vs.address = address;
        vs.port = port;
      }
      if (!vs.udpActive) {
        vs.udpActive = true;
        if (vs.lastUdpAt !== 0) this.log.info({ sessionId: vs.session.sessionId }, 'voice UDP working again; leaving TCP fallback');
      }
      vs.lastUdpAt = now;
    }
    if (!vs.bucket.take(now)) return this.drop('overRate');
    if (payload.length === 0) {
      this.stats.keepalives++;
      // Echo the client's timestamp so it can measure round-trip time.
      const answer = vs.toClient.seal(vs.token, vs.pongSequence++, msg.readBigUInt64BE(12), EMPTY);
      if (address !== null) this.socket?.send(answer, port, address);
      else vs.conn.sendRaw(encodeFrame(FrameKind.voice, answer));
      return;
    }
    // The speaker's header (token, sequence, timestamp) goes out unchanged to
    // every listener: a view of it, sealed under each listener's key.
    this.forward(vs, msg.subarray(0, HEADER_BYTES), payload);
  }

  private forward(speaker: VoiceSession, header: Buffer, payload: Buffer): void {
    const s = speaker.session;
    if (s.selfMute || s.serverMute) return this.drop('muted');
    const channel = this.hub.tree.get(speaker.channelId);
    if (!channel || !channel.isVoice) return this.drop('notVoiceChannel');
    const listeners = this.channels.get(speaker.channelId);
    if (!listeners) return;
    const socket = this.socket;
    const datagramBytes = HEADER_BYTES + payload.length + TAG_BYTES;
    const batch = this.batchDatagrams;
    const to = this.batchListeners;
    let n = 0;
    let forwardedTcp = 0;
    for (const l of listeners) {
      if (l === speaker || l.conn.session.selfDeaf) continue;
      // Sealed per listener under the listener's own key; the speaker's token
      // and sequence form the nonce (unique per speaker, see docs/PROTOCOL.md).
      // Each datagram gets its own buffer: dgram.send may still hold it after
      // returning (queued when the socket buffer is full).
      if (l.udpActive && l.address !== null) {
        if (socket === null) continue;
        to[n++] = l;
      } else {
        // Frame header and datagram built in one buffer: no encodeFrame copy.
        const frame = Buffer.allocUnsafe(VOICE_FRAME_PREFIX + datagramBytes);
        frame.writeUInt32BE(datagramBytes + 1, 0);
        frame[FRAME_HEADER_BYTES] = FrameKind.voice;
        l.conn.sendRaw(l.toClient.sealEncoded(header, payload, frame, VOICE_FRAME_PREFIX));
        forwardedTcp++;
      }
    }
    const pool = this.sealPool;
    // While a speaker has packets in a worker, its next ones follow them there
    // (even a fan-out below the threshold): sealed inline, it could overtake them.
    if (pool !== null && n > 0 && (n >= this.sealWorkerMinListeners || speaker.sealsInFlight > 0) && pool.usable) {
      const slot = this.sealSlot.get(speaker);
      if (slot !== undefined) {
        const tokens = new Uint32Array(n);
        const listenersOut: VoiceSession[] = new Array(n);
        for (let i = 0; i < n; i++) {
          const l = to[i]!;
          tokens[i] = l.token;
          listenersOut[i] = l;
        }
        speaker.sealsInFlight++;
        pool.seal(slot, header, payload, tokens, { speaker, channelId: speaker.channelId, listeners: listenersOut });
        this.stats.forwarded += forwardedTcp;
        this.stats.forwardedTcp += forwardedTcp;
        return;
      }
    }
    // Seal everything first, then send back to back. Sending each datagram as
    // soon as it is sealed measured ~25% more CPU per packet (bench/voice-fanout):
    // crypto and syscalls evict each other from the caches, and on loopback
    // every send may wake the receiver anew.
    for (let i = 0; i < n; i++) batch[i] = to[i]!.toClient.sealEncoded(header, payload);
    for (let i = 0; i < n; i++) {
      const l = to[i]!;
      socket!.send(batch[i]!, l.port, l.address!);
      batch[i] = EMPTY;
    }
    this.stats.forwarded += n + forwardedTcp;
    this.stats.forwardedTcp += forwardedTcp;
  }

  /**
   * A seal worker's datagrams for one fan-out. Listeners are checked again:
   * whoever left the channel, ended the session or deafened since the packet
   * came in gets nothing.
   */
  private sendSealed(ctx: PendingFanout, buf: ArrayBuffer, size: number, sealed: Uint8Array): void {
    ctx.speaker.sealsInFlight--;
    const socket = this.socket;
    if (socket === null) return;
    const members = this.channels.get(ctx.channelId);
    if (members === undefined) return;
    let sent = 0;
    for (let i = 0; i < ctx.listeners.length; i++) {
      const l = ctx.listeners[i]!;
      if (sealed[i] !== 1 || !members.has(l) || l.address === null || l.conn.session.selfDeaf) continue;
      socket.send(Buffer.from(buf, i * size, size), l.port, l.address);
      sent++;
    }
    this.stats.forwarded += sent;
    this.stats.forwardedSealedByWorker += sent;
  }

  private drop(kind: DropKind): void {
    this.stats.dropped[kind]++;
    this.dropsSinceLog.set(kind, (this.dropsSinceLog.get(kind) ?? 0) + 1);
    const now = Date.now();
    // Summaries, not one line per packet: a flood of garbage must not flood the log.
    if (now - this.lastDropLog >= this.config.voice.dropLogIntervalMs) {
      this.lastDropLog = now;
      this.log.warn({ dropped: Object.fromEntries(this.dropsSinceLog) }, 'voice packets dropped');
      this.dropsSinceLog.clear();
    }
  }

  private sweep(): void {
    const now = Date.now();
    for (const vs of this.byToken.values()) {
      // Ages reports out and sends changes held back by feedbackTiming.minIntervalMs.
      if (vs.heardBy.size > 0 || (vs.lastFeedback !== null && vs.lastFeedback.listeners > 0)) this.refreshFeedback(vs, now);
      if (vs.udpActive && now - vs.lastUdpAt > this.config.voice.udpSilentMs) {
        vs.udpActive = false;
        this.log.warn({ sessionId: vs.session.sessionId, silentMs: now - vs.lastUdpAt }, 'voice UDP silent; sending voice over TLS');
      }
    }
  }
}
