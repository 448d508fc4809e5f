// Issue 10, attack 5: what a UDP garbage flood costs legitimate voice and the
// server. One speaker talks to one listener through a real HearthServer (its
// own process, so its CPU is its own) over 127.0.0.1, first with no flood (the
// baseline, same run), then while flood processes (not on the server's or the
// clients' thread) send garbage at --rate datagrams/s from several sockets on
// 127.0.0.3.. : a third random bytes, a third unknown tokens with a plausible
// header, a third the two real sessions' tokens with fresh sequences and bad
// ciphertext (the costly kind: it passes every check before the AEAD).
//
// Figures (flood phase, baseline alongside):
// - legitVoiceDeliveryPct: the listener's share of the speaker's packets;
// - longestGapMs: the longest time between two voice packets at the listener;
// - cpuUsPerDroppedDatagram: the server's CPU (process.cpuUsage, user+system)
//   over the flood minus the baseline's rate over as long, divided by the
//   datagrams the voice lane read and dropped;
// - kernelDrops: the server socket's "drops" (/proc/net/udp) during the flood,
//   datagrams the kernel threw away because the receive buffer was full;
// - floodSentPerSecond (what the generators achieved), laneProcessedPerSecond,
//   serverCpuPercentOfOneCore, loadAvg1 (the machine is shared).
//
// Usage: node dist/bench/abuse/udp-flood.js [--seconds 10] [--rate 40000]
//          [--baseline-seconds 4] [--senders 2] [--sockets 4]
// Prints one JSON line. It reads only public APIs and /proc, so the same file
// measures an older server too.
import { fork, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';

const SELF = fileURLToPath(import.meta.url);
const PASSWORD = 'flood bench password';
const PAYLOAD = Buffer.alloc(120, 7);

type ServerMsg =
  | { type: 'ready'; port: number; voicePort: number; fingerprint: string }
  | { type: 'snapshot'; cpuUs: number; received: number; dropped: number; loopDelayMaxMs: number; stats: unknown };

// ------------------------------------------------------------------ server

async function serverRole(): Promise<void> {
  const { loadServerConfig } = await import('../../host/config/server-config.js');
  const { HearthServer } = await import('../../host/server/server.js');
  const { hashPassword } = await import('../../host/server/password.js');
  const dataDir = mkdtempSync(join(tmpdir(), 'hearth-flood-'));
  const server = new HearthServer(loadServerConfig({ host: '127.0.0.1', port: 0, dataDir, log: { level: 'warn', pretty: false } }));
  const info = await server.start();
  const hash = await hashPassword(PASSWORD);
  for (const u of ['speaker', 'listener']) server.store.users.create(u, hash, 'member');
  const send = (m: ServerMsg): void => void process.send!(m);
  // How long the server's thread went without running its event loop (reset per snapshot).
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  process.on('message', (m: { type: string }) => {
    if (m.type === 'snapshot') {
      const loopDelayMaxMs = loop.max / 1e6;
      loop.reset();
      const cpu = process.cpuUsage();
      const s = server.voice.stats as unknown as { received: number; dropped: Record<string, number> };
      const dropped = Object.values(s.dropped).reduce((a, b) => a + b, 0);
      send({ type: 'snapshot', cpuUs: cpu.user + cpu.system, received: s.received, dropped, loopDelayMaxMs, stats: server.voice.stats });
    } else if (m.type === 'stop') {
      void server.stop().then(() => {
        rmSync(dataDir, { recursive: true, force: true });
        process.exit(0);
      });
    }
  });
  send({ type: 'ready', port: info.port, voicePort: info.voicePort, fingerprint: info.fingerprint });
}

// ------------------------------------------------------------------- flood

interface FloodArgs {
  port: number;
  rate: number;
  seconds: number;
  sockets: number;
  firstHost: number;
  tokens: number[];
}

async function floodRole(a: FloodArgs): Promise<void> {
  const sockets = await Promise.all(
    Array.from({ length: a.sockets }, async (_, i) => {
      const s = dgram.createSocket({ type: 'udp4', sendBufferSize: 4 << 20 });
      s.on('error', () => {});
      await new Promise<void>((r) => s.bind(0, `127.0.0.${a.firstHost + i}`, r));
      return s;
    }),
  );
  // A ring of prepared datagrams; the real-token ones get a fresh sequence each time.
  const RING = 4096;
  const ring: Buffer[] = [];
  for (let i = 0; i < RING; i++) {
    const kind = i % 3;
    const m = randomBytes(36 + ((i * 37) % 140));
    if (kind === 1) m.writeUInt32BE(0x7000_0000 + i, 0); // unknown token, plausible header
    if (kind === 2) m.writeUInt32BE(a.tokens[i % a.tokens.length]!, 0);
    if (kind !== 0) m.writeUInt32BE(0, 4);
    ring.push(m);
  }
  let seq = 1_000_000;
  let sent = 0;
  process.send!({ type: 'started' });
  const start = performance.now();
  const end = start + a.seconds * 1000;
  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const now = performance.now();
      if (now >= end) return resolve();
      const due = Math.min(2000, Math.floor(((now - start) / 1000) * a.rate) - sent);
      for (let i = 0; i < due; i++) {
        const m = ring[sent % RING]!;
        if (sent % 3 === 2) m.writeUInt32BE(seq++, 8);
        sockets[sent % sockets.length]!.send(m, a.port, '127.0.0.1');
        sent++;
      }
      setImmediate(tick);
    };
    tick();
  });
  const seconds = (performance.now() - start) / 1000;
  await new Promise((r) => setTimeout(r, 50));
  for (const s of sockets) s.close();
  process.send!({ type: 'done', sent, seconds });
}

