// How far behind the voice lane is: how long datagrams wait in its socket's
// receive queue before the lane reads them. Node gives no receive timestamps,
// and an overloaded lane looks idle from inside: libuv reads a few dozen
// datagrams per loop turn and timers keep firing on time, while the kernel
// queue (4 MiB by default) holds tens of seconds of input. An overloaded
// server once measured listeners' keep-alives more than 15 s late, decided
// that their UDP had gone silent and moved them to the TLS fallback mid-run,
// which made the overload worse (issue 12).
//
// So the lane mails itself: every intervalMs a 16-byte probe, carrying a
// random per-process secret and a counter, goes from a socket of our own to
// the lane's socket and queues behind whatever is waiting there. The queue is
// FIFO, so:
// - when probe k is read, every datagram that arrived before it was sent has
//   been read: `barrier` (probe k's send time) is a moment up to which the
//   lane has seen all its input. The lane judges UDP silence at the barrier,
//   not at "now", so its own backlog never looks like a client's silence;
// - while probe k+1 (sent at t) is still queued, whatever the lane reads now
//   arrived before t, so it has waited at least now - t: a lower bound on the
//   age of what is being read, good to one interval. Beyond staleMs the lane
//   drops voice unopened (a jitter buffer would discard it anyway), which
//   costs next to nothing and so drains the backlog fast; keep-alives and
//   path packets are still processed.
// While nothing arrives there is no queue: then no probe is sent (an idle
// server is not woken 20 times a second), and the barrier simply follows the
// clock, since an interval in which the loop ran and read nothing means
// nothing was waiting. A probe is never answered, and one that does not come
// from our own socket with the secret is just another bad datagram. If no probe has come back for
// a long while (lost, or no loopback), the lane falls back to judging at "now"
// and drops nothing as stale.
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import type { Logger } from '../../log/logger.js';

export const PROBE_BYTES = 16;
const RING = 1024;

export interface BacklogSettings {
  /** A probe goes out this often: the resolution of both figures. */
  intervalMs: number;
  /** Voice that has waited longer than this since it arrived is dropped unopened. */
  staleMs: number;
  /** No probe back for this long: stop trusting them (judge silence at now, drop nothing as stale). */
  giveUpMs: number;
}

export interface BacklogStats {
  /** Probes sent / read back. */
  probesSent: number;
  probesSeen: number;
  /** The lower bound of the queueing delay as of the last update, ms. */
  lagMs: number;
  /** The largest lagMs seen. */
  maxLagMs: number;
}

export class BacklogProbe {
  readonly settings: BacklogSettings = { intervalMs: 50, staleMs: 200, giveUpMs: 15_000 };
  readonly stats: BacklogStats = { probesSent: 0, probesSeen: 0, lagMs: 0, maxLagMs: 0 };
  /** True while what the lane reads has waited more than staleMs (updated per probe and per interval, read per datagram). */
  stale = false;
  private sender: dgram.Socket | null = null;
  private timer: NodeJS.Timeout | null = null;
  private readonly secretHi: number;
  private readonly secretLo: number;
  private readonly packet = Buffer.alloc(PROBE_BYTES);
  /** Send time of probe i at [i % RING]. */
  private readonly sentAt = new Float64Array(RING);
  private sent = 0;
  /** Index of the oldest probe not read back yet. */
  private seen = 0;
  private barrierAt = 0;
  private fromAddress = '';
  private fromPort = -1;
  private targetAddress = '';
  private targetPort = 0;
  private lastTickAt = 0;
  private trafficAtLastTick = -1;

  /** `traffic`: the lane's count of datagrams read (probes not included). */
  constructor(
    private readonly log: Logger,
    private readonly traffic: () => number,
  ) {
    const r = randomBytes(8);
    this.secretHi = r.readUInt32BE(0);
    this.secretLo = r.readUInt32BE(4);
    this.packet.writeUInt32BE(this.secretHi, 0);
    this.packet.writeUInt32BE(this.secretLo, 4);
  }

