// Voice-lane forwarding benchmark. N clients in one channel (the root channel,
// a voice channel), M of them talking: one payload (default 120 bytes) every
// 20 ms each, for S seconds, over 127.0.0.1. The server runs in its own process
// (bench/voice-forward-server.ts) so its CPU and memory are measured apart from
// this process, which generates the load and receives everything.
//
// Receivers read only the plaintext header (token, sequence, timestamp) and
// decrypt one packet in `--verify-every` to check it is genuine; the talker puts
// its send time (µs, performance.now()) in the header timestamp, so forwarding
// latency is measured without decrypting. Expected = talker packets × (N − 1).
//
// Prints one JSON line per configuration. For the largest configuration (see
// --baselines) the same line also carries two same-run baselines measured on the
// same machine right after it: the other crypto backend, and a bare dgram
// fan-out server ("raw UDP": no crypto, no lookups) that is the floor of what
// Node's UDP sockets cost per forwarded packet.
//
// Usage: node dist/bench/voice-forward.js [--seconds 5] [--configs 20x2,100x5,200x10]
//          [--backend node|noble] [--baselines largest|all|none] [--warmup 1]
//          [--payload 120] [--verify-every 64] [--profile DIR] [--seal-workers 0]
//          [--fanout native|dgram] [--backend sodium|node|noble] [--server-node-args=...]
//          [--shards 1]
// --server-node-args passes node/V8 flags to the server process, e.g.
// "--max-semi-space-size=1" (docs/OPERATIONS.md: memory).
// --seal-workers N sets the server's voice.sealWorkers (experimental).
// --shards N sets the server's voice.shards: N worker threads, each with its
// own UDP port; every client sends to the udpPort of its login reply. The
// server's CPU figures are the whole process (all its threads).
// --fanout dgram switches off the native fan-out (native/sendmmsg): every copy
// sealed by the backend and sent with its own dgram.send. The largest
// configuration's baselines include that path too (fanout_dgram).
import { fork, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { once } from 'node:events';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ControlClient } from '../host/client/control/control-client.js';
import { DEFAULT_VOICE_BACKEND, deriveVoiceKeys, HEADER_BYTES, MAX_PAYLOAD_BYTES, TAG_BYTES, VOICE_BACKENDS, VoiceCipher, voiceBackendAvailable, type VoiceBackend } from '../host/voice/packet.js';
import { PATH_CONTROL_BYTE, sealPathResponse } from '../host/voice/path-packets.js';
import { BENCH_PASSWORD, benchUser, RAW_REGISTER_BYTES, type ParentMessage, type ReadyMessage, type SnapshotMessage } from './voice-forward-protocol.js';

const FRAME_MS = 20;
const TWO_32 = 0x1_0000_0000;
const ROOT_CHANNEL_ID = 1;

interface Options {
  seconds: number;
  warmupSeconds: number;
  payloadBytes: number;
  verifyEvery: number;
  profileDir: string | null;
  sealWorkers: number;
  fanout: 'native' | 'dgram';
  serverNodeArgs: string[];
  shards: number;
}

interface Measurement {
  mode: 'hearth' | 'raw';
  backend: VoiceBackend | 'none';
  fanout: 'sendmmsg' | 'dgram';
  sealWorkers: number;
  shards: number;
  clients: number;
  talkers: number;
  seconds: number;
  serverCpuUsPerForwardedPacket: number;
  serverCpuPercentOfOneCore: number;
  serverRssMiB: number;
  /** RSS after start, before any client connected. */
  serverRssIdleMiB: number;
  expected: number;
  delivered: number;
  lossPercent: number;
  latencyMsP50: number;
  latencyMsP99: number;
  /** Delivered, but more than 100 ms after sending: too late for a jitter buffer, as good as lost. */
  lateOver100msPercent: number;
  generatorCpuPercentOfOneCore: number;
  verified: number;
  verifyFailures: number;
  serverDropped: Record<string, number>;
  forwardedTcp: number;
  /** 1-minute load average when the window started: the machine is shared, so say how busy it was. */
  loadAvg1: number;
  serverNodeArgs?: string;
}

