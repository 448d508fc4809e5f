// One speaker packet to every listener of its channel, sealed under each
// listener's own key (docs/PROTOCOL.md 12.2). Split out of voice-lane.ts,
// which keeps admission, authentication and the path.
//
// Per fan-out, in order of preference:
// 1. native (native-fanout.ts, when built): every UDP copy sealed into one
//    preallocated buffer and sent with sendmmsg(2), in one call. Nothing is
//    allocated per copy. bench/voice-forward 200x10 (load 1): 5.4 µs of
//    server CPU per copy, against 7.5 µs with path 2 and 12.2 µs with
//    node:crypto + dgram.send (the path before).
// 2. JS: each copy sealed with the lane's backend (sodium-native by default)
//    into the same preallocated buffer, then one dgram.send per copy.
// 3. Voice workers (voice.sealWorkers, experimental): large fan-outs sealed in
//    worker threads, sent by dgram here.
// Listeners on the TLS fallback get a frame each, whatever the path.
//
// Ordering: dgram queues a datagram in libuv when the socket would block, and
// a later sendmmsg would overtake it. So while anything is queued there, the
// native path seals but hands its copies to dgram too; and when a native send
// meets EAGAIN the rest of that fan-out goes to dgram. A buffer that dgram may
// still hold is never reused: the fan-out takes a fresh one.
import type dgram from 'node:dgram';
import type { Logger } from '../../log/logger.js';
import { FRAME_HEADER_BYTES, FrameKind } from '../../protocol/framing.js';
import { HEADER_BYTES, MAX_DATAGRAM_BYTES, TAG_BYTES, type VoiceBackend } from '../../voice/packet.js';
import type { Hub } from '../hub.js';
import type { VoiceStats } from './lane-monitor.js';
import { nativeFanout, nativeFanoutError, SlotTable, socketFd, type NativeFanout } from './native-fanout.js';
import { SealPool } from './seal-pool.js';
import type { VoiceSession } from './voice-session.js';

/** A fan-out handed to a seal worker: who gets the datagrams once sealed. */
interface PendingFanout {
  speaker: VoiceSession;
  channelId: number;
  listeners: VoiceSession[];
}

/** A TCP-fallback frame: [length u32][kind u8] in front of the datagram. */
const VOICE_FRAME_PREFIX = FRAME_HEADER_BYTES + 1;
/** Room for this many copies of a largest datagram before the fan-out buffer has to grow. */
const INITIAL_COPIES = 64;

export type FanoutEngine = 'sendmmsg' | 'dgram';

export interface FanoutStats {
  /** What sends UDP copies: 'sendmmsg' (native addon) or 'dgram'. */
  engine: FanoutEngine;
  /** Why the addon is not used (null when it is). */
  nativeUnavailable: string | null;
  /** Copies that left through sendmmsg. */
  sendmmsgCopies: number;
  /** Native calls (one per fan-out). */
  sendmmsgCalls: number;
  /** Copies handed to dgram by the native path: the socket would block (EAGAIN) or dgram still had a queue. */
  dgramFallbackCopies: number;
  /** Copies the kernel refused outright (no route, firewall): dropped, not retried. */
  refused: number;
}

export class Fanout {
  /** Listeners' keys and addresses by slot, for the addon. */
  readonly table = new SlotTable();
  readonly stats: FanoutStats;
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
  /** Use the addon when it is built (benchmarks and tests switch it off to compare). */
  useNative = nativeFanout !== null;
  /** The addon (tests put a wrapper here, e.g. one that reports EAGAIN half way). */
  addon: NativeFanout | null = nativeFanout;
  private socket: dgram.Socket | null = null;
  private fd: number | null = null;
  /** All UDP copies of the current fan-out, copy i at [i * size, (i + 1) * size). */
  private out = Buffer.allocUnsafeSlow(INITIAL_COPIES * MAX_DATAGRAM_BYTES);
  private slots = new Uint32Array(INITIAL_COPIES);
  /** The current fan-out's UDP listeners (reused; cleared after each fan-out). */
  private readonly to: VoiceSession[] = [];
  /** The addon's out-parameters: [index reached, refused, last errno]. */
  private readonly result = new Int32Array(3);

  constructor(
    private readonly laneStats: VoiceStats,
    private readonly hub: Hub,
    private readonly log: Logger,
  ) {
    this.stats = { engine: nativeFanout === null ? 'dgram' : 'sendmmsg', nativeUnavailable: nativeFanoutError, sendmmsgCopies: 0, sendmmsgCalls: 0, dgramFallbackCopies: 0, refused: 0 };
  }

