// The server side of the voice lane: one UDP socket, plus the same datagrams
// tunnelled through TLS when UDP does not get through. Per datagram:
// size check → token lookup → AEAD open → replay window → (learn address) →
// rate limit → keep-alive answer or fan-out re-encrypted per listener.
// Nothing unauthenticated is ever answered, so the lane cannot be used to
// reflect or amplify traffic.
import dgram from 'node:dgram';
import { randomBytes, randomInt } from 'node:crypto';
import type { Logger } from '../../log/logger.js';
import type { ServerConfig } from '../../config/server-config.js';
import { encodeFrame, FrameKind } from '../../protocol/framing.js';
import type { VoiceSetup } from '../../protocol/server-messages.js';
import { DEFAULT_VOICE_BACKEND, MAX_DATAGRAM_BYTES, MAX_PAYLOAD_BYTES, MIN_DATAGRAM_BYTES, VOICE_SECRET_BYTES, type VoiceBackend } from '../../voice/packet.js';
import type { Connection, SessionInfo } from '../connection.js';
import type { Hub } from '../hub.js';
import { VoiceSession } from './voice-session.js';

export const DROP_KINDS = ['truncated', 'oversize', 'unknownToken', 'forged', 'replayed', 'overRate', 'muted', 'notVoiceChannel'] as const;
export type DropKind = (typeof DROP_KINDS)[number];

export interface VoiceStats {
  received: number;
  authenticated: number;
  keepalives: number;
  forwarded: number;
  forwardedTcp: number;
  dropped: Record<DropKind, number>;
}

const EMPTY = Buffer.alloc(0);

export class VoiceLane {
  readonly stats: VoiceStats = {
    received: 0,
    authenticated: 0,
    keepalives: 0,
    forwarded: 0,
    forwardedTcp: 0,
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
  private readonly dropsSinceLog = new Map<DropKind, number>();
  private lastDropLog = 0;
  private sweepTimer: NodeJS.Timeout | null = null;

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
    const socket = dgram.createSocket({ type: this.config.host.includes(':') ? 'udp6' : 'udp4', recvBufferSize: 4 << 20, sendBufferSize: 4 << 20 });
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
    this.sweepTimer = setInterval(() => this.sweep(), 1000);
    this.sweepTimer.unref();
    this.log.info({ port: this.port }, 'voice lane listening (UDP)');
    return this.port;
  }

  stop(): void {
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.socket?.close();
    this.socket = null;
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
  }

  private onPresence(s: SessionInfo, event: 'join' | 'update' | 'leave'): void {
    const vs = s.voiceToken === undefined ? undefined : this.byToken.get(s.voiceToken);
    if (!vs) return;
    this.channels.get(vs.channelId)?.delete(vs);
    if (event === 'leave') return;
    vs.channelId = s.channelId;
    let set = this.channels.get(s.channelId);
    if (!set) this.channels.set(s.channelId, (set = new Set()));
    set.add(vs);
  }

  /** A datagram from UDP (address set) or from the TLS tunnel (address null). */
  onDatagram(msg: Buffer, address: string | null, port: number): void {
    this.stats.received++;
    if (msg.length < MIN_DATAGRAM_BYTES) return this.drop('truncated');
    if (msg.length > MAX_DATAGRAM_BYTES) return this.drop('oversize');
    const vs = this.byToken.get(msg.readUInt32BE(0));
    if (!vs) return this.drop('unknownToken');
    const pkt = vs.fromClient.open(msg, this.scratch);
    if (!pkt) return this.drop('forged');
    if (!vs.replay.accept(pkt.sequence)) return this.drop('replayed');
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
    if (pkt.payload.length === 0) {
      this.stats.keepalives++;
      // Echo the client's timestamp so it can measure round-trip time.
      const answer = vs.toClient.seal(vs.token, vs.pongSequence++, pkt.timestamp, EMPTY);
      if (address !== null) this.socket?.send(answer, port, address);
      else vs.conn.sendRaw(encodeFrame(FrameKind.voice, answer));
      return;
    }
    this.forward(vs, pkt.sequence, pkt.timestamp, pkt.payload);
  }

  private forward(speaker: VoiceSession, sequence: bigint, timestamp: bigint, payload: Buffer): void {
    const s = speaker.session;
    if (s.selfMute || s.serverMute) return this.drop('muted');
    const channel = this.hub.tree.get(speaker.channelId);
    if (!channel || !channel.isVoice) return this.drop('notVoiceChannel');
    const listeners = this.channels.get(speaker.channelId);
    if (!listeners) return;
    for (const l of listeners) {
      if (l === speaker || l.session.selfDeaf) continue;
      // Sealed per listener under the listener's own key; the speaker's token
      // and sequence form the nonce (unique per speaker, see docs/PROTOCOL.md).
      const out = l.toClient.seal(speaker.token, sequence, timestamp, payload);
      if (l.udpActive && l.address !== null) {
        this.socket?.send(out, l.port, l.address);
      } else {
        l.conn.sendRaw(encodeFrame(FrameKind.voice, out));
        this.stats.forwardedTcp++;
      }
      this.stats.forwarded++;
    }
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
      if (vs.udpActive && now - vs.lastUdpAt > this.config.voice.udpSilentMs) {
        vs.udpActive = false;
        this.log.warn({ sessionId: vs.session.sessionId, silentMs: now - vs.lastUdpAt }, 'voice UDP silent; sending voice over TLS');
      }
    }
  }
}