interface Client {
  index: number;
  socket: dgram.Socket;
  /** Own voice token (hearth) or registration id (raw). */
  token: number;
  /** The server's UDP port for this client (its shard's, from the login reply). */
  voicePort: number;
  sendCipher: VoiceCipher | null;
  recvCipher: VoiceCipher | null;
  control: ControlClient | null;
  sequence: number;
  established: boolean;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const round = (x: number, digits = 2): number => {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
};

// ---------------------------------------------------------------- server child

class ServerProcess {
  private nextId = 1;
  private readonly waiting = new Map<number, (m: SnapshotMessage) => void>();

  private constructor(readonly child: ChildProcess, readonly ready: ReadyMessage) {
    child.on('message', (m: SnapshotMessage) => {
      if (m.type !== 'snapshot') return;
      this.waiting.get(m.id)?.(m);
      this.waiting.delete(m.id);
    });
  }

  static async start(args: string[], profileDir: string | null, nodeArgs: string[]): Promise<ServerProcess> {
    const script = fileURLToPath(new URL('./voice-forward-server.js', import.meta.url));
    const child = fork(script, args, {
      execArgv: [...nodeArgs, ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [])],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const ready = await new Promise<ReadyMessage>((resolve, reject) => {
      child.once('message', (m: ReadyMessage) => (m.type === 'ready' ? resolve(m) : reject(new Error('unexpected first message'))));
      child.once('exit', (code) => reject(new Error(`server process exited (${code}) before it was ready`)));
    });
    return new ServerProcess(child, ready);
  }

  snapshot(): Promise<SnapshotMessage> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      this.child.send({ type: 'snapshot', id } satisfies ParentMessage);
    });
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = once(this.child, 'exit');
    this.child.send({ type: 'stop' } satisfies ParentMessage);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
}

// ------------------------------------------------------------------ receivers

/** Everything the receivers count, shared by all clients of one run. */
class Receiver {
  delivered = 0;
  /** Header timestamps (µs) before this belong to the warm-up and are not counted. */
  windowStartUs = Infinity;
  latencies: Float64Array;
  nLatencies = 0;
  verified = 0;
  verifyFailures = 0;
  private readonly scratch = Buffer.allocUnsafe(MAX_PAYLOAD_BYTES);

  constructor(capacity: number, private readonly payloadBytes: number, private readonly verifyEvery: number) {
    this.latencies = new Float64Array(capacity);
  }

  reset(): void {
    this.delivered = 0;
    this.nLatencies = 0;
    this.verified = 0;
    this.verifyFailures = 0;
  }

  onMessage(c: Client, msg: Buffer): void {
    if (msg.length < HEADER_BYTES) {
      if (msg.length === RAW_REGISTER_BYTES) c.established = true; // raw mode: registration ack
      return;
    }
    const token = msg.readUInt32BE(0);
    if (token === c.token && msg[4] === PATH_CONTROL_BYTE && c.sendCipher !== null && c.recvCipher !== null) {
      // A path challenge (docs/PROTOCOL.md 12.6): answered from this socket, as a client does.
      const ch = c.recvCipher.open(msg);
      if (ch !== null) c.socket.send(sealPathResponse(c.sendCipher, c.token, c.sequence++, ch.timestamp), c.voicePort, '127.0.0.1');
      return;
    }
    if (token === c.token) {
      c.established = true; // keep-alive answer
      return;
    }
    const nowUs = performance.now() * 1000;
    const sentUs = msg.readUInt32BE(12) * TWO_32 + msg.readUInt32BE(16);
    if (sentUs < this.windowStartUs) return;
    this.delivered++;
    const n = this.nLatencies;
    if (n < this.latencies.length) {
      this.latencies[n] = nowUs - sentUs;
      this.nLatencies = n + 1;
    }
    if (c.recvCipher !== null && this.delivered % this.verifyEvery === 0) {
      const p = c.recvCipher.open(msg, this.scratch);
      if (p !== null && p.payload.length === this.payloadBytes && p.token === token) this.verified++;
      else this.verifyFailures++;
    }
  }

