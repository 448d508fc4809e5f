// The server side of the voice lane: one UDP socket, plus the same datagrams
// tunnelled through TLS when UDP does not get through. Per datagram:
// cheap checks with no allocation and no crypto (size, kind, token, shed
// source, replay pre-check, the token's bad-MAC budget: udp-admission.ts) →
// AEAD open → replay window → path validation (path-validation.ts: a new
// address is used only once it answered a challenge) → rate limit →
// keep-alive answer or fan-out re-encrypted per listener (fanout.ts).
// Nothing unauthenticated is ever answered, and nothing bigger than what came
// in is sent to an unproven address, so the lane cannot reflect or amplify
// traffic. When the lane falls behind its input (backlog-probe.ts), voice
// that has waited too long is dropped unopened, and UDP silence is judged at
// the moment up to which everything has been read, so the server's own
// backlog never moves a listener to the TLS fallback. Listeners' voice.report
// messages become speakers' voice.feedback in loss-feedback.ts.
//
// With voice.shards > 1 (shard-pool.ts) this lane keeps the control-plane
// half on the main thread (credentials, presence, loss feedback, the TLS
// tunnel's door, the summed stats) and each shard, a worker thread, runs a
// lane of its own (voice.shards = 1 there) on its own UDP port for the
// sessions assigned to it; fanout.relay and deliverRemote join the shards.
import dgram from 'node:dgram';
import { randomBytes, randomInt } from 'node:crypto';
import type { Logger } from '../../log/logger.js';
import type { ServerConfig } from '../../config/server-config.js';
import { encodeFrame, FrameKind } from '../../protocol/framing.js';
import type { VoiceSetup } from '../../protocol/server-messages.js';
import {
  DEFAULT_VOICE_BACKEND,
  HEADER_BYTES,
  MAX_DATAGRAM_BYTES,
  MAX_PAYLOAD_BYTES,
  MIN_DATAGRAM_BYTES,
  VOICE_SECRET_BYTES,
  type VoiceBackend,
} from '../../voice/packet.js';
import { PATH_CONTROL_BYTE, PATH_PACKET_BYTES } from '../../voice/path-packets.js';
import type { Connection, SessionInfo } from '../connection.js';
import type { Hub } from '../hub.js';
import { VoiceSession } from './voice-session.js';
import { BacklogProbe, PROBE_BYTES } from './backlog-probe.js';
import { Fanout } from './fanout.js';
import { LossFeedback, type SpeakerReport } from './loss-feedback.js';
import { PathValidator } from './path-validation.js';
import { budgetSpent, SourceShedder } from './udp-admission.js';
import { DROP_KINDS, LaneMonitor, type DropKind, type VoiceStats } from './lane-monitor.js';
import { ShardPool, voiceShardCount } from './shard-pool.js';
import { ipLiteralLookup } from './ip-literal-lookup.js';

export type { SpeakerReport } from './loss-feedback.js';
export { DROP_KINDS, type DropKind, type VoiceStats } from './lane-monitor.js';

const EMPTY = Buffer.alloc(0);
const TWO_32 = 0x1_0000_0000;
/** Sequences below 2^53 (high word below 2^21) are exact as numbers; no client sends more. */
const SAFE_HIGH_WORD = 0x20_0000;

export class VoiceLane {
  /** Which address each session's voice goes to (path-validation.ts); `paths.timing` is tunable. */
  readonly paths: PathValidator;
  /** Per-source shedding and per-token bad-MAC budgets (udp-admission.ts); `shedder.settings` is tunable. */
  readonly shedder = new SourceShedder();
  readonly feedback: LossFeedback;
  /** Seals and sends each packet's copies (fanout.ts); `fanout.useNative` is tunable. */
  readonly fanout: Fanout;
  /** How far behind the lane is (backlog-probe.ts); `backlog.settings` is tunable. */
  readonly backlog: BacklogProbe;
  private readonly monitor: LaneMonitor;
  readonly stats: VoiceStats;
  /** AEAD implementation for sessions attached from now on (benchmarks compare them). */
  cryptoBackend: VoiceBackend = DEFAULT_VOICE_BACKEND;
  private socket: dgram.Socket | null = null;
  private readonly byToken = new Map<number, VoiceSession>();
  /** Tokens handed out during this process's life: never reused, so no listener key ever sees a (token, sequence) nonce twice. */
  private readonly usedTokens = new Set<number>();
  private readonly channels = new Map<number, Set<VoiceSession>>();
  private readonly scratch = Buffer.allocUnsafe(MAX_PAYLOAD_BYTES);
  private sweepTimer: NodeJS.Timeout | null = null;
  /** The last sweep: a sweep much later than 1 s after it means the event loop was blocked. */
  private lastSweepAt = 0;
  /** voice.shards > 1: the worker threads that carry the datagrams (this lane opens no socket then). */
  private pool: ShardPool | null = null;