  /** Starts probing the lane's socket bound at host:port. Never throws: without probes the lane works as before. */
  async start(host: string, port: number, ipv6: boolean): Promise<void> {
    // An unspecified bind address is reached over loopback; a specific one at itself.
    const target = host === '0.0.0.0' || host === '' ? '127.0.0.1' : host === '::' ? '::1' : host;
    const sender = dgram.createSocket({ type: ipv6 ? 'udp6' : 'udp4' });
    sender.on('error', (err) => this.log.debug({ err }, 'voice backlog probe socket error'));
    try {
      await new Promise<void>((resolve, reject) => {
        sender.once('error', reject);
        sender.bind(0, target, () => {
          sender.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      this.log.warn({ err, target }, 'voice backlog probe unavailable: the lane cannot tell its own backlog from silence');
      sender.close();
      return;
    }
    sender.unref();
    this.sender = sender;
    const a = sender.address();
    this.fromAddress = a.address;
    this.fromPort = a.port;
    this.targetAddress = target;
    this.targetPort = port;
    this.timer = setInterval(() => this.tick(), this.settings.intervalMs);
    this.timer.unref();
    this.tick();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.sender?.close();
    this.sender = null;
    this.stale = false;
  }

  /** Whether a datagram is one of our probes (a few compares; call only for datagrams of PROBE_BYTES). */
  isProbe(msg: Buffer, address: string, port: number): boolean {
    return port === this.fromPort && address === this.fromAddress && msg.readUInt32BE(0) === this.secretHi && msg.readUInt32BE(4) === this.secretLo;
  }

  /** A probe came back through the queue. */
  onProbe(msg: Buffer, now: number): void {
    const k = msg.readUInt32BE(8);
    // Counters wrap at 2^32 (years at 40/s); a stale or repeated one changes nothing.
    if (k < this.seen || k >= this.sent) return;
    this.stats.probesSeen++;
    this.barrierAt = this.sentAt[k % RING]!;
    this.seen = k + 1;
    this.update(now);
  }

  /**
   * Every datagram that arrived before this moment has been read: the lane
   * judges "no UDP for udpSilentMs" here. `now` when probes are not working.
   */
  barrier(now: number): number {
    return this.working(now) ? this.barrierAt : now;
  }

  /** Whether the figures are in use (probes have come back, or the lane has seen that it is idle). */
  get trusted(): boolean {
    return this.working(Date.now());
  }

  private working(now: number): boolean {
    if (this.sender === null || (this.stats.probesSeen === 0 && this.barrierAt === 0)) return false;
    // Outstanding for too long: lost, or a backlog so deep that the figures mean nothing any more.
    return !(this.seen < this.sent && now - this.sentAt[this.seen % RING]! > this.settings.giveUpMs);
  }

  private tick(): void {
    const now = Date.now();
    const sender = this.sender;
    const traffic = this.traffic();
    const idle = traffic === this.trafficAtLastTick && this.seen === this.sent;
    this.trafficAtLastTick = traffic;
    const previousTick = this.lastTickAt;
    this.lastTickAt = now;
    if (idle && previousTick !== 0) {
      // The loop ran since the last tick and read nothing, with no probe out: nothing was queued then.
      this.barrierAt = previousTick;
      this.update(now);
      return;
    }
    if (sender !== null) {
      // Fewer than RING outstanding, or the ring would overwrite send times still needed.
      if (this.sent - this.seen >= RING) this.seen = this.sent - RING + 1;
      const k = this.sent;
      this.sentAt[k % RING] = now;
      this.packet.writeUInt32BE(k >>> 0, 8);
      this.sent = k + 1;
      this.stats.probesSent++;
      sender.send(this.packet, this.targetPort, this.targetAddress);
    }
    this.update(now);
  }

  private update(now: number): void {
    // The probe just sent by tick() is outstanding too, but says nothing yet: only older ones bound the delay.
    const oldest = this.seen < this.sent ? this.sentAt[this.seen % RING]! : now;
    const lag = Math.max(0, now - oldest);
    this.stats.lagMs = lag;
    if (lag > this.stats.maxLagMs) this.stats.maxLagMs = lag;
    this.stale = lag > this.settings.staleMs && this.working(now);
  }
}
