// voice.shards > 1: the voice lane's datagrams are carried by worker threads
// ("shards", shard-worker.ts), each with its own UDP socket on its own port
// (shard i on the voice port + i; with an ephemeral voice port, each takes
// an ephemeral one), so voice uses every core. The main thread keeps the
// control plane and tells the shards what they need, over each worker's
// ordered port (shard-messages.ts):
// - a session is assigned at attach to the live shard with the fewest
//   sessions; its login reply carries that shard's udpPort, and only that
//   shard ever holds its keys;
// - presence (channel, mutes, deafness) goes to the session's shard; which
//   shards have listeners in which channel, and which channels are voice
//   channels, go to every shard (the speaker's shard needs them to know where
//   to hand a packet);
// - TLS fallback: a tunnelled datagram is checked here first (shard-tunnel.ts:
//   the connection needs the verdict now), then posted to the session's
//   shard; frames a shard sealed for listeners on TLS come back batched and
//   are written here.
// Stats: every shard reports its lane's counters; their sum is written into
// the lane's one VoiceStats object (shard-stats.ts).
// A shard that dies is logged; its sessions are disconnected with INTERNAL
// and a message saying to reconnect (their keys were in that thread only, so
// nothing else could carry them), and the shard is started again on the same
// port, at most MAX_RESTARTS times per RESTART_WINDOW_MS. close() is idempotent
// and resolves once every thread has exited.
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import type { Logger } from '../../log/logger.js';
import type { ServerConfig } from '../../config/server-config.js';
import type { VoiceBackend } from '../../voice/packet.js';
import type { Hub } from '../hub.js';
import { DROP_KINDS, type DropKind, type VoiceStats } from './lane-monitor.js';
import { relogShardLine } from './shard-log.js';
import type { MainToShard, RelayCounters, ShardInit, ShardToMain } from './shard-messages.js';
import { ListenerShards } from './shard-listeners.js';
import { ShardBell, ShardRing } from './shard-ring.js';
import { TunnelDoor } from './shard-tunnel.js';
import { accumulate, combineInto, emptyRelay, sumRelay, zeroed, type OwnCounters } from './shard-stats.js';
import type { VoiceSession } from './voice-session.js';

/** Bytes per ring (one per ordered pair of shards): ~1,500 packets of 120 bytes, seconds of voice. */
const RING_BYTES = 256 * 1024;
const MAX_SHARDS = 30;
const MAX_RESTARTS = 3;
const RESTART_WINDOW_MS = 60_000;
const READY_TIMEOUT_MS = 15_000;
/** How often the channel tree is checked for voice flags that changed without a presence event. */
const TREE_CHECK_MS = 250;

/**
 * voice.shards, or its default: one core fewer than the machine has (at most
 * 8, at least 1). The core left over runs the control lane, TLS and the
 * kernel's side of every send, which a shard's fan-out keeps busy: on the
 * 2-core test VM two shards lost to one lane at (100 clients, 5 talkers) and
 * cost 12 MB each (docs/OPERATIONS.md, voice shards). A server whose voice
 * port is ephemeral (port 0: tests, benchmarks) defaults to one lane, since
 * the ports of its shards could not be told to a firewall anyway.
 */
export function voiceShardCount(config: ServerConfig): number {
  if (config.voice.shards !== undefined) return config.voice.shards;
  const ephemeral = config.voice.port === 0 || (config.voice.port === undefined && config.port === 0);
  return ephemeral ? 1 : Math.max(1, Math.min(os.availableParallelism() - 1, 8));
}

interface Shard {
  index: number;
  worker: Worker | null;
  /** Ready (its socket is bound) and not dead. */
  live: boolean;
  port: number;
  sessions: number;
  stats: VoiceStats | null;
  relay: RelayCounters;
  restartTimes: number[];
}

export class ShardPool {
  private readonly shards: Shard[] = [];
  private rings: (SharedArrayBuffer | null)[][] = [];
  private bells: SharedArrayBuffer[] = [];
  private listeners: ListenerShards | null = null;
  private tree: unknown = null;
  private voiceChannels = '';
  private treeTimer: NodeJS.Timeout | null = null;
  private closing: Promise<void> | null = null;
  /** Requests to shards waiting for their answer (kernel counters, sync), by id. */
  private readonly waiting = new Map<number, (m: ShardToMain) => void>();
  private nextId = 1;
  /** Counters of dead shards (no total goes back) and of what main refused itself. */
  private retired: VoiceStats | null = null;
  private readonly own: OwnCounters = { received: 0, aeadOpens: 0, dropped: Object.fromEntries(DROP_KINDS.map((k) => [k, 0])) as Record<DropKind, number> };
  private readonly door: TunnelDoor;

