// Server fan-out cost per forwarded packet, in one process and without the
// control lane: a real VoiceLane on 127.0.0.1, L listeners whose addresses it
// learned from authenticated keep-alives (their UDP sockets live in a child
// process that reads and counts), and one speaker whose datagrams are handed
// straight to VoiceLane.onDatagram at a steady rate. Measures the lane's CPU
// time (user + system) per forwarded packet; the median of several rounds is
// far steadier than bench/voice-forward.ts on a shared machine, so this is the
// A/B harness for the per-packet path. Prints one JSON line.
//
// Usage: node dist/bench/voice-fanout.js [--listeners 99] [--packets 3000]
//          [--rounds 6] [--gap-ms 2] [--backends native,sodium,node,noble] [--payload 120]
// 'native' is the native fan-out (native/sendmmsg: all copies sealed and sent
// by sendmmsg in one call); the others seal each copy with that JS backend and
// send it with its own dgram.send.
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadServerConfig } from '../host/config/server-config.js';
import type { Logger } from '../host/log/logger.js';
import type { Connection, SessionInfo } from '../host/server/connection.js';
import type { Hub } from '../host/server/hub.js';
import { VoiceLane } from '../host/server/voice/voice-lane.js';
import { sealPathResponse } from '../host/voice/path-packets.js';
import { nativeFanout } from '../host/server/voice/native-fanout.js';
import { DEFAULT_VOICE_BACKEND, deriveVoiceKeys, VOICE_BACKENDS, VoiceCipher, voiceBackendAvailable, type VoiceBackend } from '../host/voice/packet.js';

type Engine = VoiceBackend | 'native';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)]!;
};
const round = (x: number): number => Math.round(x * 1000) / 1000;

/** Child process: L sockets that read and count. */
async function sink(n: number): Promise<void> {
  let count = 0;
  const sockets: dgram.Socket[] = [];
  for (let i = 0; i < n; i++) {
    const s = dgram.createSocket('udp4');
    s.on('message', () => count++);
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
    sockets.push(s);
  }
  process.send!({ ports: sockets.map((s) => s.address().port) });
  process.on('message', (m: string) => {
    if (m === 'count') process.send!({ count });
    else process.exit(0);
  });
  process.on('disconnect', () => process.exit(0));
}

interface Result {
  usPerForwarded: number;
  usPerForwardedMin: number;
  userUs: number;
  systemUs: number;
  forwarded: number;
  delivered: number;
}

