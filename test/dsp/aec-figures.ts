// Prints the echo canceller's figures on every case (not a test: `node dist/test/dsp/aec-figures.js [case...]`).
import { join } from 'node:path';
import { BASE_ROOM, DELAY_ROOM, REVERB_ROOM, SR, buildEchoCase, echoFigures, nearFigures, reconvergeFigure, type EchoCaseOptions } from '../../host/dsp/aec-cases.js';
import { runAecOverSignals } from '../../host/dsp/run-guest.js';
import { energy } from '../../host/dsp/room.js';

const manifest = join(import.meta.dirname, '..', '..', '..', 'manifests', 'aec.json');
const LATENCY = 240;
const cases: Record<string, EchoCaseOptions & { config?: Record<string, unknown> }> = {
  base: { room: BASE_ROOM },
  reverb: { room: REVERB_ROOM },
  delay120: { room: DELAY_ROOM },
  noisy25: { room: BASE_ROOM, noiseSnrDb: 25 },
  change: { room: BASE_ROOM, changeAtS: 5, room2: { ...BASE_ROOM, seed: 7, delayMs: 45 } },
  late300: { room: BASE_ROOM, referenceLateMs: 300 },
  early500: { room: { ...BASE_ROOM, delayMs: 530 } },
  doubletalk: { room: BASE_ROOM, nearEnd: true, nearDb: 6 },
  doubletalkLoud: { room: BASE_ROOM, nearEnd: true },
};
const only = process.argv.slice(2);
for (const [name, o] of Object.entries(cases)) {
  if (only.length && !only.includes(name)) continue;
  const c = buildEchoCase(o);
  const t = performance.now();
  const r = await runAecOverSignals(manifest, c.mic, c.reference, o.config);
  const wall = performance.now() - t;
  const out = r.out.subarray(LATENCY);
  const us = r.usPerFrame.slice().sort((a, b) => a - b);
  const last = r.stats[r.stats.length - 1];
  const line: Record<string, unknown> = { case: name, usP50: us[us.length >> 1], usP99: us[Math.floor(us.length * 0.99)], wallMs: Math.round(wall), bypassed: r.bypassed, lastStats: last };
  if (o.nearEnd) Object.assign(line, nearFigures(c, r.out, LATENCY));
  else Object.assign(line, echoFigures(c, out));
  if (o.changeAtS) line.reconvergeS = [15, 20, 25].map((th) => reconvergeFigure(c, out, o.changeAtS!, th));
  line.outOverMicDb = 10 * Math.log10(energy(r.out) / energy(c.mic));
  process.stdout.write(JSON.stringify(line) + '\n');
}
void SR;
