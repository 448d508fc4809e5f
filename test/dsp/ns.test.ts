// The noise suppressor (guests/ns, manifests/ns.json) on the fixtures: speech-a
// in pink and brown noise, measured by shadow filtering (host/dsp/ns-shadow.ts,
// definitions in docs/DSP.md "Measures").
//
// Thresholds sit a little below what the shipped guest measured here
// (bench/dsp-quality, figures in brackets), so a regression shows; the issue's
// targets are quoted where they differ. A broken suppressor must fail them:
// pass-through (enabled false), a uniform −30 dB gain, silence.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { readFixture } from '../../host/dsp/room.js';
import { makeNsCase, measureNs, openNsGuest, runNsShadow, type NsCase, type NsFigures } from '../../host/dsp/ns-shadow.js';
import { runAecOverSignals } from '../../host/dsp/run-guest.js';
import { shippedPluginFiles } from '../../host/plugins/manifest.js';

const test = suite('dsp: noise suppression');
const root = join(import.meta.dirname, '..', '..', '..');
const files = await shippedPluginFiles(root, 'ns');
const speech = readFixture('speech-a.wav');
const pink5 = makeNsCase('pink5', speech, readFixture('noise-pink.wav'), 5);
const brown0 = makeNsCase('brown0', speech, readFixture('noise-brown.wav'), 0);
const brown5 = makeNsCase('brown5', speech, readFixture('noise-brown.wav'), 5);

interface Bar {
  /** Noise-only frames, shadow filtered (dB, at least). */
  attenuationDb: number;
  /** Log-spectral distance of the output from the clean speech (dB, at most). */
  distortionDb: number;
}

// Measured (docs/DSP.md "Measured", the learned gain): pink5 25.24 dB /
// 10.44 dB (issue target distortion ≤ 10: not met; the classic rule alone
// gives 12.86); brown5 28.62 dB / 6.48 dB; brown0 29.11 dB / 7.65 dB. The
// attenuation bar is the 20 dB for the 5 dB cases. STOI must not fall
// below the noisy input's, the speech level must stay within ±1 dB (both
// issue targets).
const BAR: Record<string, Bar> = {
  pink5: { attenuationDb: 20, distortionDb: 10.8 },
  brown5: { attenuationDb: 20, distortionDb: 6.9 },
  brown0: { attenuationDb: 26.5, distortionDb: 8.1 },
};

function failures(name: string, f: NsFigures): string[] {
  const bar = BAR[name]!;
  const out: string[] = [];
  if (!(f.attenuationDb >= bar.attenuationDb)) out.push(`attenuation ${f.attenuationDb} dB < ${bar.attenuationDb}`);
  if (!(f.distortionDb <= bar.distortionDb)) out.push(`distortion ${f.distortionDb} dB > ${bar.distortionDb}`);
  if (!(f.stoi >= f.noisyStoi)) out.push(`STOI ${f.stoi} below the noisy input's ${f.noisyStoi}`);
  if (!(Math.abs(f.speechLevelDb) <= 1)) out.push(`speech level moved ${f.speechLevelDb} dB`);
  return out;
}

const mixture = (c: NsCase): Float32Array => c.speech.map((v, i) => v + c.noise[i]!);
const scaledBy = (x: Float32Array, g: number): Float32Array => x.map((v) => v * g);

for (const c of [pink5, brown5, brown0]) {
  test(`${c.name}: attenuation, distortion, STOI and speech level within the bar`, async () => {
    const r = await runNsShadow(c.speech, c.noise, { manifest: files.manifest, wasm: files.wasm });
    const f = measureNs(c, r);
    assert.equal(failures(c.name, f), [], JSON.stringify(f));
    // The suppressor is linear once its gains are set: the shadow parts add up to the output.
    let err = 0;
    let e = 0;
    for (let i = 0; i < r.output.length; i++) {
      err += (r.output[i]! - r.speech[i]! - r.noise[i]!) ** 2;
      e += r.output[i]! ** 2;
    }
    assert.ok(err < e * 1e-8, `shadow speech + shadow noise = output (relative error ${err / e})`);
  });
}