  /** The lane's socket is bound. */
  open(socket: dgram.Socket, sealWorkers: number, sessions: Iterable<VoiceSession>, backend: VoiceBackend): void {
    this.socket = socket;
    this.fd = nativeFanout === null ? null : socketFd(socket);
    if (nativeFanout !== null && this.fd === null) this.stats.nativeUnavailable = 'no file descriptor on the dgram socket';
    this.stats.engine = this.native ? 'sendmmsg' : 'dgram';
    this.log.info({ engine: this.stats.engine, reason: this.stats.nativeUnavailable ?? undefined }, 'voice fan-out');
    if (sealWorkers > 0) {
      this.sealPool = new SealPool<PendingFanout>(sealWorkers, this.log, (ctx, buf, size, sealed) => this.sendSealed(ctx, buf, size, sealed));
      for (const vs of sessions) this.sealPool.addKey(vs.token, vs.toClientKey, backend);
    }
  }

  close(): void {
    this.socket = null;
    this.fd = null;
    void this.sealPool?.close();
    this.sealPool = null;
  }

  private get native(): boolean {
    return this.useNative && this.addon !== null && this.fd !== null;
  }

  /** A session got voice credentials. */
  add(vs: VoiceSession, backend: VoiceBackend): void {
    vs.slot = this.table.alloc(vs.toClientKey);
    if (this.sealPool) {
      this.sealPool.addKey(vs.token, vs.toClientKey, backend);
      this.sealSlot.set(vs, this.sealPool.assign());
    }
  }

  /** Its session ended: the key is wiped from the table at once. */
  remove(vs: VoiceSession): void {
    if (vs.slot >= 0) this.table.release(vs.slot);
    vs.slot = -1;
    vs.nativeAddress = false;
    if (this.sealPool) {
      this.sealPool.dropKey(vs.token);
      this.sealSlot.delete(vs);
    }
  }

  /** The session's validated address moved (path-validation.ts). */
  addressChanged(vs: VoiceSession): void {
    vs.nativeAddress = vs.address !== null && vs.slot >= 0 && this.table.setAddress(vs.slot, vs.address, vs.port);
  }

  /**
   * Sends `speaker`'s packet (its header as it came, the opened payload) to
   * every member of `listeners` but the speaker and the self-deafened; a
   * muted speaker or a channel that is not a voice channel is counted as a
   * drop instead. In a voice shard, a packet that passed those checks then
   * goes to `relay` (the other shards' listeners: shard-worker.ts).
   */
  forward(speaker: VoiceSession, header: Buffer, payload: Buffer, listeners: Iterable<VoiceSession> | undefined): void {
    const s = speaker.session;
    const stats = this.laneStats;
    if (s.selfMute || s.serverMute) {
      stats.dropped.muted++;
      return;
    }
    const channel = this.hub.tree.get(speaker.channelId);
    if (!channel || !channel.isVoice) {
      stats.dropped.notVoiceChannel++;
      return;
    }
    if (listeners !== undefined) this.deliver(speaker, header, payload, listeners);
    if (this.relay !== null) this.relay(speaker.channelId, header, payload);
  }

  /**
   * The copies of one packet that passed the speaker checks, to `listeners`
   * but the speaker and the self-deafened. `speaker` is null for a packet
   * another voice shard opened and checked (shard-ring.ts): its speaker is
   * never one of this shard's listeners.
   */
  deliver(speaker: VoiceSession | null, header: Buffer, payload: Buffer, listeners: Iterable<VoiceSession>): void {
    const stats = this.laneStats;
    const socket = this.socket;
    const size = HEADER_BYTES + payload.length + TAG_BYTES;
    const to = this.to;
    let n = 0;
    let forwardedTcp = 0;
    for (const l of listeners) {
      if (l === speaker || l.conn.session.selfDeaf) continue;
      // Sealed per listener under the listener's own key; the speaker's token
      // and sequence form the nonce (unique per speaker, see docs/PROTOCOL.md).
      if (l.udpActive && l.address !== null) {
        if (socket === null) continue;
        to[n++] = l;
      } else {
        // Frame header and datagram built in one buffer: no encodeFrame copy.
        // Its own buffer: the TLS socket holds it until written.
        const frame = Buffer.allocUnsafe(VOICE_FRAME_PREFIX + size);
        frame.writeUInt32BE(size + 1, 0);
        frame[FRAME_HEADER_BYTES] = FrameKind.voice;
        l.conn.sendRaw(l.toClient.sealEncoded(header, payload, frame, VOICE_FRAME_PREFIX));
        forwardedTcp++;
      }
    }
    stats.forwarded += forwardedTcp;
    stats.forwardedTcp += forwardedTcp;
    if (n === 0) return;
    const pool = this.sealPool;
    // While a speaker has packets in a worker, its next ones follow them there
    // (even a fan-out below the threshold): sealed inline, it could overtake them.
    if (pool !== null && speaker !== null && (n >= this.sealWorkerMinListeners || speaker.sealsInFlight > 0) && pool.usable) {
      const slot = this.sealSlot.get(speaker);
      if (slot !== undefined) {
        const tokens = new Uint32Array(n);
        const listenersOut: VoiceSession[] = to.slice(0, n);
        for (let i = 0; i < n; i++) tokens[i] = to[i]!.token;
        speaker.sealsInFlight++;
        pool.seal(slot, header, payload, tokens, { speaker, channelId: speaker.channelId, listeners: listenersOut });
        to.fill(undefined as never, 0, n);
        return;
      }
    }
    this.sendUdp(socket!, header, payload, size, n);
    to.fill(undefined as never, 0, n);
  }

