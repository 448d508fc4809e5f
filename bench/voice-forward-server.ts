// Server side of bench/voice-forward: runs in its own process (forked by
// bench/voice-forward.ts) so its CPU and memory can be measured apart from the
// load generator. Two modes:
//   hearth  a real HearthServer on 127.0.0.1 (port 0, temp data dir, log level
//           'warn'), limits raised for one address with many clients, and the
//           N benchmark accounts created straight in its store; --shards N sets
//           voice.shards (worker threads, each on its own UDP port);
//   raw     a bare dgram fan-out (no crypto, no lookups): every datagram from a
//           registered address is sent unchanged to every other registered
//           address. The floor that Node's UDP sockets alone cost per packet.
// IPC: child → {type:'ready', ...}; parent → {type:'snapshot', id} answered with
// {type:'snapshot', id, cpu, rss, forwarded, ...}; parent → {type:'stop'}.
import dgram from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadServerConfig } from '../host/config/server-config.js';
import { HearthServer } from '../host/server/server.js';
import { hashPassword } from '../host/server/password.js';
import { VOICE_BACKENDS, type VoiceBackend } from '../host/voice/packet.js';
import { BENCH_PASSWORD, benchUser, RAW_REGISTER_BYTES, type ParentMessage, type ReadyMessage, type SnapshotMessage } from './voice-forward-protocol.js';

const send = (m: ReadyMessage | SnapshotMessage): void => {
  process.send!(m);
};

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      mode: { type: 'string', default: 'hearth' },
      clients: { type: 'string', default: '0' },
      backend: { type: 'string', default: 'node' },
      'seal-workers': { type: 'string', default: '0' },
      fanout: { type: 'string', default: 'native' },
      shards: { type: 'string', default: '1' },
    },
  });
  const mode = values.mode === 'raw' ? 'raw' : 'hearth';
  const clients = Number(values.clients);
  const backend = values.backend as VoiceBackend;
  const sealWorkers = Number(values['seal-workers']);
  if (!VOICE_BACKENDS.includes(backend)) throw new Error(`unknown backend ${backend}`);
  const fanout = values.fanout === 'dgram' ? 'dgram' : 'native';
  const shards = Number(values.shards);
  if (!Number.isInteger(shards) || shards < 1) throw new Error(`bad --shards ${values.shards}`);

  let snapshotCounters: () => Pick<SnapshotMessage, 'received' | 'forwarded' | 'forwardedTcp' | 'dropped'>;
  let stop: () => Promise<void>;

  if (mode === 'hearth') {
    const dataDir = mkdtempSync(join(tmpdir(), 'hearth-bench-'));
    const config = loadServerConfig({
      host: '127.0.0.1',
      port: 0,
      dataDir,
      log: { level: 'warn', pretty: false },
      limits: { maxConnections: 10_000, maxConnectionsPerIp: 10_000, messagesPerSecond: 1000, messageBurst: 10_000 },
      loginThrottle: { maxFailures: 1000 },
      // Explicit: on an ephemeral port the default would be 1 anyway (voiceShardCount).
      voice: { sealWorkers, shards },
    });
    const server = new HearthServer(config);
    const info = await server.start();
    server.voice.cryptoBackend = backend;
    // 'dgram': the JS path (seal with the backend, one dgram.send per copy), the baseline for the addon.
    if (fanout === 'dgram') {
      server.voice.fanout.useNative = false;
      server.voice.shards?.tune({ useNative: false });
    }
    // One argon2 hash serves every account (same password): setup stays fast.
    const hash = await hashPassword(BENCH_PASSWORD);
    for (let i = 0; i < clients; i++) {
      if (!server.store.users.create(benchUser(i), hash, 'member')) throw new Error(`user ${benchUser(i)} exists`);
    }
    snapshotCounters = () => {
      const s = server.voice.stats;
      return { received: s.received, forwarded: s.forwarded, forwardedTcp: s.forwardedTcp, dropped: { ...s.dropped } };
    };
    stop = async () => {
      await server.stop();
      rmSync(dataDir, { recursive: true, force: true });
    };
    send({ type: 'ready', mode, port: info.port, voicePort: info.voicePort, fingerprint: info.fingerprint, backend, fanout: server.voice.fanout.useNative ? server.voice.stats.fanout.engine : 'dgram', idleRss: process.memoryUsage().rss });
  } else {
    const socket = dgram.createSocket({ type: 'udp4', recvBufferSize: 4 << 20, sendBufferSize: 4 << 20 });
    const addrs: string[] = [];
    const ports: number[] = [];
    const ids: number[] = [];
    let received = 0;
    let forwarded = 0;
    socket.on('message', (msg, rinfo) => {
      received++;
      if (msg.length === RAW_REGISTER_BYTES) {
        addrs.push(rinfo.address);
        ports.push(rinfo.port);
        ids.push(msg.readUInt32BE(0));
        socket.send(msg, rinfo.port, rinfo.address); // ack
        return;
      }
      // Fan out to everyone but the sender (found by address, as a relay would).
      for (let i = 0; i < ports.length; i++) {
        if (ports[i] === rinfo.port && addrs[i] === rinfo.address) continue;
        socket.send(msg, ports[i]!, addrs[i]!);
        forwarded++;
      }
    });
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    snapshotCounters = () => ({ received, forwarded, forwardedTcp: 0, dropped: {} });
    stop = async () => {
      socket.close();
    };
    send({ type: 'ready', mode, port: 0, voicePort: socket.address().port, fingerprint: '', backend: 'none', fanout: 'dgram', idleRss: process.memoryUsage().rss });
  }

  let stopping = false;
  const shutdown = (): void => {
    if (stopping) return;
    stopping = true;
    void stop().finally(() => {
      if (process.connected) process.disconnect();
      process.exit(0);
    });
  };
  process.on('message', (m: ParentMessage) => {
    if (m.type === 'snapshot') {
      const cpu = process.cpuUsage();
      const mem = process.memoryUsage();
      send({
        type: 'snapshot',
        id: m.id,
        atMs: performance.now(),
        cpuUserUs: cpu.user,
        cpuSystemUs: cpu.system,
        rss: mem.rss,
        heapUsed: mem.heapUsed,
        ...snapshotCounters(),
      });
    } else if (m.type === 'stop') {
      shutdown();
    }
  });
  // The parent died: don't linger.
  process.on('disconnect', shutdown);
}

main().catch((err: unknown) => {
  process.stderr.write(`voice-forward-server: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
