// Voice-lane AEAD cost per packet, both backends. Prints one JSON line.
// Usage: node dist/bench/voice-crypto.js [iterations]
import { randomBytes } from 'node:crypto';
import { MAX_DATAGRAM_BYTES, MAX_PAYLOAD_BYTES, VoiceCipher, type VoiceBackend } from '../host/voice/packet.js';

const PAYLOAD_BYTES = 120;
const N = Number(process.argv[2] ?? 200_000);
const WARMUP = Math.max(1, Math.floor(N / 10));

const key = randomBytes(32);
const payload = randomBytes(PAYLOAD_BYTES);
const ciphers: Record<VoiceBackend, VoiceCipher> = {
  node: new VoiceCipher(key, { backend: 'node' }),
  noble: new VoiceCipher(key, { backend: 'noble' }),
};
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
const result: Record<VoiceBackend, { sealNs: number; openNs: number }> = {
  node: { sealNs: 0, openNs: 0 },
  noble: { sealNs: 0, openNs: 0 },
};

const backends: VoiceBackend[] = ['node', 'noble'];
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

const total = (b: VoiceBackend): number => result[b].sealNs + result[b].openNs;
process.stdout.write(
  JSON.stringify({
    bench: 'voice-crypto',
    payloadBytes: PAYLOAD_BYTES,
    node: result.node,
    noble: result.noble,
    ratioNobleOverNode: Math.round((total('noble') / total('node')) * 100) / 100,
  }) + '\n',
);
if (sink === 0.5) process.stderr.write('unreachable\n'); // keep `sink` observable
