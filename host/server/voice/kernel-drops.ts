// The kernel's count of voice datagrams it dropped before the server read them
// (receive buffer full). The server cannot see such losses any other way, and
// under a flood they are what costs legitimate voice (issue 10 attack 5), so
// the voice lane reports them in its stats and log (docs/OPERATIONS.md).
//
// Linux only; elsewhere every figure stays null.
// - /proc/net/udp (udp6): one line per socket; the last column, "drops", counts
//   this socket's drops. Our line is found by the socket's inode, learnt once
//   from /proc/self/fd, and its local port.
// - /proc/net/snmp "Udp: ... RcvbufErrors" (snmp6 "Udp6RcvbufErrors"):
//   the same reason summed over every UDP socket of the machine.
import { readFile, readdir, readlink } from 'node:fs/promises';

export interface KernelDrops {
  /** This socket's drops since it was opened (the "drops" column); null if unknown. */
  socketDrops: number | null;
  /** Bytes waiting in this socket's receive queue right now. */
  rxQueueBytes: number | null;
  /** Machine-wide UDP datagrams dropped for a full receive buffer, since boot. */
  systemRcvbufErrors: number | null;
}

const UNKNOWN: KernelDrops = { socketDrops: null, rxQueueBytes: null, systemRcvbufErrors: null };

/** Inodes of this process's sockets ("socket:[123]" links in /proc/self/fd). */
async function ownSocketInodes(): Promise<Set<string>> {
  const out = new Set<string>();
  let fds: string[];
  try {
    fds = await readdir('/proc/self/fd');
  } catch {
    return out;
  }
  await Promise.all(
    fds.map(async (fd) => {
      try {
        const link = await readlink(`/proc/self/fd/${fd}`);
        const m = /^socket:\[(\d+)\]$/.exec(link);
        if (m) out.add(m[1]!);
      } catch {
        // closed meanwhile
      }
    }),
  );
  return out;
}

/** Parses a /proc/net/udp table: the line of the socket bound to `port` (and, if known, with `inode`). */
export function parseUdpTable(text: string, port: number, inodes: Set<string> | null): { drops: number; rxQueue: number; inode: string } | null {
  const portHex = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  const lines = text.split('\n');
  for (let i = 1; i < lines.length; i++) {
    const f = lines[i]!.trim().split(/\s+/);
    // sl local rem st tx:rx tr:when retrnsmt uid timeout inode ref pointer drops
    if (f.length < 13 || !f[1]!.endsWith(portHex)) continue;
    const inode = f[9]!;
    if (inodes !== null && !inodes.has(inode)) continue;
    const rx = f[4]!.split(':')[1] ?? '0';
    return { drops: Number(f[f.length - 1]), rxQueue: parseInt(rx, 16), inode };
  }
  return null;
}

/** Parses /proc/net/snmp's "Udp:" header/value pair, or snmp6's "Udp6RcvbufErrors N" line. */
export function parseRcvbufErrors(text: string): number | null {
  const lines = text.split('\n');
  for (let i = 0; i + 1 < lines.length; i++) {
    if (!lines[i]!.startsWith('Udp: ') || !lines[i + 1]!.startsWith('Udp: ')) continue;
    const names = lines[i]!.trim().split(/\s+/);
    const values = lines[i + 1]!.trim().split(/\s+/);
    const at = names.indexOf('RcvbufErrors');
    return at > 0 ? Number(values[at]) : null;
  }
  const m = /^Udp6RcvbufErrors\s+(\d+)/m.exec(text);
  return m ? Number(m[1]) : null;
}

export class KernelDropReader {
  private inodes: Set<string> | null = null;
  private readonly table: string;
  private readonly snmp: string;

  constructor(
    private readonly port: number,
    ipv6: boolean,
  ) {
    this.table = ipv6 ? '/proc/net/udp6' : '/proc/net/udp';
    this.snmp = ipv6 ? '/proc/net/snmp6' : '/proc/net/snmp';
  }

  /** Reads the counters (a few small /proc reads; call it about once a second, not per packet). */
  async read(): Promise<KernelDrops> {
    if (process.platform !== 'linux') return UNKNOWN;
    if (this.inodes === null) this.inodes = await ownSocketInodes();
    const [table, snmp] = await Promise.all([readFile(this.table, 'utf8').catch(() => null), readFile(this.snmp, 'utf8').catch(() => null)]);
    let line = table === null ? null : parseUdpTable(table, this.port, this.inodes.size > 0 ? this.inodes : null);
    if (line === null && table !== null && this.inodes.size > 0) {
      // The socket may be newer than the inode list (learnt at first read): learn again once.
      this.inodes = await ownSocketInodes();
      line = parseUdpTable(table, this.port, this.inodes);
    }
    return {
      socketDrops: line?.drops ?? null,
      rxQueueBytes: line?.rxQueue ?? null,
      systemRcvbufErrors: snmp === null ? null : parseRcvbufErrors(snmp),
    };
  }
}
