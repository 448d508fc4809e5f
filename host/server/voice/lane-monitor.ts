// The voice lane's counters and what it tells the operator about them: drop
// summaries (at most once per voice.dropLogIntervalMs, never a line per
// packet), the receive buffer the kernel granted, the kernel's own drop
// counters (kernel-drops.ts) read once a second off the packet path, and a
// periodic "voice lane stats" line. docs/OPERATIONS.md lists the fields.
import type dgram from 'node:dgram';
import type { Logger } from '../../log/logger.js';
import type { ServerConfig } from '../../config/server-config.js';
import { KernelDropReader, type KernelDrops } from './kernel-drops.js';
import type { BacklogStats } from './backlog-probe.js';
import type { FanoutStats } from './fanout.js';
import type { PathStats } from './path-validation.js';
import type { ShardStats } from './shard-stats.js';
import type { SourceShedder } from './udp-admission.js';

/**
 * Why a datagram was dropped (docs/PROTOCOL.md 12.2). Before any crypto:
 * truncated, oversize, malformed (a sequence no client sends: top bit set
 * without being a PATH_RESPONSE, or at/above 2^53), shedSource (its source IP
 * sent too many bad datagrams), unknownToken, unsolicited (a PATH_RESPONSE
 * that answers no outstanding challenge from that address), replayed
 * (pre-checked against the window), shedSession (its token's bad-MAC budget
 * is spent and it does not come from the validated address), stale (voice
 * that waited in the receive queue longer than a jitter buffer could use:
 * the lane is behind, backlog-probe.ts). After: forged (failed
 * authentication), overRate, muted, notVoiceChannel.
 */
export const DROP_KINDS = ['truncated', 'oversize', 'malformed', 'shedSource', 'unknownToken', 'unsolicited', 'replayed', 'shedSession', 'stale', 'forged', 'overRate', 'muted', 'notVoiceChannel'] as const;
export type DropKind = (typeof DROP_KINDS)[number];

export interface VoiceStats {
  received: number;
  authenticated: number;
  keepalives: number;
  forwarded: number;
  forwardedTcp: number;
  /** Sessions moved to the TLS fallback because no UDP came from them for voice.udpSilentMs. */
  udpSilentFallbacks: number;
  /** Of `forwarded`: sealed by a seal worker (voice.sealWorkers). */
  forwardedSealedByWorker: number;
  /** AEAD opens attempted (cheap checks passed); unknown-token garbage must never get here. */
  aeadOpens: number;
  dropped: Record<DropKind, number>;
  /** Path validation (path-validation.ts). */
  path: PathStats;
  /** Source shedding and token budgets (udp-admission.ts). */
  admission: SourceShedder['counters'];
  /** What the kernel dropped before we read it (kernel-drops.ts), as of the last read (about once a second). */
  kernel: KernelDrops & { recvBufferBytes: number | null };
  /** How the copies leave (fanout.ts): sendmmsg or dgram, fallbacks. */
  fanout: FanoutStats;
  /** How long datagrams wait in the receive queue (backlog-probe.ts). */
  backlog: BacklogStats;
  /** voice.shards > 1: the shards and their hand-offs (shard-stats.ts); null for a single lane. */
  shards: ShardStats | null;
}

/** How often the lane logs its counters (and the kernel's drops) when anything moved. */
const STATS_LOG_INTERVAL_MS = 60_000;

export class LaneMonitor {
  /** stats.dropped as of the last drop summary in the log (summaries come from the sweep, never per packet). */
  private droppedAtLastLog: Record<DropKind, number>;
  private lastDropLog = 0;
  private lastStatsLog = 0;
  private receivedAtLastStatsLog = 0;
  private kernelReader: KernelDropReader | null = null;
  private kernelReading = false;
  /** socketDrops when the last "kernel dropped" warning was logged. */
  private kernelDropsLogged: number | null = null;
  private lastKernelWarn = 0;

  constructor(
    private readonly stats: VoiceStats,
    private readonly config: ServerConfig['voice'],
    private readonly log: Logger,
  ) {
    this.droppedAtLastLog = { ...stats.dropped };
  }