  constructor(
    private readonly config: ServerConfig,
    private readonly hub: Hub,
    private readonly log: Logger,
    private readonly byToken: ReadonlyMap<number, VoiceSession>,
    private readonly stats: VoiceStats,
  ) {
    this.door = new TunnelDoor(byToken, this.own);
  }

  async start(count: number, basePort: number): Promise<void> {
    if (count > MAX_SHARDS) throw new Error(`voice.shards: at most ${MAX_SHARDS}`);
    if (basePort !== 0 && basePort + count - 1 > 65_535) throw new Error(`voice.shards: ports ${basePort}-${basePort + count - 1} run past 65535`);
    this.rings = Array.from({ length: count }, (_, from) => Array.from({ length: count }, (_, to) => (from === to ? null : ShardRing.allocate(RING_BYTES))));
    this.bells = Array.from({ length: count }, () => ShardBell.allocate());
    this.listeners = new ListenerShards(count, (channelId, mask) => this.broadcast({ type: 'listeners', channelId, mask }));
    this.stats.shards = { count, running: 0, ready: 0, ports: [], sessions: [], restarts: 0, ...emptyRelay() };
    for (let i = 0; i < count; i++) this.shards.push({ index: i, worker: null, live: false, port: 0, sessions: 0, stats: null, relay: emptyRelay(), restartTimes: [] });
    try {
      await Promise.all(this.shards.map((s) => this.spawn(s, basePort === 0 ? 0 : basePort + s.index)));
    } catch (err) {
      await this.close();
      throw err;
    }
    this.checkTree();
    this.treeTimer = setInterval(() => this.checkTree(), TREE_CHECK_MS);
    this.treeTimer.unref();
    this.log.info({ shards: count, ports: this.shards.map((s) => s.port) }, 'voice lane listening (UDP), sharded over worker threads');
  }

  /** The UDP port of shard i (0 until it is up). */
  port(i: number): number {
    return this.shards[i]?.port ?? 0;
  }

  /** Shard threads running now (0 once close() resolved). */
  get running(): number {
    return this.shards.filter((s) => s.worker !== null).length;
  }

  /** Stops shard i's thread as if it had crashed (tests: what happens to its sessions). */
  async crash(i: number): Promise<void> {
    await this.shards[i]?.worker?.terminate();
  }

  /** Changes a setting in every shard's lane (tests and benchmarks). */
  tune(settings: { useNative?: boolean; staleMs?: number }): void {
    this.broadcast({ type: 'tune', ...settings });
  }

  /** A new session: to the live shard with the fewest sessions. Returns that shard's UDP port. */
  add(vs: VoiceSession, secret: Uint8Array, backend: VoiceBackend): number {
    const live = this.shards.filter((s) => s.live);
    // None live (all restarting): a restarting one queues the messages until it is up.
    const pool = live.length > 0 ? live : this.shards.filter((s) => s.worker !== null);
    if (pool.length === 0) this.log.error('no voice shard is running: this session has no voice');
    const shard = (pool.length > 0 ? pool : this.shards).reduce((a, b) => (b.sessions < a.sessions ? b : a));
    vs.shard = shard.index;
    shard.sessions++;
    const s = vs.session;
    this.post(shard, { type: 'add', token: vs.token, sessionId: s.sessionId, secret: new Uint8Array(secret), backend, channelId: s.channelId, selfMute: s.selfMute, selfDeaf: s.selfDeaf, serverMute: s.serverMute });
    this.updateShardStats();
    return shard.port;
  }

  /** A presence event of a session with voice (hub.presenceListeners, via the lane). */
  presence(vs: VoiceSession, event: 'join' | 'update' | 'leave'): void {
    const shard = this.shards[vs.shard];
    if (shard === undefined) return;
    this.checkTree();
    const s = vs.session;
    this.post(shard, { type: 'presence', token: vs.token, event, channelId: s.channelId, selfMute: s.selfMute, selfDeaf: s.selfDeaf, serverMute: s.serverMute });
    this.listeners?.set(vs, vs.shard, event === 'leave' || s.selfDeaf ? null : s.channelId);
  }

  /** The session ended. */
  remove(vs: VoiceSession): void {
    const shard = this.shards[vs.shard];
    if (shard === undefined) return;
    this.post(shard, { type: 'remove', token: vs.token });
    this.forget(vs);
  }

