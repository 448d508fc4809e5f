// User-space UDP relay between clients and the server (netem is not available
// here): lets tests block UDP, and later drop, delay or reorder it.
import dgram from 'node:dgram';

export class UdpRelay {
  /** When true, every datagram in either direction is silently dropped. */
  blocked = false;
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
        this.front.send(back, rinfo.port, rinfo.address);
      });
      up.bind(0, '127.0.0.1');
      this.upstream.set(key, up);
    }
    this.forwarded++;
    up.send(msg, this.serverPort, '127.0.0.1');
  }

  close(): void {
    this.front.close();
    for (const u of this.upstream.values()) u.close();
  }
}
