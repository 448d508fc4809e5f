// The echo canceller (guests/aec) on the synthetic rooms of host/dsp/aec-cases.ts,
// through the real capture chain (host/dsp/run-guest.ts). Thresholds sit a few dB
// under the figures measured here (docs/DSP.md), so that a broken filter, step-size
// control or suppressor fails them and scheduling noise does not.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import {
  BASE_ROOM, DELAY_ROOM, REVERB_ROOM, SR, buildEchoCase, echoFigures, nearFigures, reconvergeFigure, type EchoCaseOptions,
} from '../../host/dsp/aec-cases.js';
import { runAecOverSignals, type AecRun } from '../../host/dsp/run-guest.js';
import { energy } from '../../host/dsp/room.js';

const test = suite('dsp: echo canceller');
const MANIFEST = join(import.meta.dirname, '..', '..', '..', 'manifests', 'aec.json');
/** The suppressor's overlap-add delays the output by 240 samples (5 ms). */
const LATENCY = 240;

async function run(o: EchoCaseOptions, config?: Record<string, unknown>) {
  const c = buildEchoCase(o);
  const r = await runAecOverSignals(MANIFEST, c.mic, c.reference, config);
  assert.is(r.bypassed, 0, 'every frame processed');
  return { c, r, out: r.out.subarray(LATENCY) };
}

function last(r: AecRun): Record<string, number> {
  return r.stats[r.stats.length - 1] ?? {};
}

test('base room (RT60 0.3 s, 30 ms, echo -6 dB): ERLE after 2 s and the worst 0.5 s window', async () => {
  const { c, r, out } = await run({ room: BASE_ROOM });
  const f = echoFigures(c, out);
  // Measured 40.6 / 27.5 dB (docs/DSP.md); the bar is 30 / 15.
  assert.ok(f.erleDb >= 36, `ERLE ${f.erleDb.toFixed(1)} dB >= 36`);
  assert.ok(f.worstWindowDb >= 22, `worst window ${f.worstWindowDb.toFixed(1)} dB >= 22`);
  const s = last(r);
  assert.ok(Math.abs(s.delayMs! - 30) <= 3, `delay estimate ${s.delayMs} ms ~ 30`);
  assert.is(s.referenceMisaligned, 0);
  assert.ok(s.erleDb! > 20, `the guest's own ERLE estimate ${s.erleDb}`);
  const us = r.usPerFrame.slice().sort((a, b) => a - b);
  assert.ok(us[us.length >> 1]! < 2000, `p50 ${us[us.length >> 1]} µs per frame (bound loose: the machine is shared)`);
});

for (const [name, room, min] of [
  // Measured 33.3 / 19.1 and 30.4 / 19.3 dB; the bar is 25 / 15.
  ['RT60 0.6 s', REVERB_ROOM, 29],
  ['120 ms delay', DELAY_ROOM, 27],
] as const) {
  test(`harder room (${name}): ERLE after 2 s >= ${min} dB`, async () => {
    const { c, out } = await run({ room });
    const f = echoFigures(c, out);
    assert.ok(f.erleDb >= min, `ERLE ${f.erleDb.toFixed(1)} dB >= ${min}`);
    assert.ok(f.worstWindowDb >= 15, `worst window ${f.worstWindowDb.toFixed(1)} dB >= 15`);
  });
}

test('noisy mic (pink noise 25 dB under the echo): ERLE does not collapse', async () => {
  const { c, out } = await run({ room: BASE_ROOM, noiseSnrDb: 25 });
  // The noise left in the output counts as residual, so the ceiling is about the SNR.
  // Measured 31.7 dB (the naive NLMS of the issue fell to 1-10 dB).
  const f = echoFigures(c, out);
  assert.ok(f.erleDb >= 28, `ERLE with noise ${f.erleDb.toFixed(1)} dB >= 28`);
});

test('echo path change at 5 s (the laptop moved): re-converges to 20 dB within 2.5 s', async () => {
  const o = { room: BASE_ROOM, changeAtS: 5, room2: { ...BASE_ROOM, seed: 7, delayMs: 45 } };
  const { c, out } = await run(o);
  // Measured 1.95 s.
  const t = reconvergeFigure(c, out, 5, 20);
  assert.ok(t <= 2.5, `re-converged in ${t} s`);
});