// -------------------------------------------------------------------- main

/** The server socket's kernel drop counter, found by its port (the socket is another process's). */
function socketDrops(port: number): number | null {
  try {
    const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
    for (const line of readFileSync('/proc/net/udp', 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length >= 13 && f[1]!.endsWith(hex)) return Number(f[f.length - 1]);
    }
  } catch {
    // not Linux
  }
  return null;
}

function rcvbufErrors(): number | null {
  try {
    const lines = readFileSync('/proc/net/snmp', 'utf8').split('\n').filter((l) => l.startsWith('Udp: '));
    const names = lines[0]!.trim().split(/\s+/);
    return Number(lines[1]!.trim().split(/\s+/)[names.indexOf('RcvbufErrors')]);
  } catch {
    return null;
  }
}

const round = (x: number, d = 2): number => Math.round(x * 10 ** d) / 10 ** d;

export interface UdpFloodResult {
  legitVoiceDeliveryPct: number;
  longestGapMs: number;
  cpuUsPerDroppedDatagram: number;
  kernelDrops: number | null;
  floodSent: number;
  floodSentPerSecond: number;
  laneDropped: number;
  laneProcessedPerSecond: number;
  serverCpuPercentOfOneCore: number;
  systemRcvbufErrors: number | null;
  baseline: { legitVoiceDeliveryPct: number; longestGapMs: number; serverCpuPercentOfOneCore: number; kernelDrops: number | null; serverLoopDelayMaxMs: number };
  /** Longest the server's event loop went without running (scheduling, GC, work): what its receive buffer must ride out. */
  serverLoopDelayMaxMs: number;
  seconds: number;
  rate: number;
  loadAvg1: number;
  serverVoiceStats: unknown;
}

