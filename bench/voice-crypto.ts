// Voice-lane AEAD cost per packet, every backend that loads here (sodium,
// node, noble), plus the native fan-out's seal (native/sendmmsg: 99 copies
// of one packet under 99 keys in one call; per copy). Prints one JSON line.
// Usage: node dist/bench/voice-crypto.js [iterations]
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { nativeFanout } from '../host/server/voice/native-fanout.js';
import { MAX_DATAGRAM_BYTES, MAX_PAYLOAD_BYTES, VOICE_BACKENDS, VoiceCipher, voiceBackendAvailable, type VoiceBackend } from '../host/voice/packet.js';

const PAYLOAD_BYTES = 120;
const N = Number(process.argv[2] ?? 200_000);
const WARMUP = Math.max(1, Math.floor(N / 10));

const key = randomBytes(32);
const payload = randomBytes(PAYLOAD_BYTES);
const backends: VoiceBackend[] = VOICE_BACKENDS.filter(voiceBackendAvailable);
const ciphers = Object.fromEntries(backends.map((b) => [b, new VoiceCipher(key, { backend: b })])) as Record<VoiceBackend, VoiceCipher>;
// Hot-path shape: caller-owned output buffers, number sequence counter.
const sealOut = Buffer.allocUnsafe(MAX_DATAGRAM_BYTES);
const openOut = Buffer.allocUnsafe(MAX_PAYLOAD_BYTES);
let sink = 0;

function sealLoop(c: VoiceCipher, n: number, seq0: number): number {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) sink ^= c.seal(0x1234, seq0 + i, (seq0 + i) * 960, payload, sealOut)[20]!;
  return Number(process.hrtime.bigint() - t0) / n;
}

function openLoop(c: VoiceCipher, datagram: Buffer, n: number): number {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    const p = c.open(datagram, openOut);
    if (p === null) throw new Error('bench datagram failed to open');
    sink ^= p.payload.length;
  }
  return Number(process.hrtime.bigint() - t0) / n;
}

const round = (x: number): number => Math.round(x * 10) / 10;
const result = Object.fromEntries(backends.map((b) => [b, { sealNs: 0, openNs: 0 }])) as Record<VoiceBackend, { sealNs: number; openNs: number }>;
const datagrams = Object.fromEntries(
  backends.map((b) => [b, Buffer.from(ciphers[b].seal(0x1234, 1, 960, payload))]),
) as Record<VoiceBackend, Buffer>;

for (const b of backends) {
  sealLoop(ciphers[b], WARMUP, 0);
  openLoop(ciphers[b], datagrams[b], WARMUP);
}
for (const b of backends) {
  result[b].sealNs = round(sealLoop(ciphers[b], N, WARMUP));
  result[b].openNs = round(openLoop(ciphers[b], datagrams[b], N));
}

/** The native fan-out's seal, ns per copy: 99 listeners' keys, one call per packet. */
function nativeSealNs(): number | null {
  const addon = nativeFanout;
  if (addon === null) return null;
  const copies = 99;
  const keys = randomBytes(32 * copies);
  const slots = Uint32Array.from({ length: copies }, (_, i) => i);
  const header = randomBytes(20);
  const out = Buffer.allocUnsafe(copies * (20 + PAYLOAD_BYTES + 16));
  const rounds = Math.max(1, Math.floor(N / copies));
  for (let i = 0; i < Math.max(1, rounds / 10); i++) addon.seal(keys, slots, copies, header, payload, out);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < rounds; i++) addon.seal(keys, slots, copies, header, payload, out);
  sink ^= out[20]!;
  return Number(process.hrtime.bigint() - t0) / (rounds * copies);
}
const nativeNs = nativeSealNs();

const total = (b: VoiceBackend): number => result[b].sealNs + result[b].openNs;
const ratio = (a: VoiceBackend, b: VoiceBackend): number | undefined => (result[a] && result[b] ? Math.round((total(a) / total(b)) * 100) / 100 : undefined);
process.stdout.write(
  JSON.stringify({
    bench: 'voice-crypto',
    payloadBytes: PAYLOAD_BYTES,
    ...(result.sodium ? { sodium: result.sodium } : {}),
    node: result.node,
    noble: result.noble,
    ...(nativeNs !== null ? { nativeFanoutSealNsPerCopy: round(nativeNs) } : {}),
    ratioNobleOverNode: ratio('noble', 'node'),
    ratioNodeOverSodium: ratio('node', 'sodium'),
    loadAvg1: Math.round(os.loadavg()[0]! * 100) / 100,
  }) + '\n',
);
if (sink === 0.5) process.stderr.write('unreachable\n'); // keep `sink` observable