  countOver(us: number): number {
    let n = 0;
    for (let i = 0; i < this.nLatencies; i++) if (this.latencies[i]! > us) n++;
    return n;
  }

  percentileMs(p: number): number {
    if (this.nLatencies === 0) return NaN;
    const sorted = this.latencies.subarray(0, this.nLatencies).sort();
    return sorted[Math.min(sorted.length - 1, Math.floor(p * (sorted.length - 1)))]! / 1000;
  }
}

async function openSocket(c: Omit<Client, 'socket'>, rx: Receiver): Promise<Client> {
  // Default receive buffer, as a real client has: an overloaded path shows as loss, not as seconds of queue.
  const socket = dgram.createSocket({ type: 'udp4' });
  const client = c as Client;
  client.socket = socket;
  socket.on('message', (msg) => rx.onMessage(client, msg));
  socket.on('error', (err) => process.stderr.write(`client ${c.index} socket error: ${err.message}\n`));
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return client;
}

async function mapLimit<T, R>(items: T[], limit: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!);
      }
    }),
  );
  return out;
}

// -------------------------------------------------------------------- senders

const EMPTY = Buffer.alloc(0);

function sendKeepalive(c: Client): void {
  if (c.sendCipher === null) return;
  const dg = c.sendCipher.seal(c.token, c.sequence++, Math.round(performance.now() * 1000), EMPTY);
  c.socket.send(dg, c.voicePort, '127.0.0.1');
}

function sendVoice(c: Client, payload: Buffer): void {
  const ts = Math.round(performance.now() * 1000);
  let dg: Buffer;
  if (c.sendCipher !== null) {
    dg = c.sendCipher.seal(c.token, c.sequence++, ts, payload);
  } else {
    // Raw mode: same size and header layout, no encryption.
    dg = Buffer.alloc(HEADER_BYTES + payload.length + TAG_BYTES);
    dg.writeUInt32BE(c.token, 0);
    dg.writeUInt32BE(Math.floor(c.sequence / TWO_32), 4);
    dg.writeUInt32BE(c.sequence++ >>> 0, 8);
    dg.writeUInt32BE(Math.floor(ts / TWO_32), 12);
    dg.writeUInt32BE(ts >>> 0, 16);
    payload.copy(dg, HEADER_BYTES);
  }
  c.socket.send(dg, c.voicePort, '127.0.0.1');
}

/** Every talker sends one payload per 20 ms (staggered across the frame) for `ms`; resolves with the number sent. */
function talk(talkers: Client[], ms: number, payload: Buffer): Promise<number> {
  const perTalker = Math.round(ms / FRAME_MS);
  const t0 = performance.now() + 2;
  let sent = 0;
  let done = 0;
  return new Promise((resolve) => {
    talkers.forEach((c, i) => {
      const offset = (i * FRAME_MS) / talkers.length;
      let k = 0;
      const tick = (): void => {
        const now = performance.now();
        // Catch up if the timer fired late: the count stays exact.
        while (k < perTalker && t0 + offset + k * FRAME_MS <= now) {
          sendVoice(c, payload);
          k++;
          sent++;
        }
        if (k >= perTalker) {
          if (++done === talkers.length) resolve(sent);
          return;
        }
        setTimeout(tick, Math.max(0, t0 + offset + k * FRAME_MS - performance.now()));
      };
      setTimeout(tick, Math.max(0, t0 + offset - performance.now()));
    });
  });
}

// ------------------------------------------------------------------------ run

