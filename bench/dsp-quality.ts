// Quality of the capture chain's DSP guests (echo canceller, noise
// suppressor) on synthetic cases built from the test fixtures, scored from
// outside (docs/DSP.md "Room model" and "Measures"). Prints one JSON line.
// Usage: node dist/bench/dsp-quality.js [--ns-only | --aec-only] [--ns-config JSON]
//
// Headline figures (issue 9 targets in brackets):
//   erleDb          ERLE after 2 s, base room (RT60 0.3 s, 30 ms, −6 dB) [≥ 30]
//   erleHardDb      the worse of RT60 0.6 s and a 120 ms delay [≥ 25]
//   worstWindowDb   worst 0.5 s window after 2 s over those three [≥ 15]
//   reconvergeS     time to get back within 3 dB after the echo path changes [≤ 2.5]
//   doubleTalkStoi  STOI of the output vs the clean near end, double talk [≥ 0.95]
//   nsAttenuationDb the least noise attenuation over pink/brown × 5/0 dB SNR [≥ 20]
//   nsDistortionDb  the worst log-spectral distance at 5 dB SNR [≤ 10]
//   nsStoiDelta     the least STOI(output) − STOI(noisy) at 5 dB SNR [≥ 0]
//   cpuMsPerFrame   the two guests' CPU per 20 ms frame, summed [each ≤ 1]
// `nsHeldOut`: the suppressor on speech-b (another voice) in pink and brown at
// 5 dB, reported only. `nsActiveLevelSnr`: the 5 dB cases with the SNR on the speech's
// active level instead of its mean power (docs/DSP.md "Noise-suppression cases"), reported
// only. `baseline` has the same keys for a do-nothing pass-through, measured on the
// same cases in the same run.
import { join } from 'node:path';
import { loadavg } from 'node:os';
import { readFixture } from '../host/dsp/room.js';
import { makeNsCase, measureNs, runNsShadow, type NsFigures } from '../host/dsp/ns-shadow.js';
import { levelDbfs } from '../host/dsp/spectral.js';
import { runAecOverSignals } from '../host/dsp/run-guest.js';
import { shippedPluginFiles } from '../host/plugins/manifest.js';
import { runAec } from './dsp-quality-aec.js';

const root = join(import.meta.dirname, '..', '..');
const args = process.argv.slice(2);
// --ns-config JSON: run the suppressor with another config (e.g. to see a setting's effect).
const nsConfigAt = args.indexOf('--ns-config');
const nsConfig = nsConfigAt >= 0 ? (JSON.parse(args[nsConfigAt + 1] ?? '{}') as Record<string, unknown>) : {};
const r2 = (x: number): number => Math.round(x * 100) / 100;
const r3 = (x: number): number => Math.round(x * 1000) / 1000;