  /**
   * A kind-2 frame over TLS (conn.onVoiceFrame): checked here so the
   * connection gets its verdict now (false: it counts towards BAD_VOICE),
   * then handed to the session's shard (shard-tunnel.ts).
   */
  tunnel(body: Buffer): boolean {
    const vs = this.door.check(body);
    if (typeof vs === 'string') {
      this.sumStats();
      return false;
    }
    // A copy of exactly the frame (the body is a view into the connection's read buffer).
    const copy = new Uint8Array(body);
    this.post(this.shards[vs.shard]!, { type: 'tunnel', body: copy }, [copy.buffer]);
    return true;
  }

  /** The kernel's drop counters of every shard's socket, read now, combined. */
  async refreshKernel(): Promise<VoiceStats['kernel']> {
    const got: Record<string, unknown>[] = [];
    for (const m of await this.ask('kernel', 1000)) if (m.type === 'kernel') got.push(m.kernel as unknown as Record<string, unknown>);
    if (got.length > 0) combineInto(this.stats.kernel as unknown as Record<string, unknown>, got, 'kernel');
    return { ...this.stats.kernel };
  }

  /**
   * Resolves once every running shard has handled everything posted to it
   * before (its port is ordered): e.g. a channel move has reached the
   * speaker's shard. Tests use it instead of sleeping.
   */
  async sync(): Promise<void> {
    await this.ask('sync', 5000);
  }

  /** Asks every running shard; the answers that came within `timeoutMs`. */
  private ask(type: 'kernel' | 'sync', timeoutMs: number): Promise<ShardToMain[]> {
    const asks = this.shards
      .filter((s) => s.worker !== null)
      .map(
        (s) =>
          new Promise<ShardToMain | null>((resolve) => {
            const id = this.nextId++;
            const timer = setTimeout(() => (this.waiting.delete(id), resolve(null)), timeoutMs);
            this.waiting.set(id, (m) => (clearTimeout(timer), resolve(m)));
            this.post(s, { type, id });
          }),
      );
    return Promise.all(asks).then((all) => all.filter((m): m is ShardToMain => m !== null));
  }