  /** Seals and sends the n UDP copies collected in `to`. */
  private sendUdp(socket: dgram.Socket, header: Buffer, payload: Buffer, size: number, n: number): void {
    const to = this.to;
    if (this.out.length < n * size) this.out = Buffer.allocUnsafeSlow(Math.max(n * size, this.out.length * 2));
    if (this.slots.length < n) this.slots = new Uint32Array(Math.max(n, this.slots.length * 2));
    const out = this.out;
    const addon = this.addon;
    if (this.native && addon !== null) {
      // A listener whose address the addon cannot hold (not an IP literal: never from rinfo) goes by dgram.
      let m = 0;
      for (let i = 0; i < n; i++) {
        const l = to[i]!;
        if (l.nativeAddress) {
          to[m] = l;
          this.slots[m++] = l.slot;
        } else this.sendOne(socket, l, header, payload);
      }
      if (m === 0) return;
      const result = this.result;
      result[1] = 0;
      let done: number;
      if (socket.getSendQueueCount() === 0) {
        this.stats.sendmmsgCalls++;
        done = addon.sealAndSend(this.fd!, this.table.keys, this.table.addrs, this.slots, m, header, payload, out, result);
        this.stats.sendmmsgCopies += done - result[1]!;
      } else {
        // dgram still has datagrams queued: a sendmmsg now would overtake them.
        addon.seal(this.table.keys, this.slots, m, header, payload, out);
        done = 0;
      }
      if (result[1]! > 0) {
        this.stats.refused += result[1]!;
        this.log.debug({ refused: result[1], errno: result[2] }, 'voice fan-out: the kernel refused copies');
      }
      this.laneStats.forwarded += done - result[1]!;
      if (done < m) {
        this.stats.dgramFallbackCopies += m - done;
        this.sendByDgram(socket, size, done, m);
      }
      return;
    }
    for (let i = 0; i < n; i++) to[i]!.toClient.sealEncoded(header, payload, out, i * size);
    this.sendByDgram(socket, size, 0, n);
  }

  /** Copies [from, n) of `out` through dgram, which may keep referring to `out` if it has to queue. */
  private sendByDgram(socket: dgram.Socket, size: number, from: number, n: number): void {
    const out = this.out;
    const to = this.to;
    for (let i = from; i < n; i++) {
      const l = to[i]!;
      socket.send(out, i * size, size, l.port, l.address!);
    }
    this.laneStats.forwarded += n - from;
    // Queued in libuv: those sends still read from `out` later, so the next fan-out must not overwrite it.
    if (socket.getSendQueueCount() > 0) this.out = Buffer.allocUnsafeSlow(this.out.length);
  }

  private sendOne(socket: dgram.Socket, l: VoiceSession, header: Buffer, payload: Buffer): void {
    socket.send(l.toClient.sealEncoded(header, payload), l.port, l.address!);
    this.laneStats.forwarded++;
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
    const members = this.channelMembers(ctx.channelId);
    if (members === undefined) return;
    let sent = 0;
    for (let i = 0; i < ctx.listeners.length; i++) {
      const l = ctx.listeners[i]!;
      if (sealed[i] !== 1 || !members.has(l) || l.address === null || l.conn.session.selfDeaf) continue;
      socket.send(Buffer.from(buf, i * size, size), l.port, l.address);
      sent++;
    }
    this.laneStats.forwarded += sent;
    this.laneStats.forwardedSealedByWorker += sent;
  }

  /**
   * Inside a voice shard: hands a packet that passed the speaker checks to
   * the other shards with listeners in its channel, once per shard
   * (shard-worker.ts). Null in a single lane.
   */
  relay: ((channelId: number, header: Buffer, payload: Buffer) => void) | null = null;

  /** Set by the lane: a channel's current members (seal workers re-check them). */
  channelMembers: (channelId: number) => ReadonlySet<VoiceSession> | undefined = () => undefined;
}