async function runNs() {
  const files = await shippedPluginFiles(root, 'ns');
  const speech = readFixture('speech-a.wav');
  const cases: Record<string, NsFigures & { noiseLevelDb: number; stats: Record<string, number> }> = {};
  const pass: Record<string, NsFigures> = {};
  for (const noiseName of ['pink', 'brown']) {
    const noise = readFixture(`noise-${noiseName}.wav`);
    for (const snr of [5, 0]) {
      const c = makeNsCase(`${noiseName}${snr}`, speech, noise, snr);
      const r = await runNsShadow(c.speech, c.noise, { manifest: files.manifest, wasm: files.wasm, config: nsConfig });
      cases[c.name] = { ...measureNs(c, r), noiseLevelDb: r2(levelDbfs(c.noise)), stats: Object.fromEntries(Object.entries(r.stats).map(([k, v]) => [k, r3(v)])) };
      const mixture = c.speech.map((v, i) => v + c.noise[i]!);
      pass[c.name] = measureNs(c, { output: mixture, speech: c.speech, noise: c.noise });
    }
  }
  // Reported, not scored: a second voice (speech-b, female UK English). The learned gain was
  // trained on neither fixture voice's sentences; this shows how far speech-a's figures carry.
  const heldOut: Record<string, NsFigures> = {};
  for (const noiseName of ['pink', 'brown']) {
    const c = makeNsCase(`speechB-${noiseName}5`, readFixture('speech-b.wav'), readFixture(`noise-${noiseName}.wav`), 5);
    heldOut[c.name] = measureNs(c, await runNsShadow(c.speech, c.noise, { manifest: files.manifest, wasm: files.wasm, config: nsConfig }));
  }
  // Reported, not scored: the 5 dB cases with the SNR taken on speech-a's active level (0.7 dB
  // more noise), the definition the bench used before it was matched to the issue's.
  const activeSnr: Record<string, { distortionDb: number; noisyDistortionDb: number; attenuationDb: number }> = {};
  for (const noiseName of ['pink', 'brown']) {
    const c = makeNsCase(`${noiseName}5`, speech, readFixture(`noise-${noiseName}.wav`), 5, 'active');
    const f = measureNs(c, await runNsShadow(c.speech, c.noise, { manifest: files.manifest, wasm: files.wasm, config: nsConfig }));
    activeSnr[c.name] = { distortionDb: f.distortionDb, noisyDistortionDb: f.noisyDistortionDb, attenuationDb: f.attenuationDb };
  }
  // CPU through the real capture chain (the chain thread's own timing of the guest), on pink5.
  const c = makeNsCase('pink5', speech, readFixture('noise-pink.wav'), 5);
  const chainRun = await runAecOverSignals(join(root, 'manifests', 'ns.json'), c.speech.map((v, i) => v + c.noise[i]!), new Float32Array(c.speech.length), nsConfig, { collectStats: false });
  const us = chainRun.usPerFrame.slice().sort((a, b) => a - b);
  const cpuMs = us.reduce((a, b) => a + b, 0) / Math.max(1, us.length) / 1000;
  const at5 = ['pink5', 'brown5'];
  const headline = (set: Record<string, NsFigures>) => ({
    nsAttenuationDb: r2(Math.min(...Object.values(set).map((f) => f.attenuationDb))),
    nsDistortionDb: r2(Math.max(...at5.map((k) => set[k]!.distortionDb))),
    nsStoiDelta: r3(Math.min(...at5.map((k) => set[k]!.stoi - set[k]!.noisyStoi))),
  });
  return {
    headline: headline(cases),
    baseline: headline(pass),
    cpuMsPerFrameNs: r3(cpuMs),
    cpuNs: { chainMsP50: r3((us[us.length >> 1] ?? 0) / 1000), chainMsP99: r3((us[Math.floor(us.length * 0.99)] ?? 0) / 1000), bypassed: chainRun.bypassed },
    cases,
    heldOut,
    activeSnr,
  };
}

const ns = args.includes('--aec-only') ? null : await runNs();
const aec = args.includes('--ns-only') ? null : await runAec(root);
const cpuAec = aec?.cpuMsPerFrameAec ?? NaN;
const cpuNs = ns?.cpuMsPerFrameNs ?? NaN;
process.stdout.write(
  JSON.stringify({
    bench: 'dsp-quality',
    ...(aec?.headline ?? {}),
    ...(ns?.headline ?? {}),
    cpuMsPerFrame: r3((Number.isNaN(cpuAec) ? 0 : cpuAec) + (Number.isNaN(cpuNs) ? 0 : cpuNs)),
    cpuMsPerFrameAec: cpuAec,
    cpuMsPerFrameNs: cpuNs,
    baseline: { ...(aec?.baseline ?? {}), ...(ns?.baseline ?? {}), cpuMsPerFrame: 0 },
    aecCases: aec?.cases ?? null,
    nsCpu: ns?.cpuNs ?? null,
    nsCases: ns?.cases ?? null,
    nsHeldOut: ns?.heldOut ?? null,
    nsActiveLevelSnr: ns?.activeSnr ?? null,
    node: process.version,
    loadAvg1: r2(loadavg()[0]!),
  }) + '\n',
);