for (const [name, o, lag] of [
  ['reference 300 ms late (echo before its reference)', { room: BASE_ROOM, referenceLateMs: 300 }, -300],
  ['echo 530 ms after its reference (300 ms beyond the tail)', { room: { ...BASE_ROOM, delayMs: 530 } }, 530],
] as const) {
  test(`${name}: fails gracefully, says so`, async () => {
    const { c, r } = await run(o);
    // No divergence, no added noise: never louder than the mic, in any 0.5 s window.
    const W = SR / 2;
    for (let at = 0; at + W <= c.mic.length; at += W) {
      const ratio = 10 * Math.log10((energy(r.out, at + LATENCY, at + W + LATENCY) + 1e-12) / (energy(c.mic, at, at + W) + 1e-12));
      assert.ok(ratio <= 1, `window at ${at / SR} s: output ${ratio.toFixed(2)} dB over the mic`);
    }
    const total = 10 * Math.log10(energy(r.out) / energy(c.mic));
    assert.ok(total > -3 && total <= 0.5, `output ≈ mic (${total.toFixed(2)} dB)`);
    const s = last(r);
    assert.is(s.referenceMisaligned, 1, 'stats flag the misalignment');
    assert.ok(Math.abs(s.delayMs! - lag) <= 40, `coarse delay ${s.delayMs} ms ~ ${lag}`);
  });
}

// Near end 6 dB over the far end (12 dB over the echo): unprocessed STOI 0.951,
// the "unprocessed 0.947" case. Measured: 0.952 (linear filter alone 0.958).
test('double talk: near-end STOI >= 0.945, level within 1.5 dB', async () => {
  const { c, r } = await run({ room: BASE_ROOM, nearEnd: true, nearDb: 6 });
  const f = nearFigures(c, r.out, LATENCY);
  assert.ok(f.doubleTalkBlocks > 100, `${f.doubleTalkBlocks} double-talk blocks`);
  assert.ok(f.stoi >= 0.945, `STOI ${f.stoi.toFixed(3)} (unprocessed ${f.stoiMic.toFixed(3)})`);
  assert.ok(Math.abs(f.nearLevelDb) <= 1.5, `near-end level ${f.nearLevelDb.toFixed(2)} dB`);
  assert.ok(r.stats.some((s) => s.doubleTalk === 1), 'double talk flagged at some point');
  assert.ok(r.stats.slice(-100).every((s) => s.referenceMisaligned === 0), 'double talk is not taken for a misaligned reference');
});

// Near end at the far end's level (6 dB over the echo): measured STOI 0.922 vs 0.876
// unprocessed, segmental SNR 8.7 vs 5.5 dB.
test('loud double talk: better than the unprocessed mic, not ducked', async () => {
  const { c, r } = await run({ room: BASE_ROOM, nearEnd: true });
  const f = nearFigures(c, r.out, LATENCY);
  assert.ok(f.stoi >= f.stoiMic + 0.02, `STOI ${f.stoi.toFixed(3)} vs ${f.stoiMic.toFixed(3)} unprocessed`);
  assert.ok(f.segSnrDb >= f.segSnrMicDb + 2, `segmental SNR ${f.segSnrDb.toFixed(1)} dB vs ${f.segSnrMicDb.toFixed(1)} unprocessed`);
  assert.ok(Math.abs(f.nearLevelDb) <= 2.5, `near-end level ${f.nearLevelDb.toFixed(2)} dB`);
  assert.ok(r.stats.slice(-100).every((s) => s.referenceMisaligned === 0), 'not taken for a misaligned reference');
});

test('enabled: false passes the mic through unchanged', async () => {
  const c = buildEchoCase({ room: BASE_ROOM, seconds: 2 });
  const r = await runAecOverSignals(MANIFEST, c.mic, c.reference, { enabled: false });
  assert.equal(Array.from(r.out.subarray(0, 9600)), Array.from(c.mic.subarray(0, 9600)));
});

test('suppressionDb: 0 (linear filter only) cancels less than the default', async () => {
  const o = { room: BASE_ROOM, seconds: 6 };
  const lin = await run(o, { suppressionDb: 0 });
  const full = await run(o);
  const a = echoFigures(lin.c, lin.out).erleDb;
  const b = echoFigures(full.c, full.out).erleDb;
  assert.ok(a >= 12, `linear filter alone ${a.toFixed(1)} dB`);
  assert.ok(b >= a + 5, `suppressor adds ${(b - a).toFixed(1)} dB`);
});

test.run();