  constructor(
    private readonly config: ServerConfig,
    private readonly hub: Hub,
    private readonly log: Logger,
  ) {
    this.paths = new PathValidator(log, (dg, port, address) => this.socket?.send(dg, port, address));
    this.backlog = new BacklogProbe(log, () => this.stats.received);
    this.stats = {
      received: 0,
      authenticated: 0,
      keepalives: 0,
      forwarded: 0,
      forwardedTcp: 0,
      udpSilentFallbacks: 0,
      forwardedSealedByWorker: 0,
      aeadOpens: 0,
      dropped: Object.fromEntries(DROP_KINDS.map((k) => [k, 0])) as Record<DropKind, number>,
      path: this.paths.stats,
      admission: this.shedder.counters,
      kernel: { socketDrops: null, rxQueueBytes: null, systemRcvbufErrors: null, recvBufferBytes: null },
      fanout: null as never,
      backlog: this.backlog.stats,
      shards: null,
    };
    this.fanout = new Fanout(this.stats, hub, log);
    this.stats.fanout = this.fanout.stats;
    this.fanout.channelMembers = (id) => this.channels.get(id);
    this.monitor = new LaneMonitor(this.stats, config.voice, log);
    this.feedback = new LossFeedback(this.byToken, hub);
    hub.presenceListeners.push((s, event) => this.onPresence(s, event));
  }

  /** Loss feedback timing (docs/PROTOCOL.md 12.5), tunable (tests shorten it). */
  get feedbackTiming(): LossFeedback['timing'] {
    return this.feedback.timing;
  }

  /** A listener's voice.report (see LossFeedback.report). False: over the rate. */
  report(conn: Connection & { session: SessionInfo }, speakers: readonly SpeakerReport[]): boolean {
    return this.feedback.report(conn, speakers);
  }

  get port(): number {
    if (this.pool !== null) return this.pool.port(0);
    return this.socket?.address().port ?? 0;
  }

  /** voice.shards > 1: the shards (their ports, how many run; tests and benchmarks tune them here). */
  get shards(): ShardPool | null {
    return this.pool;
  }

  /** Fan-outs of at least this many UDP listeners go to a seal worker (voice.sealWorkers > 0). */
  get sealWorkerMinListeners(): number {
    return this.fanout.sealWorkerMinListeners;
  }
  set sealWorkerMinListeners(n: number) {
    this.fanout.sealWorkerMinListeners = n;
  }

  /** The sessions holding voice credentials, by token (read-only: monitoring counts them per transport). */
  get voiceSessions(): ReadonlyMap<number, VoiceSession> { return this.byToken; }