test('broken suppressors fail the same bar: pass-through, a uniform −30 dB gain, silence', async () => {
  const off = await runNsShadow(pink5.speech, pink5.noise, { manifest: files.manifest, wasm: files.wasm, config: { enabled: false } });
  const offF = measureNs(pink5, off);
  assert.ok(failures('pink5', offF).length > 0, `enabled:false passes the bar? ${JSON.stringify(offF)}`);
  // (Disabled, it also drops the 10 ms delay the measure takes out: hence not exactly 0.)
  assert.ok(Math.abs(offF.attenuationDb) < 0.2, `disabled passes the noise through: ${offF.attenuationDb} dB`);
  const g = 10 ** (-30 / 20);
  const quiet = measureNs(pink5, { output: scaledBy(mixture(pink5), g), speech: scaledBy(pink5.speech, g), noise: scaledBy(pink5.noise, g) });
  assert.ok(failures('pink5', quiet).some((m) => m.startsWith('speech level')), `uniform −30 dB: ${JSON.stringify(quiet)}`);
  const zero = new Float32Array(pink5.speech.length);
  assert.ok(failures('pink5', measureNs(pink5, { output: zero, speech: zero, noise: zero })).length > 0, 'silence fails');
});

test('brown5: the bar (distortion ≤ 7.2 dB, attenuation ≥ 20 dB) fails a pass-through and a suppressor with only a 10 dB floor', async () => {
  const off = measureNs(brown5, await runNsShadow(brown5.speech, brown5.noise, { manifest: files.manifest, wasm: files.wasm, config: { enabled: false } }));
  assert.ok(failures('brown5', off).some((m) => m.startsWith('distortion')), `pass-through: ${JSON.stringify(off)}`);
  // A 10 dB floor leaves the noise: it fails on attenuation. (The log-spectral distance alone
  // favours a shallow floor: with the classic rule a 10 dB floor scored 8.2 dB against its 9.3 at
  // 30 dB, so the two bars go together.)
  const shallow = measureNs(brown5, await runNsShadow(brown5.speech, brown5.noise, { manifest: files.manifest, wasm: files.wasm, config: { maxAttenuationDb: 10 } }));
  assert.ok(failures('brown5', shallow).some((m) => m.startsWith('attenuation')), `maxAttenuationDb 10: ${JSON.stringify(shallow)}`);
});

test('maxAttenuationDb bounds the attenuation', async () => {
  const r = await runNsShadow(brown0.speech, brown0.noise, { manifest: files.manifest, wasm: files.wasm, config: { maxAttenuationDb: 10 } });
  const f = measureNs(brown0, r);
  assert.ok(f.attenuationDb <= 10.3 && f.attenuationDb >= 8, `maxAttenuationDb 10: ${f.attenuationDb} dB`);
});

// Measured on speech-a alone: level −0.36 dB, STOI 0.989, distortion 1.18 dB (the classic rule:
// −0.08 dB, 0.997, 5.32 dB; on speech-b the classic rule's STOI is 0.987, the learned gain's 0.982).
test('clean speech alone is left alone: level within 0.5 dB, STOI at least 0.98, distortion under 3 dB', async () => {
  const silence = new Float32Array(speech.length);
  const r = await runNsShadow(speech, silence, { manifest: files.manifest, wasm: files.wasm });
  const c = makeNsCase('clean', speech, silence, 0);
  const f = measureNs({ ...c, noise: silence }, r);
  assert.ok(Math.abs(f.speechLevelDb) <= 0.5, `speech level ${f.speechLevelDb} dB`);
  assert.ok(f.stoi >= 0.98, `STOI ${f.stoi}`);
  assert.ok(f.distortionDb <= 3, `distortion ${f.distortionDb} dB`);
});