export async function measureUdpFlood(opts: { seconds?: number; rate?: number; baselineSeconds?: number; senders?: number; sockets?: number } = {}): Promise<UdpFloodResult> {
  const seconds = opts.seconds ?? 10;
  const rate = opts.rate ?? 40_000;
  const baselineSeconds = opts.baselineSeconds ?? 4;
  const senders = opts.senders ?? 2;
  const socketsPer = opts.sockets ?? 4;
  const { ControlClient } = await import('../../host/client/control/control-client.js');
  const { VoiceTransport } = await import('../../host/client/audio/voice-transport.js');

  const child = fork(SELF, ['--role', 'server'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const next = <T extends ServerMsg>(c: ChildProcess, m?: object): Promise<T> =>
    new Promise((resolve) => {
      c.once('message', (r) => resolve(r as T));
      if (m) c.send(m);
    });
  const ready = await next<Extract<ServerMsg, { type: 'ready' }>>(child);
  const clients = await Promise.all(
    ['speaker', 'listener'].map(async (name) => {
      const control = await ControlClient.connect({ host: '127.0.0.1', port: ready.port, fingerprint: ready.fingerprint, pingIntervalMs: 0 });
      const welcome = await control.login(name, PASSWORD);
      const voice = await new VoiceTransport(control, welcome.voice!, { udpHost: '127.0.0.1' }).start();
      return { control, voice };
    }),
  );
  const [speaker, listener] = clients as [(typeof clients)[0], (typeof clients)[0]];
  const until = Date.now() + 5000;
  while ((speaker.voice.counters.keepaliveAnswers === 0 || listener.voice.counters.keepaliveAnswers === 0) && Date.now() < until) await new Promise((r) => setTimeout(r, 20));

  // Arrival times of the speaker's packets at the listener.
  let arrivals: number[] = [];
  listener.voice.on('voice', () => arrivals.push(performance.now()));

  /** The speaker talks for `s` seconds (a packet every 20 ms, drift-corrected); returns packets sent and when the last went. */
  const talk = (s: number): Promise<{ n: number; lastAt: number }> =>
    new Promise((resolve) => {
      const start = performance.now();
      let n = 0;
      const step = (): void => {
        const due = Math.floor((performance.now() - start) / 20) + 1;
        while (n < due && n < s * 50) {
          speaker.voice.sendVoice(PAYLOAD);
          n++;
        }
        if (n >= s * 50) {
          const lastAt = performance.now();
          return void setTimeout(() => resolve({ n, lastAt }), 300);
        }
        setTimeout(step, Math.max(0, start + n * 20 - performance.now()));
      };
      step();
    });
  const gapOf = (t: number[], from: number, to: number): number => {
    let g = 0;
    let prev = from;
    for (const x of t) {
      g = Math.max(g, x - prev);
      prev = x;
    }
    return Math.max(g, to - prev);
  };

  interface Phase {
    delivered: number;
    sent: number;
    gapMs: number;
    cpuUs: number;
    wallS: number;
    received: number;
    dropped: number;
    kernel: number | null;
    snmp: number | null;
    loopDelayMaxMs: number;
    stats: unknown;
  }
  const phase = async (s: number): Promise<Phase> => {
    arrivals = [];
    const s0 = await next<Extract<ServerMsg, { type: 'snapshot' }>>(child, { type: 'snapshot' });
    const k0 = socketDrops(ready.voicePort);
    const n0 = rcvbufErrors();
    const t0 = performance.now();
    const { n: sent, lastAt } = await talk(s);
    const t1 = performance.now();
    const s1 = await next<Extract<ServerMsg, { type: 'snapshot' }>>(child, { type: 'snapshot' });
    const k1 = socketDrops(ready.voicePort);
    const n1 = rcvbufErrors();
    return {
      delivered: arrivals.length,
      sent,
      gapMs: gapOf(arrivals, t0, lastAt),
      cpuUs: s1.cpuUs - s0.cpuUs,
      wallS: (t1 - t0) / 1000,
      received: s1.received - s0.received,
      dropped: s1.dropped - s0.dropped,
      kernel: k0 === null || k1 === null ? null : k1 - k0,
      snmp: n0 === null || n1 === null ? null : n1 - n0,
      loopDelayMaxMs: s1.loopDelayMaxMs,
      stats: s1.stats,
    };
  };

  const base = await phase(baselineSeconds);
  // The flood runs from before the phase starts until after it ends, so the whole phase is under it.
  let floodSent = 0;
  let floodSeconds = 0;
  const senderDone: Promise<void>[] = [];
  const started: Promise<void>[] = [];
  for (let i = 0; i < senders; i++) {
    const args: FloodArgs = { port: ready.voicePort, rate: rate / senders, seconds: seconds + 1, sockets: socketsPer, firstHost: 3 + i * socketsPer, tokens: [speaker.voice.token, listener.voice.token] };
    const c = fork(SELF, ['--role', 'flood', '--args', JSON.stringify(args)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    started.push(new Promise<void>((resolve) => c.once('message', () => resolve())));
    c.on('message', (m: { type: string; sent: number; seconds: number }) => {
      if (m.type !== 'done') return;
      floodSent += m.sent;
      floodSeconds = Math.max(floodSeconds, m.seconds);
    });
    senderDone.push(new Promise<void>((resolve) => c.once('exit', (code) => (code !== 0 && process.stderr.write(`flood sender exited with ${code}\n`), resolve()))));
  }
  await Promise.all(started);
  const flood = await phase(seconds);
  await Promise.all(senderDone);
  for (const c of clients) {
    c.voice.close();
    c.control.close();
  }
  const exited = new Promise((r) => child.once('exit', r));
  child.send({ type: 'stop' });
  await exited;

  const baseCpuRate = base.cpuUs / base.wallS;
  const floodCpuExtra = flood.cpuUs - baseCpuRate * flood.wallS;
  return {
    legitVoiceDeliveryPct: round((100 * flood.delivered) / flood.sent),
    longestGapMs: round(flood.gapMs, 1),
    cpuUsPerDroppedDatagram: round(floodCpuExtra / Math.max(1, flood.dropped), 2),
    kernelDrops: flood.kernel,
    floodSent,
    floodSentPerSecond: Math.round(floodSent / Math.max(0.001, floodSeconds)),
    laneDropped: flood.dropped,
    laneProcessedPerSecond: Math.round(flood.received / flood.wallS),
    serverCpuPercentOfOneCore: round((100 * flood.cpuUs) / 1e6 / flood.wallS, 1),
    systemRcvbufErrors: flood.snmp,
    baseline: {
      legitVoiceDeliveryPct: round((100 * base.delivered) / base.sent),
      longestGapMs: round(base.gapMs, 1),
      serverCpuPercentOfOneCore: round((100 * base.cpuUs) / 1e6 / base.wallS, 1),
      kernelDrops: base.kernel,
      serverLoopDelayMaxMs: round(base.loopDelayMaxMs, 1),
    },
    serverLoopDelayMaxMs: round(flood.loopDelayMaxMs, 1),
    seconds,
    rate,
    loadAvg1: round(os.loadavg()[0]!, 2),
    serverVoiceStats: flood.stats,
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      role: { type: 'string', default: 'main' },
      args: { type: 'string' },
      seconds: { type: 'string', default: '10' },
      rate: { type: 'string', default: '40000' },
      'baseline-seconds': { type: 'string', default: '4' },
      senders: { type: 'string', default: '2' },
      sockets: { type: 'string', default: '4' },
    },
  });
  if (values.role === 'server') return serverRole();
  if (values.role === 'flood') return floodRole(JSON.parse(values.args!) as FloodArgs);
  const r = await measureUdpFlood({
    seconds: Number(values.seconds),
    rate: Number(values.rate),
    baselineSeconds: Number(values['baseline-seconds']),
    senders: Number(values.senders),
    sockets: Number(values.sockets),
  });
  process.stdout.write(`${JSON.stringify({ bench: 'abuse/udp-flood', ...r })}\n`);
}

if (process.argv[1] === SELF) {
  main().catch((err: unknown) => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  });
}