async function run(mode: 'hearth' | 'raw', clients: number, talkers: number, backend: VoiceBackend, opts: Options): Promise<Measurement> {
  const shards = mode === 'hearth' ? opts.shards : 1;
  const server = await ServerProcess.start(['--mode', mode, '--clients', String(clients), '--backend', backend, '--seal-workers', String(opts.sealWorkers), '--fanout', opts.fanout, '--shards', String(shards)], opts.profileDir, opts.serverNodeArgs);
  const { voicePort } = server.ready;
  const expectedMax = Math.round((opts.seconds * 1000) / FRAME_MS) * talkers * (clients - 1);
  const rx = new Receiver(expectedMax + 1024, opts.payloadBytes, opts.verifyEvery);
  const payload = Buffer.alloc(opts.payloadBytes, 0x5a);
  let all: Client[] = [];
  let keepaliveTimer: NodeJS.Timeout | null = null;
  try {
    if (mode === 'hearth') {
      all = await mapLimit([...Array(clients).keys()], 16, async (index) => {
        const control = await ControlClient.connect({ host: '127.0.0.1', port: server.ready.port, fingerprint: server.ready.fingerprint, pingIntervalMs: 20_000 });
        const welcome = await control.login(benchUser(index), BENCH_PASSWORD);
        if (!welcome.voice) throw new Error('welcome carries no voice credentials');
        if (welcome.self && !welcome.channels.find((ch) => ch.id === ROOT_CHANNEL_ID)?.isVoice) throw new Error('root channel is not a voice channel');
        const keys = deriveVoiceKeys(Buffer.from(welcome.voice.secret, 'base64'));
        return openSocket(
          {
            index,
            token: welcome.voice.token,
            voicePort: welcome.voice.udpPort,
            sendCipher: new VoiceCipher(keys.clientToServer),
            recvCipher: new VoiceCipher(keys.serverToClient),
            control,
            sequence: 0,
            established: false,
          },
          rx,
        );
      });
      // The server learns each address from an authenticated keep-alive; keep
      // them coming (well inside udpSilentMs) for the whole run.
      keepaliveTimer = setInterval(() => all.forEach((c) => sendKeepalive(c)), 4000);
    } else {
      all = await mapLimit([...Array(clients).keys()], 64, (index) =>
        openSocket({ index, token: index + 1, voicePort, sendCipher: null, recvCipher: null, control: null, sequence: 0, established: false }, rx),
      );
    }
    const hello = (c: Client): void => {
      if (mode === 'hearth') return sendKeepalive(c);
      const reg = Buffer.alloc(RAW_REGISTER_BYTES);
      reg.writeUInt32BE(c.token, 0);
      c.socket.send(reg, voicePort, '127.0.0.1');
    };
    for (let tries = 0; all.some((c) => !c.established); tries++) {
      if (tries === 40) throw new Error(`${all.filter((c) => !c.established).length} clients never got a UDP answer`);
      // Raw mode registers once (a re-sent registration would add the address twice).
      if (mode === 'hearth' || tries === 0) all.filter((c) => !c.established).forEach(hello);
      await sleep(250);
    }

    const speaking = all.slice(0, talkers);
    if (opts.warmupSeconds > 0) {
      await talk(speaking, opts.warmupSeconds * 1000, payload);
      // Let an overloaded server finish the warm-up before the window opens.
      for (let last = -1, t = 0; t < 30_000; t += 200) {
        const { forwarded } = await server.snapshot();
        if (forwarded === last) break;
        last = forwarded;
        await sleep(200);
      }
    }

    const loadAvg1 = os.loadavg()[0]!;
    const s0 = await server.snapshot();
    rx.reset();
    rx.windowStartUs = Math.floor(performance.now() * 1000);
    const g0 = process.cpuUsage();
    const gt0 = performance.now();
    const sent = await talk(speaking, opts.seconds * 1000, payload);
    const s1 = await server.snapshot();
    const g1 = process.cpuUsage(g0);
    const gt1 = performance.now();
    const expected = sent * (clients - 1);
    // Drain: until everything arrived, or nothing more arrives for 500 ms.
    for (let last = -1, idle = 0; rx.delivered < expected && idle < 500; ) {
      await sleep(50);
      idle = rx.delivered === last ? idle + 50 : 0;
      last = rx.delivered;
    }
    const s2 = await server.snapshot();
    rx.windowStartUs = Infinity;

    const cpu = (s: SnapshotMessage) => s.cpuUserUs + s.cpuSystemUs;
    const forwarded = s2.forwarded - s0.forwarded;
    const dropped: Record<string, number> = {};
    for (const [k, v] of Object.entries(s2.dropped)) if (v - (s0.dropped[k] ?? 0) > 0) dropped[k] = v - (s0.dropped[k] ?? 0);
    return {
      mode,
      backend: server.ready.backend,
      fanout: server.ready.fanout,
      sealWorkers: mode === 'hearth' ? opts.sealWorkers : 0,
      shards,
      clients,
      talkers,
      seconds: opts.seconds,
      serverCpuUsPerForwardedPacket: round((cpu(s2) - cpu(s0)) / Math.max(1, forwarded), 3),
      serverCpuPercentOfOneCore: round(((cpu(s1) - cpu(s0)) / ((s1.atMs - s0.atMs) * 1000)) * 100, 1),
      serverRssMiB: round(s1.rss / 2 ** 20, 1),
      serverRssIdleMiB: round(server.ready.idleRss / 2 ** 20, 1),
      expected,
      delivered: rx.delivered,
      lossPercent: round(expected === 0 ? 0 : (100 * (expected - rx.delivered)) / expected, 3),
      latencyMsP50: round(rx.percentileMs(0.5), 3),
      latencyMsP99: round(rx.percentileMs(0.99), 3),
      lateOver100msPercent: round(expected === 0 ? 0 : (100 * rx.countOver(100_000)) / expected, 3),
      generatorCpuPercentOfOneCore: round(((g1.user + g1.system) / ((gt1 - gt0) * 1000)) * 100, 1),
      verified: rx.verified,
      verifyFailures: rx.verifyFailures,
      serverDropped: dropped,
      forwardedTcp: s2.forwardedTcp - s0.forwardedTcp,
      loadAvg1: round(loadAvg1, 2),
      ...(opts.serverNodeArgs.length > 0 ? { serverNodeArgs: opts.serverNodeArgs.join(' ') } : {}),
    };
  } finally {
    if (keepaliveTimer) clearInterval(keepaliveTimer);
    for (const c of all) {
      c.control?.close();
      c.socket.close();
    }
    await server.stop();
  }
}