async function measure(engine: Engine, listeners: number, packets: number, rounds: number, gapMs: number, payloadBytes: number): Promise<Result> {
  const child = fork(fileURLToPath(import.meta.url), ['--sink', String(listeners)], { execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const ask = <T>(m?: string): Promise<T> =>
    new Promise((resolve) => {
      child.once('message', (r) => resolve(r as T));
      if (m !== undefined) child.send(m);
    });
  const { ports } = await ask<{ ports: number[] }>();
  const dataDir = mkdtempSync(join(tmpdir(), 'hearth-fanout-'));
  const config = loadServerConfig({ host: '127.0.0.1', port: 0, dataDir, voice: { packetsPerSecond: 1e9, packetBurst: 1_000_000_000 } });
  const noop = (): void => {};
  const log = { info: noop, warn: noop, debug: noop, error: noop, child: () => log } as unknown as Logger;
  const hub = { presenceListeners: [], tree: { get: () => ({ isVoice: true }) } } as unknown as Hub;
  const lane = new VoiceLane(config, hub, log);
  lane.cryptoBackend = engine === 'native' ? DEFAULT_VOICE_BACKEND : engine;
  lane.fanout.useNative = engine === 'native';
  await lane.start(0);
  try {
    // listeners + 1 speaker (the last), all in channel 1
    let speaker: { token: number; cipher: VoiceCipher; port: number } | null = null;
    for (let i = 0; i <= listeners; i++) {
      const session = { sessionId: i + 1, channelId: 1, selfMute: false, selfDeaf: false, serverMute: false } as SessionInfo;
      const conn = { session, onClose: noop, sendRaw: noop, onVoiceFrame: null } as unknown as Connection & { session: SessionInfo };
      const setup = lane.attach(conn);
      hub.presenceListeners[0]!(session, 'join');
      const cipher = new VoiceCipher(deriveVoiceKeys(Buffer.from(setup.secret, 'base64')).clientToServer);
      // The speaker's own address is a discard port: it hears nothing anyway.
      const port = i < listeners ? ports[i]! : 9;
      lane.onDatagram(cipher.seal(setup.token, 0, 0, Buffer.alloc(0)), '127.0.0.1', port);
      // The keep-alive earned a path challenge (docs/PROTOCOL.md 12.6); answer it as the client would, so the address is validated.
      const vs = (lane as unknown as { byToken: Map<number, { challengeHi: number; challengeLo: number }> }).byToken.get(setup.token)!;
      lane.onDatagram(sealPathResponse(cipher, setup.token, 1, (BigInt(vs.challengeHi) << 32n) | BigInt(vs.challengeLo)), '127.0.0.1', port);
      if (i === listeners) speaker = { token: setup.token, cipher, port };
    }
    const sp = speaker!;
    const payload = randomBytes(payloadBytes);
    const warmup = Math.min(500, Math.floor(packets / 5));
    const per = Math.floor((packets - warmup) / rounds);
    const datagrams = Array.from({ length: warmup + per * rounds }, (_, i) => sp.cipher.seal(sp.token, i + 1, (i + 1) * 960, payload));
    const countBefore = (await ask<{ count: number }>('count')).count;
    let next = 0;
    const send = async (n: number): Promise<void> => {
      for (let i = 0; i < n; i++) {
        lane.onDatagram(datagrams[next++]!, '127.0.0.1', sp.port);
        await sleep(gapMs);
      }
    };
    await send(warmup);
    await sleep(100);
    const samples: Array<{ total: number; user: number; system: number }> = [];
    let forwarded = 0;
    for (let r = 0; r < rounds; r++) {
      const f0 = lane.stats.forwarded;
      const c0 = process.cpuUsage();
      await send(per);
      await sleep(20);
      const c = process.cpuUsage(c0);
      const f = lane.stats.forwarded - f0;
      forwarded += f;
      samples.push({ total: (c.user + c.system) / f, user: c.user / f, system: c.system / f });
    }
    await sleep(100);
    const delivered = (await ask<{ count: number }>('count')).count - countBefore;
    return {
      usPerForwarded: round(median(samples.map((s) => s.total))),
      usPerForwardedMin: round(Math.min(...samples.map((s) => s.total))),
      userUs: round(median(samples.map((s) => s.user))),
      systemUs: round(median(samples.map((s) => s.system))),
      forwarded,
      delivered: delivered - warmup * listeners,
    };
  } finally {
    lane.stop();
    child.send('exit');
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      sink: { type: 'string' },
      listeners: { type: 'string', default: '99' },
      packets: { type: 'string', default: '3000' },
      rounds: { type: 'string', default: '6' },
      'gap-ms': { type: 'string', default: '2' },
      backends: { type: 'string', default: 'native,sodium,node,noble' },
      payload: { type: 'string', default: '120' },
    },
  });
  if (values.sink !== undefined) return sink(Number(values.sink));
  const listeners = Number(values.listeners);
  const backends = (values.backends!.split(',') as Engine[]).filter((b) => (b === 'native' ? nativeFanout !== null : voiceBackendAvailable(b as VoiceBackend)));
  const out: Record<string, unknown> = { bench: 'voice-fanout', listeners, payloadBytes: Number(values.payload), gapMs: Number(values['gap-ms']) };
  for (const b of backends) {
    if (b !== 'native' && !VOICE_BACKENDS.includes(b)) throw new Error(`unknown backend ${b}`);
    out[b] = await measure(b, listeners, Number(values.packets), Number(values.rounds), Number(values['gap-ms']), Number(values.payload));
  }
  if (backends.includes('node') && backends.includes('noble')) {
    out.ratioNobleOverNode = Math.round(((out.noble as Result).usPerForwarded / (out.node as Result).usPerForwarded) * 100) / 100;
  }
  if (backends.includes('node') && backends.includes('native')) {
    out.ratioNodeOverNative = Math.round(((out.node as Result).usPerForwarded / (out.native as Result).usPerForwarded) * 100) / 100;
  }
  out.loadAvg1 = Math.round(os.loadavg()[0]! * 100) / 100;
  process.stdout.write(JSON.stringify(out) + '\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`voice-fanout: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