  /** Idempotent: terminates every shard thread; resolves once all have exited. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      if (this.treeTimer) clearInterval(this.treeTimer);
      await Promise.all(this.shards.map((s) => s.worker?.terminate()));
      for (const s of this.shards) s.live = false;
      this.updateShardStats();
    })();
    return this.closing;
  }

  private spawn(shard: Shard, udpPort: number): Promise<void> {
    const count = this.shards.length;
    const init: ShardInit = {
      index: shard.index,
      count,
      config: { ...this.config, voice: { ...this.config.voice, port: udpPort, shards: 1, sealWorkers: 0 } },
      logLevel: this.log.level,
      rings: this.rings,
      bells: this.bells,
    };
    const worker = new Worker(new URL('./shard-worker.js', import.meta.url), { workerData: init });
    worker.unref();
    shard.worker = worker;
    shard.live = false;
    shard.port = udpPort;
    // What every shard knows about channels; the sessions come with their own messages.
    this.post(shard, { type: 'voiceChannels', ids: this.voiceChannelIds() });
    for (const [channelId, mask] of this.listeners!.masks()) this.post(shard, { type: 'listeners', channelId, mask });
    this.updateShardStats();
    return new Promise<void>((resolve, reject) => {
      let ready = false;
      const timer = setTimeout(() => reject(new Error(`voice shard ${shard.index} did not start within ${READY_TIMEOUT_MS} ms`)), READY_TIMEOUT_MS);
      timer.unref();
      worker.on('message', (m: ShardToMain) => {
        if (m.type === 'ready') {
          ready = true;
          clearTimeout(timer);
          shard.port = m.port;
          shard.live = true;
          this.updateShardStats();
          resolve();
        } else this.onMessage(shard, m);
      });
      worker.on('error', (err) => {
        this.log.error({ err, shard: shard.index, port: udpPort }, 'voice shard failed');
        if (!ready) {
          clearTimeout(timer);
          reject(new Error(`voice shard ${shard.index} (UDP port ${udpPort}) failed to start: ${err.message}`));
        }
      });
      worker.on('exit', (code) => {
        if (!ready) {
          clearTimeout(timer);
          reject(new Error(`voice shard ${shard.index} (UDP port ${udpPort}) exited (${code}) before it was ready`));
        }
        this.onExit(shard, worker, code);
      });
    });
  }

  private onMessage(shard: Shard, m: ShardToMain): void {
    switch (m.type) {
      case 'log':
        relogShardLine(this.log, shard.index, m.line);
        break;
      case 'stats':
        shard.stats = m.stats;
        shard.relay = m.relay;
        for (let i = 0; i + 1 < m.transports.length; i += 2) {
          const vs = this.byToken.get(m.transports[i]!);
          // The main copy of udpActive: what metrics count per transport.
          if (vs !== undefined && vs.shard === shard.index) vs.udpActive = m.transports[i + 1] === 1;
        }
        this.sumStats();
        break;
      case 'tls': {
        let start = 0;
        for (let i = 0; i < m.tokens.length; i++) {
          const end = m.ends[i]!;
          const vs = this.byToken.get(m.tokens[i]!);
          if (vs !== undefined && vs.shard === shard.index) vs.conn.sendRaw(Buffer.from(m.buf, start, end - start));
          start = end;
        }
        break;
      }
      case 'kernel':
      case 'sync':
        this.waiting.get(m.id)?.(m);
        this.waiting.delete(m.id);
        break;
      default:
        break;
    }
  }

  private onExit(shard: Shard, worker: Worker, code: number): void {
    if (shard.worker !== worker) return;
    shard.worker = null;
    shard.live = false;
    if (shard.stats !== null) {
      // Its last counters stay in the totals; figures of the moment (queue, lag) do not.
      const last = shard.stats;
      this.retired ??= zeroed(last);
      accumulate(this.retired as unknown as Record<string, unknown>, last as unknown as Record<string, unknown>);
      this.retired.kernel.recvBufferBytes = null;
      this.retired.kernel.rxQueueBytes = null;
      this.retired.backlog.lagMs = 0;
      shard.stats = null;
    }
    this.updateShardStats();
    if (this.closing !== null) return;
    const victims = [...this.byToken.values()].filter((vs) => vs.shard === shard.index);
    this.log.error({ shard: shard.index, port: shard.port, code, sessions: victims.length }, 'voice shard stopped; disconnecting its sessions (they reconnect onto a running shard)');
    for (const vs of victims) this.forget(vs);
    for (const vs of victims) vs.conn.disconnect('INTERNAL', 'The voice shard carrying this session failed; reconnect.');
    const now = Date.now();
    shard.restartTimes = shard.restartTimes.filter((t) => now - t < RESTART_WINDOW_MS);
    if (shard.restartTimes.length >= MAX_RESTARTS) {
      this.log.error({ shard: shard.index, port: shard.port }, `voice shard died ${MAX_RESTARTS} times within ${RESTART_WINDOW_MS / 1000} s; not starting it again (new sessions go to the other shards)`);
      return;
    }
    shard.restartTimes.push(now);
    this.stats.shards!.restarts++;
    this.spawn(shard, shard.port).catch((err: unknown) => {
      if (this.closing === null) this.log.error({ err, shard: shard.index }, 'voice shard could not be started again');
    });
  }

  private sumStats(): void {
    const sources: Record<string, unknown>[] = [];
    for (const s of this.shards) if (s.stats !== null) sources.push(s.stats as unknown as Record<string, unknown>);
    if (this.retired !== null) sources.push(this.retired as unknown as Record<string, unknown>);
    sources.push(this.own as unknown as Record<string, unknown>);
    combineInto(this.stats as unknown as Record<string, unknown>, sources);
    sumRelay(this.stats.shards!, this.shards.map((s) => s.relay));
  }

  private updateShardStats(): void {
    const st = this.stats.shards;
    if (!st) return;
    st.running = this.running;
    st.ready = this.shards.filter((s) => s.live).length;
    st.ports = this.shards.map((s) => s.port);
    st.sessions = this.shards.map((s) => s.sessions);
  }

  /** Drops a session from the shard tables (its shard is told separately, or is dead). */
  private forget(vs: VoiceSession): void {
    const shard = this.shards[vs.shard];
    if (shard === undefined) return;
    this.listeners?.set(vs, -1, null);
    shard.sessions--;
    vs.shard = -1;
    this.updateShardStats();
  }

  /** The tree is replaced (never changed in place) on every channel edit: a new object means maybe new voice flags. */
  private checkTree(): void {
    if (this.hub.tree === this.tree) return;
    this.tree = this.hub.tree;
    const ids = this.voiceChannelIds();
    const key = ids.join(',');
    if (key === this.voiceChannels) return;
    this.voiceChannels = key;
    this.broadcast({ type: 'voiceChannels', ids });
  }

  private voiceChannelIds(): number[] {
    return this.hub.tree
      .all()
      .filter((c) => c.isVoice)
      .map((c) => c.id)
      .sort((a, b) => a - b);
  }

  private broadcast(m: MainToShard): void {
    for (const s of this.shards) this.post(s, m);
  }

  private post(shard: Shard, m: MainToShard, transfer?: ArrayBuffer[]): void {
    shard.worker?.postMessage(m, transfer);
  }
}