function line(m: Measurement): Record<string, unknown> {
  const { mode: _mode, clients, talkers, seconds, backend, fanout, sealWorkers, shards, serverDropped, forwardedTcp, ...rest } = m;
  return {
    bench: 'voice-forward',
    clients,
    talkers,
    seconds,
    backend,
    fanout,
    shards,
    ...(sealWorkers > 0 ? { sealWorkers } : {}),
    ...rest,
    ...(Object.keys(serverDropped).length > 0 ? { serverDropped } : {}),
    ...(forwardedTcp > 0 ? { forwardedTcp } : {}),
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string', default: '5' },
      configs: { type: 'string', default: '20x2,100x5,200x10' },
      backend: { type: 'string', default: DEFAULT_VOICE_BACKEND },
      baselines: { type: 'string', default: 'largest' },
      warmup: { type: 'string', default: '1' },
      payload: { type: 'string', default: '120' },
      'verify-every': { type: 'string', default: '64' },
      profile: { type: 'string' },
      'seal-workers': { type: 'string', default: '0' },
      fanout: { type: 'string', default: 'native' },
      'server-node-args': { type: 'string', default: '' },
      shards: { type: 'string', default: '1' },
    },
  });
  const backend = values.backend as VoiceBackend;
  if (!VOICE_BACKENDS.includes(backend) || !voiceBackendAvailable(backend)) throw new Error(`--backend must be one of ${VOICE_BACKENDS.filter(voiceBackendAvailable).join(', ')}, got ${values.backend}`);
  if (values.fanout !== 'native' && values.fanout !== 'dgram') throw new Error('--fanout must be native or dgram');
  const baselines = values.baselines!;
  if (!['largest', 'all', 'none'].includes(baselines)) throw new Error('--baselines must be largest, all or none');
  const opts: Options = {
    seconds: Number(values.seconds),
    warmupSeconds: Number(values.warmup),
    payloadBytes: Number(values.payload),
    verifyEvery: Math.max(1, Number(values['verify-every'])),
    profileDir: values.profile ?? null,
    sealWorkers: Number(values['seal-workers']),
    fanout: values.fanout,
    serverNodeArgs: values['server-node-args']!.split(/\s+/).filter((a) => a !== ''),
    shards: Number(values.shards),
  };
  if (!Number.isInteger(opts.shards) || opts.shards < 1) throw new Error('bad --shards');
  if (!Number.isInteger(opts.sealWorkers) || opts.sealWorkers < 0) throw new Error('bad --seal-workers');
  if (!(opts.seconds > 0) || !(opts.payloadBytes >= 1 && opts.payloadBytes <= MAX_PAYLOAD_BYTES)) throw new Error('bad --seconds or --payload');
  const configs = values.configs!.split(',').map((s) => {
    const m = /^\s*(\d+)x(\d+)\s*$/.exec(s);
    if (!m) throw new Error(`bad config "${s}" (want CLIENTSxTALKERS)`);
    const clients = Number(m[1]);
    const talkers = Number(m[2]);
    if (clients < 2 || talkers < 1 || talkers > clients) throw new Error(`bad config "${s}"`);
    return { clients, talkers };
  });
  const largest = configs.reduce((a, b) => (b.clients * b.talkers > a.clients * a.talkers ? b : a));
  // The baseline backend: node:crypto against the default (sodium), else noble.
  const other: VoiceBackend = backend === 'node' ? (voiceBackendAvailable('sodium') ? 'sodium' : 'noble') : 'node';

  for (const cfg of configs) {
    const m = await run('hearth', cfg.clients, cfg.talkers, backend, opts);
    const out = line(m);
    if (baselines === 'all' || (baselines === 'largest' && cfg === largest)) {
      // The other backend on the JS path: with the native fan-out on, the backend seals no copy at all.
      const alt = await run('hearth', cfg.clients, cfg.talkers, other, { ...opts, fanout: 'dgram' });
      const js = opts.fanout === 'native' ? await run('hearth', cfg.clients, cfg.talkers, backend, { ...opts, fanout: 'dgram' }) : null;
      const raw = await run('raw', cfg.clients, cfg.talkers, backend, opts);
      out.baselines = {
        ...(js !== null
          ? {
              fanout_dgram: {
                serverCpuUsPerForwardedPacket: js.serverCpuUsPerForwardedPacket,
                serverCpuPercentOfOneCore: js.serverCpuPercentOfOneCore,
                lossPercent: js.lossPercent,
                latencyMsP50: js.latencyMsP50,
                latencyMsP99: js.latencyMsP99,
                lateOver100msPercent: js.lateOver100msPercent,
              },
            }
          : {}),
        [`backend_${other}`]: {
          serverCpuUsPerForwardedPacket: alt.serverCpuUsPerForwardedPacket,
          serverCpuPercentOfOneCore: alt.serverCpuPercentOfOneCore,
          lossPercent: alt.lossPercent,
          latencyMsP50: alt.latencyMsP50,
          latencyMsP99: alt.latencyMsP99,
          lateOver100msPercent: alt.lateOver100msPercent,
        },
        rawUdpFanout: {
          serverCpuUsPerForwardedPacket: raw.serverCpuUsPerForwardedPacket,
          serverCpuPercentOfOneCore: raw.serverCpuPercentOfOneCore,
          serverRssMiB: raw.serverRssMiB,
          lossPercent: raw.lossPercent,
          latencyMsP50: raw.latencyMsP50,
          latencyMsP99: raw.latencyMsP99,
          lateOver100msPercent: raw.lateOver100msPercent,
        },
      };
      out[`ratio_${other}OverThis`] = round(alt.serverCpuUsPerForwardedPacket / m.serverCpuUsPerForwardedPacket, 2);
      if (js !== null) out.ratioDgramOverThis = round(js.serverCpuUsPerForwardedPacket / m.serverCpuUsPerForwardedPacket, 2);
      out.ratioThisOverRawUdp = round(m.serverCpuUsPerForwardedPacket / raw.serverCpuUsPerForwardedPacket, 2);
    }
    process.stdout.write(JSON.stringify(out) + '\n');
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`voice-forward: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