test('the noise estimate follows a noise that steps up 10 dB, within 3 s', async () => {
  // 10 s of pink noise at −35 dBFS, then +10 dB from 5 s on; no speech.
  const pink = readFixture('noise-pink.wav');
  const g1 = 10 ** ((-35 + 23.6) / 20);
  const noise = pink.map((v, i) => v * g1 * (i < 5 * 48_000 ? 1 : Math.sqrt(10)));
  const floors: number[] = [];
  await runNsShadow(new Float32Array(noise.length), noise, { manifest: files.manifest, wasm: files.wasm, onStats: (_, s) => floors.push(s.noiseFloorDb!) });
  const at = (s: number): number => floors[Math.round(s * 50)]!;
  const before = at(4.9);
  const after = at(8);
  assert.ok(Math.abs(before - at(2)) < 1, `steady before the step: ${at(2).toFixed(1)} → ${before.toFixed(1)} dBFS`);
  assert.ok(Math.abs(after - before - 10) < 1.5, `3 s after the step the estimate rose ${(after - before).toFixed(1)} dB (noise +10)`);
});

test('a frame of NaN does not poison the state: the output is finite from the next frame on', async () => {
  const guest = await openNsGuest({ manifest: files.manifest, wasm: files.wasm });
  try {
    const input = mixture(pink5);
    for (let f = 0; f < 60; f++) {
      const frame = input.slice(f * 960, (f + 1) * 960);
      if (f === 30) frame.fill(NaN);
      await guest.process(frame);
      if (f > 30) assert.ok(frame.every(Number.isFinite), `frame ${f} has non-finite samples`);
    }
    assert.ok(Object.values(guest.stats()).every(Number.isFinite), JSON.stringify(guest.stats()));
  } finally {
    await guest.close();
  }
});

test('stats: the noise floor follows the noise, speech probability in [0, 1]', async () => {
  const seen: Record<string, number>[] = [];
  await runNsShadow(pink5.speech, pink5.noise, { manifest: files.manifest, wasm: files.wasm, onStats: (f, s) => f % 50 === 49 && seen.push({ ...s }) });
  const last = seen[seen.length - 1]!;
  assert.equal(Object.keys(last), ['noiseFloorDb', 'attenuationDb', 'speechProbability']);
  // The noise is at −25.0 dBFS; the estimate may sit a little above it (speech leaks into it).
  assert.ok(Math.abs(last.noiseFloorDb! + 25) < 2, `noiseFloorDb ${last.noiseFloorDb}`);
  for (const s of seen) {
    assert.ok(s.speechProbability! >= 0 && s.speechProbability! <= 1, `speechProbability ${s.speechProbability}`);
    assert.ok(Number.isFinite(s.attenuationDb), 'attenuationDb is a number');
  }
});

test('the capture chain (zero-copy after the first frame) and on_audio_raw on every frame give the same samples', async () => {
  const frames = 150;
  const input = mixture(pink5).subarray(0, frames * 960);
  const viaChain = await runAecOverSignals(join(root, 'manifests', 'ns.json'), input, new Float32Array(input.length), {}, { collectStats: true });
  assert.is(viaChain.bypassed, 0);
  const extism = await openNsGuest({ manifest: files.manifest, wasm: files.wasm, extismEveryFrame: true });
  try {
    const out = input.slice();
    for (let f = 0; f < frames; f++) await extism.process(out.subarray(f * 960, (f + 1) * 960));
    for (let i = 0; i < out.length; i++) if (out[i] !== viaChain.out[i]) assert.unreachable(`sample ${i}: ${out[i]} (on_audio_raw) vs ${viaChain.out[i]} (chain)`);
    const published = viaChain.stats[frames - 1] ?? {};
    assert.ok(Number.isFinite(published.noiseFloorDb), `the chain publishes the guest's stats: ${JSON.stringify(published)}`);
  } finally {
    await extism.close();
  }
});

test.run();