  /** The socket is bound: report its buffer, and find it in /proc from now on. */
  opened(socket: dgram.Socket, port: number, ipv6: boolean): void {
    this.reportRecvBuffer(socket);
    this.kernelReader = new KernelDropReader(port, ipv6);
  }

  /** Once a second (the lane's sweep). */
  tick(now: number): void {
    this.logDrops(now);
    this.readKernelDrops(now);
  }

  /** Logs the receive buffer the kernel granted; Linux doubles the request and caps it at net.core.rmem_max. */
  private reportRecvBuffer(socket: dgram.Socket): void {
    const asked = this.config.recvBufferBytes;
    let granted: number | null = null;
    try {
      granted = socket.getRecvBufferSize();
    } catch {
      // not every platform reports it
    }
    this.stats.kernel.recvBufferBytes = granted;
    // Linux reports twice what it will queue of payload (the other half is its bookkeeping).
    if (granted !== null && granted < asked) this.log.warn({ askedBytes: asked, grantedBytes: granted }, 'voice receive buffer smaller than voice.recvBufferBytes (raise net.core.rmem_max)');
    else this.log.info({ askedBytes: asked, grantedBytes: granted }, 'voice receive buffer');
  }

  /** Summaries, not one line per packet (a flood of garbage must not flood the log): at most once per voice.dropLogIntervalMs. */
  private logDrops(now: number): void {
    if (now - this.lastDropLog < this.config.dropLogIntervalMs) return;
    const d = this.stats.dropped;
    const since: Partial<Record<DropKind, number>> = {};
    let any = false;
    for (const k of DROP_KINDS) {
      const n = d[k] - this.droppedAtLastLog[k];
      if (n > 0) {
        since[k] = n;
        any = true;
      }
    }
    if (!any) return;
    this.lastDropLog = now;
    this.droppedAtLastLog = { ...d };
    this.log.warn({ dropped: since, shedSourcesNow: this.stats.admission.sourcesShedNow, kernelSocketDrops: this.stats.kernel.socketDrops }, 'voice packets dropped');
  }

  /** About once a second, off the packet path: the kernel's drop counters, a warning when they grew, and the periodic stats line. */
  private readKernelDrops(now: number): void {
    const reader = this.kernelReader;
    if (reader === null || this.kernelReading) return;
    this.kernelReading = true;
    void reader
      .read()
      .then((k) => {
        const kernel = this.stats.kernel;
        kernel.socketDrops = k.socketDrops;
        kernel.rxQueueBytes = k.rxQueueBytes;
        kernel.systemRcvbufErrors = k.systemRcvbufErrors;
        const before = this.kernelDropsLogged;
        if (k.socketDrops !== null && before !== null && k.socketDrops > before && now - this.lastKernelWarn >= this.config.dropLogIntervalMs) {
          this.lastKernelWarn = now;
          this.log.warn({ droppedByKernel: k.socketDrops - before, socketDrops: k.socketDrops, systemRcvbufErrors: k.systemRcvbufErrors, recvBufferBytes: kernel.recvBufferBytes }, 'voice receive buffer overflowed: the kernel dropped datagrams before the server read them');
          this.kernelDropsLogged = k.socketDrops;
        } else if (before === null) this.kernelDropsLogged = k.socketDrops;
        if (now - this.lastStatsLog >= STATS_LOG_INTERVAL_MS && this.stats.received !== this.receivedAtLastStatsLog) {
          this.lastStatsLog = now;
          this.receivedAtLastStatsLog = this.stats.received;
          const { received, authenticated, keepalives, forwarded, forwardedTcp, aeadOpens, dropped, path, admission, fanout, backlog } = this.stats;
          this.log.info({ received, authenticated, keepalives, forwarded, forwardedTcp, aeadOpens, dropped, path, admission, kernel, fanout, backlog }, 'voice lane stats');
        }
      })
      .catch((err: unknown) => this.log.debug({ err }, 'voice: kernel drop counters unreadable'))
      .finally(() => {
        this.kernelReading = false;
      });
  }

  async refreshKernel(): Promise<VoiceStats['kernel']> {
    const k = this.kernelReader === null ? null : await this.kernelReader.read();
    if (k !== null) Object.assign(this.stats.kernel, k);
    // A copy: stats.kernel itself moves on with every read.
    return { ...this.stats.kernel };
  }
}
