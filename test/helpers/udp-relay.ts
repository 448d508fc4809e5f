// User-space UDP relay between clients and the server (netem is not available
// here): lets tests block UDP, and later drop, delay or reorder it.
import dgram from 'node:dgram';

/** Network impairment of voice datagrams on their way from the server to the client. */
export interface Impairment {
  /** Probability that a voice datagram is dropped. */
  loss: number;
  /**
   * Jitter: each voice datagram is delayed by a uniform random 0..2×jitterMs, i.e. ±jitterMs
   * around a mean delay of jitterMs (which also reorders them).
   */
  jitterMs: number;
  /** Probability that a voice datagram is delivered twice. */
  duplicate: number;
  /** Seed of the relay's random numbers, so a run can be repeated. */
  seed?: number;
}

/** Keep-alives are 36 bytes (20-byte header + 16-byte tag); anything longer carries voice. */
const KEEPALIVE_BYTES = 36;

export class UdpRelay {
  /** When true, every datagram in either direction is silently dropped. */
  blocked = false;
  /** Impairment of server → client voice datagrams (null: none). */
  impair: Impairment | null = null;
  readonly impaired = { voice: 0, dropped: 0, duplicated: 0, delayed: 0 };
  private rng = 1;

  private random(): number {
    // xorshift32: small, seedable, good enough for test impairment.
    let x = this.rng;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.rng = x >>> 0 || 1;
    return this.rng / 0x1_0000_0000;
  }

  setImpairment(i: Impairment | null): void {
    this.impair = i;
    if (i?.seed !== undefined) this.rng = i.seed >>> 0 || 1;
  }

  private toClient(back: Buffer, port: number, address: string): void {
    const imp = this.impair;
    if (!imp || back.length <= KEEPALIVE_BYTES) {
      this.front.send(back, port, address);
      return;
    }
    this.impaired.voice++;
    if (this.random() < imp.loss) {
      this.impaired.dropped++;
      return;
    }
    const copies = this.random() < imp.duplicate ? 2 : 1;
    if (copies === 2) this.impaired.duplicated++;
    for (let c = 0; c < copies; c++) {
      const delay = imp.jitterMs > 0 ? this.random() * 2 * imp.jitterMs : 0;
      if (delay < 0.5) this.front.send(back, port, address);
      else {
        this.impaired.delayed++;
        setTimeout(() => {
          if (!this.closed) this.front.send(back, port, address);
        }, delay);
      }
    }
  }
  forwarded = 0;
  dropped = 0;
  private readonly front = dgram.createSocket('udp4');
  private readonly upstream = new Map<string, dgram.Socket>();

  private constructor(private readonly serverPort: number) {}

  static async start(serverPort: number): Promise<UdpRelay> {
    const r = new UdpRelay(serverPort);
    r.front.on('message', (msg, rinfo) => r.fromClient(msg, rinfo));
    await new Promise<void>((resolve) => r.front.bind(0, '127.0.0.1', resolve));
    return r;
  }

  get port(): number {
    return this.front.address().port;
  }

  private fromClient(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    if (this.blocked) {
      this.dropped++;
      return;
    }
    const key = `${rinfo.address}:${rinfo.port}`;
    let up = this.upstream.get(key);
    if (!up) {
      up = dgram.createSocket('udp4');
      up.on('message', (back) => {
        if (this.blocked) {
          this.dropped++;
          return;
        }
        this.forwarded++;
        this.toClient(back, rinfo.port, rinfo.address);
      });
      up.bind(0, '127.0.0.1');
      this.upstream.set(key, up);
    }
    this.forwarded++;
    up.send(msg, this.serverPort, '127.0.0.1');
  }

  private closed = false;

  close(): void {
    this.closed = true;
    this.front.close();
    for (const u of this.upstream.values()) u.close();
  }
}