  async start(controlPort: number): Promise<number> {
    const basePort = this.config.voice.port ?? (this.config.port === 0 ? 0 : controlPort);
    const shards = voiceShardCount(this.config);
    if (shards > 1) {
      this.pool = new ShardPool(this.config, this.hub, this.log, this.byToken, this.stats);
      await this.pool.start(shards, basePort);
      // Main's part of the sweep: loss feedback (the shards judge UDP silence).
      this.sweepTimer = setInterval(() => this.sweep(), 1000);
      this.sweepTimer.unref();
      return this.port;
    }
    const ipv6 = this.config.host.includes(':');
    const socket = dgram.createSocket({
      type: ipv6 ? 'udp6' : 'udp4',
      // Sized on purpose (docs/OPERATIONS.md, voice.recvBufferBytes): the queue
      // that absorbs bursts while the event loop is busy elsewhere.
      recvBufferSize: this.config.voice.recvBufferBytes,
      sendBufferSize: 4 << 20,
      lookup: ipLiteralLookup as unknown as dgram.SocketOptions['lookup'],
    });
    socket.on('message', (msg, rinfo) => this.onDatagram(msg, rinfo.address, rinfo.port));
    socket.on('error', (err) => this.log.error({ err }, 'voice socket error'));
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(basePort, this.config.host, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    this.socket = socket;
    this.monitor.opened(socket, this.port, ipv6);
    this.fanout.open(socket, this.config.voice.sealWorkers, this.byToken.values(), this.cryptoBackend);
    await this.backlog.start(this.config.host, this.port, ipv6);
    this.lastSweepAt = Date.now();
    this.sweepTimer = setInterval(() => this.sweep(), 1000);
    this.sweepTimer.unref();
    this.log.info({ port: this.port }, 'voice lane listening (UDP)');
    return this.port;
  }

  /** Idempotent; resolves once every shard thread has exited (at once without shards). */
  stop(): Promise<void> {
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.backlog.stop();
    this.fanout.close();
    this.socket?.close();
    this.socket = null;
    return this.pool?.close() ?? Promise.resolve();
  }

  /** Creates the voice credentials of a freshly logged-in session. */
  attach(conn: Connection & { session: SessionInfo }): VoiceSetup {
    let token: number;
    do token = randomInt(1, 2 ** 32 - 1);
    while (this.usedTokens.has(token));
    this.usedTokens.add(token);
    const secret = randomBytes(VOICE_SECRET_BYTES);
    const vs = this.adopt(conn, token, secret);
    const udpPort = this.pool === null ? this.port : this.pool.add(vs, secret, this.cryptoBackend);
    this.log.debug({ sessionId: conn.session.sessionId, token, shard: this.pool === null ? undefined : vs.shard }, 'voice session created');
    return { token, secret: secret.toString('base64'), udpPort, keepaliveMs: this.config.voice.keepaliveMs };
  }

  /**
   * Takes on a session whose token and secret exist: attach() above, or
   * inside a shard the ones main made (shard-worker.ts). Its keys die with
   * the connection: the token stops resolving at once.
   */
  adopt(conn: Connection & { session: SessionInfo }, token: number, secret: Uint8Array): VoiceSession {
    const vs = new VoiceSession(token, secret, conn, this.config.voice, this.cryptoBackend);
    this.byToken.set(token, vs);
    if (this.pool === null) this.fanout.add(vs, this.cryptoBackend);
    conn.session.voiceToken = token;
    // Sharded, a tunnelled datagram goes to the session's shard (main checks it first, to judge the frame).
    conn.onVoiceFrame = this.pool === null ? (body) => this.onDatagram(body, null, 0) : (body) => this.pool!.tunnel(body);
    conn.onClose(() => this.detach(vs));
    return vs;
  }

  private detach(vs: VoiceSession): void {
    this.byToken.delete(vs.token);
    this.channels.get(vs.channelId)?.delete(vs);
    this.feedback.detach(vs);
    this.fanout.remove(vs);
    this.pool?.remove(vs);
  }

  /** Inside a shard: a packet another shard opened and checked, to this shard's listeners in `channelId`. */
  deliverRemote(channelId: number, header: Buffer, payload: Buffer): void {
    const listeners = this.channels.get(channelId);
    if (listeners !== undefined) this.fanout.deliver(null, header, payload, listeners);
  }

  private onPresence(s: SessionInfo, event: 'join' | 'update' | 'leave'): void {
    const vs = s.voiceToken === undefined ? undefined : this.byToken.get(s.voiceToken);
    if (!vs) return;
    this.pool?.presence(vs, event);
    this.channels.get(vs.channelId)?.delete(vs);
    if (event === 'leave') return this.feedback.forgetListener(vs);
    vs.channelId = s.channelId;
    let set = this.channels.get(s.channelId);
    if (!set) this.channels.set(s.channelId, (set = new Set()));
    set.add(vs);
    this.feedback.changed(vs);
  }

  /** A datagram from UDP (address set) or from the TLS tunnel (address null). */
  onDatagram(msg: Buffer, address: string | null, port: number): void {
    const stats = this.stats;
    const len = msg.length;
    // The lane's own backlog probe (smaller than any voice datagram, so no cost for the others): not counted as traffic.
    if (len === PROBE_BYTES && address !== null && this.backlog.isProbe(msg, address, port)) return this.backlog.onProbe(msg, Date.now());
    stats.received++;
    // Up to the AEAD open: a few byte reads and Map lookups; nothing is
    // allocated and the clock is read only for a source already known bad.
    if (len < MIN_DATAGRAM_BYTES) return this.reject('truncated', address);
    if (len > MAX_DATAGRAM_BYTES) return this.reject('oversize', address);
    const vs = this.byToken.get(msg.readUInt32BE(0));
    // A session's own validated path is never shed (its client may share an IP with a flood).
    const onPath = vs !== undefined && address !== null && vs.address === address && vs.port === port;
    if (address !== null && !onPath && this.shedder.isShed(address)) {
      stats.dropped.shedSource++;
      return;
    }
    if (vs === undefined) return this.reject('unknownToken', address);
    // Behind the input: voice that waited longer than a jitter buffer could
    // use is dropped unopened, which drains the queue fast. Keep-alives and
    // path packets (36 bytes) still go through, so no session looks silent.
    if (this.backlog.stale && len > MIN_DATAGRAM_BYTES && address !== null) {
      stats.dropped.stale++;
      return;
    }
    const seqHigh = msg.readUInt32BE(4);
    if (seqHigh >= SAFE_HIGH_WORD) {
      if (msg[4] === PATH_CONTROL_BYTE && len === PATH_PACKET_BYTES) return this.onPathResponse(vs, msg, address, port);
      // Byte 4 >= 0x80 (CONTROL_FLAG_BYTE) is a control packet we do not know; below that, 2^53
      // and up: a counter no client reaches. Either way not worth a decryption.
      return this.reject('malformed', address);
    }
    const sequence = seqHigh * TWO_32 + msg.readUInt32BE(8);
    // Pre-check (no mutation): a copy of something already seen costs no crypto.
    if (!vs.replay.check(sequence)) return this.reject('replayed', onPath ? null : address);
    if (address !== null && !onPath && budgetSpent(vs)) return this.reject('shedSession', address);
    stats.aeadOpens++;
    const payload = vs.fromClient.openPayload(msg, this.scratch);
    if (payload === null) return this.forged(vs, address);
    if (!vs.replay.accept(sequence)) return this.reject('replayed', null);
    stats.authenticated++;
    const now = Date.now();
    const isPing = payload.length === 0;
    // Over TLS the path is the authenticated TLS connection itself.
    const validPath = address === null || this.paths.onPacket(vs, address, port, vs.replay.advanced, isPing ? msg : null, len, now);
    if (validPath && address !== null) this.udpWorks(vs, now);
    if (!vs.bucket.take(now)) return this.drop('overRate');
    if (isPing) {
      stats.keepalives++;
      // From an unvalidated address it is answered once that address is validated (paths kept its timestamp).
      if (validPath) this.answerPing(vs, msg.readBigUInt64BE(12), address, port);
      return;
    }
    // The speaker's header (token, sequence, timestamp) goes out unchanged to
    // every listener: a view of it, sealed under each listener's key (and in
    // a shard, once to each other shard with listeners: fanout.relay).
    this.fanout.forward(vs, msg.subarray(0, HEADER_BYTES), payload, this.channels.get(vs.channelId));
  }

  /** A PATH_RESPONSE (docs/PROTOCOL.md 12.6): opened only if it answers the outstanding challenge from the challenged address. */
  private onPathResponse(vs: VoiceSession, msg: Buffer, address: string | null, port: number): void {
    const now = Date.now();
    // Challenges only ever go out over UDP, so over TLS nothing can be an answer.
    if (address === null || !this.paths.expects(vs, msg, address, port, now)) return this.reject('unsolicited', address);
    this.stats.aeadOpens++;
    if (vs.fromClient.openPayload(msg, this.scratch) === null) return this.forged(vs, address);
    this.stats.authenticated++;
    const ping = this.paths.validate(vs, now);
    this.fanout.addressChanged(vs);
    this.udpWorks(vs, now);
    if (ping !== null && vs.bucket.take(now)) this.answerPing(vs, ping, address, port);
  }

  /** Echoes the client's timestamp so it can measure round-trip time; over the path the keep-alive came by. */
  private answerPing(vs: VoiceSession, timestamp: bigint, address: string | null, port: number): void {
    const answer = vs.toClient.seal(vs.token, vs.pongSequence++, timestamp, EMPTY);
    if (address !== null) this.socket?.send(answer, port, address);
    else vs.conn.sendRaw(encodeFrame(FrameKind.voice, answer));
  }

  /** An authenticated datagram over the validated UDP path: UDP works both ways. */
  private udpWorks(vs: VoiceSession, now: number): void {
    if (!vs.udpActive) {
      vs.udpActive = true;
      if (vs.lastUdpAt !== 0) this.log.info({ sessionId: vs.session.sessionId }, 'voice UDP working again; leaving TCP fallback');
    }
    vs.lastUdpAt = now;
  }

  /** A datagram under a real token that failed authentication: counts against its source and the token's budget. */
  private forged(vs: VoiceSession, address: string | null): void {
    this.stats.dropped.forged++;
    // Over TLS it comes from the authenticated connection: the connection's own limits apply there.
    if (address === null) return;
    this.shedder.bad(address);
    if (this.shedder.badMac(vs)) this.log.warn({ sessionId: vs.session.sessionId, shedMs: this.shedder.settings.shedMs }, 'voice token under a forged-packet flood: datagrams from other addresses are dropped unopened for a while');
  }

  /** Drops an unauthenticated datagram; a UDP source's bad datagrams count toward shedding it. */
  private reject(kind: DropKind, address: string | null): void {
    this.stats.dropped[kind]++;
    if (address !== null) this.shedder.bad(address);
  }

  /** Drops an authenticated datagram (over its rate, or nowhere to go). */
  private drop(kind: DropKind): void {
    this.stats.dropped[kind]++;
  }

  private sweep(): void {
    const now = Date.now();
    if (this.pool !== null) {
      for (const vs of this.byToken.values()) this.feedback.sweep(vs, now);
      return;
    }
    // Silence is judged at the moment up to which the lane has read all its
    // input (backlog-probe.ts), not at `now`: datagrams still queued behind
    // our own backlog are not silence. After the event loop was blocked the
    // sweep can run before the queue: then not at all this time.
    const blocked = now - this.lastSweepAt > 3000;
    this.lastSweepAt = now;
    const judgedAt = this.backlog.barrier(now);
    for (const vs of this.byToken.values()) {
      // Ages reports out and sends changes held back by feedbackTiming.minIntervalMs.
      this.feedback.sweep(vs, now);
      if (!blocked && vs.udpActive && judgedAt - vs.lastUdpAt > this.config.voice.udpSilentMs) {
        vs.udpActive = false;
        this.stats.udpSilentFallbacks++;
        this.log.warn({ sessionId: vs.session.sessionId, silentMs: judgedAt - vs.lastUdpAt, laneBehindMs: now - judgedAt }, 'voice UDP silent; sending voice over TLS');
      }
    }
    this.shedder.sweep(now);
    this.stats.admission.sourcesShedNow = this.shedder.shedNow;
    this.monitor.tick(now);
  }

  /** Reads the kernel's drop counters now (tests and benchmarks; the sweep does it once a second). */
  refreshKernelDrops(): Promise<VoiceStats['kernel']> {
    if (this.pool !== null) return this.pool.refreshKernel();
    return this.monitor.refreshKernel();
  }
}
