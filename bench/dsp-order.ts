// The order of the capture chain's two DSP slots, measured with our guests
// (manifests/aec.json, manifests/ns.json): (a) mic → AEC → NS, what the client
// runs, against (b) mic → NS → AEC, the suppressor run first over the mic as a
// pass of its own and the canceller then over its output with the same far-end
// reference (so in (b) the canceller sees an echo path 10 ms longer: the NS's
// hop). Issue 9's finding with speexdsp / WebRTC / RNNoise was that AEC first
// cancelled more echo in 9 of 12 pairings, by 0.8–7 dB, and kept the near
// talker better in all 12. Prints one JSON line (docs/DSP.md "Why the canceller
// runs first (measured)").
// Usage: node dist/bench/dsp-order.js [--quick]   (--quick: pink noise only)
//
// Cases: the rooms of host/dsp/aec-cases.ts (base RT60 0.3 s / 30 ms / −6 dB,
// RT60 0.6 s, 120 ms delay) × pink and brown noise × 5 and 20 dB SNR, where
// the SNR is the near talker's active level (speech-a, 6 dB over the far end as
// in the double-talk case) over the noise's mean power. The noise has that level
// in both measurements below, whether the near talker speaks or not.
//
// - ERLE: far-end-only (the near talker silent, his room's noise on): mic =
//   echo + noise. The residual echo in a non-linear chain's output is split from
//   the noise with the phase-inversion method (Hagerman & Olofsson 2004):
//   the canceller runs twice, over echo + noise and over echo − noise;
//   the half sum is the echo's part, the rest the noise's. The suppressor stage
//   is split exactly with its own shadow filter (host/dsp/ns-shadow.ts): the
//   echo part and the noise part of its input go through the gains it computed
//   on the real input. So in both orders the real signal path is the "+" run,
//   and ERLE = erleDb(echo in the mic, echo part of the output) from 2 s on.
//   The half sum counts what is bilinear in noise and far end (the filter's
//   noise-driven misadjustment) as noise, which flatters AEC first. So two more
//   figures: `erleNoiseCountedDb` (the whole output as residual: split-free, a
//   lower bound), and `linear`, both orders with the canceller's linear filter
//   alone (suppressionDb 0), where the split is exact (pink noise only).
// - Near end: double talk, mic = echo + near + noise, through the two chains;
//   STOI of the output against the clean near end from 2 s on (both chains
//   delay by 240 + 480 samples; taken out).
import { join } from 'node:path';
import { loadavg } from 'node:os';
import { pathToFileURL } from 'node:url';
import { BASE_ROOM, DELAY_ROOM, REVERB_ROOM, SR } from '../host/dsp/aec-cases.js';
import { erleDb, erleWindowsDb } from '../host/dsp/erle.js';
import { runNsShadow } from '../host/dsp/ns-shadow.js';
import { convolve, delay, fit, readFixture, roomImpulseResponse, scaleToDb, type RoomOptions } from '../host/dsp/room.js';
import { runAecOverSignals } from '../host/dsp/run-guest.js';
import { activeLevelDbfs, attenuationDb, levelDbfs } from '../host/dsp/spectral.js';
import { stoi } from '../host/dsp/stoi.js';
import { shippedPluginFiles, type PluginManifest } from '../host/plugins/manifest.js';

const ROOT = join(import.meta.dirname, '..', '..');
const AEC_MANIFEST = join(ROOT, 'manifests', 'aec.json');
const NS_MANIFEST = join(ROOT, 'manifests', 'ns.json');
/** The canceller's latency (its suppressor's 5 ms) and the suppressor's (one 10 ms hop). */
export const AEC_LATENCY = 240;
export const NS_LATENCY = 480;
const LATENCY = AEC_LATENCY + NS_LATENCY;
/** The near talker over the far end (dB): the double-talk case of bench/dsp-quality (12 dB over the echo). */
export const NEAR_DB = 6;
const FROM = 2 * SR;

export const ROOMS: Record<string, RoomOptions> = { base: BASE_ROOM, reverb: REVERB_ROOM, delay120: DELAY_ROOM };

export interface OrderCase {
  name: string;
  far: Float32Array;
  echo: Float32Array;
  near: Float32Array;
  noise: Float32Array;
}

/** The case of one pairing: room × noise fixture × SNR (near talker's active level over the noise's power). */
export function buildOrderCase(room: string, noiseName: 'pink' | 'brown', snrDb: number): OrderCase {
  const farRaw = readFixture('speech-b.wav');
  const n = farRaw.length;
  const far = fit(farRaw, n);
  const echo = fit(convolve(far, roomImpulseResponse(ROOMS[room]!)), n);
  const near = scaleToDb(fit(readFixture('speech-a.wav'), n), NEAR_DB, far);
  const raw = readFixture(`noise-${noiseName}.wav`);
  const looped = new Float32Array(n).map((_, i) => raw[i % raw.length]!);
  const g = 10 ** ((activeLevelDbfs(near) - levelDbfs(looped) - snrDb) / 20);
  return { name: `${room}-${noiseName}${snrDb}`, far, echo, near, noise: looped.map((v) => v * g) };
}

const add = (a: Float32Array, b: Float32Array, s = 1): Float32Array => a.map((v, i) => v + s * b[i]!);

/** The canceller's linear filter alone (its residual echo suppressor off; the 240-sample latency stays). */
const LINEAR = { suppressionDb: 0 };

async function aec(mic: Float32Array, far: Float32Array, config?: Record<string, unknown>): Promise<Float32Array> {
  const r = await runAecOverSignals(AEC_MANIFEST, mic, far, config, { collectStats: false });
  if (r.bypassed) throw new Error(`aec: ${r.bypassed} frames bypassed`);
  return r.out;
}

async function nsChain(mic: Float32Array): Promise<Float32Array> {
  const r = await runAecOverSignals(NS_MANIFEST, mic, new Float32Array(mic.length), undefined, { collectStats: false });
  if (r.bypassed) throw new Error(`ns: ${r.bypassed} frames bypassed`);
  return r.out;
}

interface NsFiles {
  manifest: PluginManifest;
  wasm: Uint8Array;
}

/**
 * The suppressor over a + b, with a and b shadow filtered through its gains; all
 * three in real time (the 480-sample delay left in, as the chain delivers them).
 */
async function nsSplit(files: NsFiles, a: Float32Array, b: Float32Array): Promise<{ out: Float32Array; a: Float32Array; b: Float32Array }> {
  const r = await runNsShadow(a, b, { manifest: files.manifest, wasm: files.wasm });
  return { out: delay(r.output, NS_LATENCY), a: delay(r.speech, NS_LATENCY), b: delay(r.noise, NS_LATENCY) };
}

/** The canceller over echo ± noise: the half sum is the echo's part of the output of the "+" run (the real one), the rest the noise's. */
async function aecSplit(echo: Float32Array, noise: Float32Array, far: Float32Array, config?: Record<string, unknown>): Promise<{ out: Float32Array; echo: Float32Array; noise: Float32Array }> {
  const plus = await aec(add(echo, noise), far, config);
  const minus = await aec(add(echo, noise, -1), far, config);
  const e = plus.map((v, i) => 0.5 * (v + minus[i]!));
  return { out: plus, echo: e, noise: plus.map((v, i) => v - e[i]!) };
}

const r2 = (x: number): number | null => (Number.isFinite(x) ? Math.round(x * 100) / 100 : null);
const r3 = (x: number): number | null => (Number.isFinite(x) ? Math.round(x * 1000) / 1000 : null);

export interface EchoScore {
  /** ERLE (dB) after 2 s, echo-only residual. */
  erleDb: number;
  /** Worst 0.5 s window (hop 0.25 s) after 2 s. */
  worstWindowDb: number;
  /** The noise's part of the output against the noise in the mic, after 2 s (dB). */
  noiseAttenuationDb: number;
  /** Split-free: the echo in the mic over the whole output (echo and noise left), far-end-active blocks after 2 s. A lower bound of erleDb. */
  erleNoiseCountedDb: number;
}

function scoreEcho(c: OrderCase, echoOut: Float32Array, noiseOut: Float32Array, latency: number): EchoScore {
  const len = c.echo.length - latency;
  const echo = c.echo.subarray(0, len);
  const res = echoOut.subarray(latency, latency + len);
  const noise = noiseOut.subarray(latency, latency + len);
  const w = erleWindowsDb(echo, res, SR / 2, FROM, SR / 4);
  return {
    erleDb: erleDb(echo, res, FROM),
    worstWindowDb: w.length ? Math.min(...w) : NaN,
    noiseAttenuationDb: attenuationDb(c.noise.subarray(0, len), noise, FROM),
    erleNoiseCountedDb: erleDb(echo, res.map((v, i) => v + noise[i]!), FROM),
  };
}

function scoreStoi(c: OrderCase, out: Float32Array, latency: number): number {
  return stoi(c.near.subarray(FROM, c.near.length - latency), out.subarray(FROM + latency), SR);
}

export interface OrderFigures {
  aecFirst: EchoScore & { stoi: number };
  nsFirst: EchoScore & { stoi: number };
  /** Context: each guest alone on the same cases (ERLE of the canceller alone; the suppressor's own echo attenuation). */
  aecAlone: { erleDb: number; stoi: number };
  nsAlone: { echoAttenuationDb: number; stoi: number };
  micStoi: number;
  /**
   * The same two orders with the canceller's linear filter alone, where the echo's part is exact:
   * its output minus its output for the noise part of its input with the reference silent (it is
   * linear in the mic then, its DC filter included). Every far-end-caused component counts as echo,
   * the filter's noise-driven misadjustment too. `halfSum*` is the phase-inversion figure on the
   * same runs: the split's bias on the canceller.
   */
  linear: { aecFirstErleDb: number; nsFirstErleDb: number; halfSumAecFirstErleDb: number; halfSumNsFirstErleDb: number; aecFirstNoiseAttenuationDb: number; nsFirstNoiseAttenuationDb: number };
  /** The phase-inversion split checked where the exact one exists: the suppressor's echo attenuation by half sum minus by shadow (dB). */
  splitCheckDb: number;
}

export interface MeasureOptions {
  /** The double-talk runs (STOI); default true. */
  stoi?: boolean;
  /** The linear-filter variant; default true. */
  linear?: boolean;
}

/** Both orders on one case (figures left out by `o` are NaN). */
export async function measureOrders(c: OrderCase, files: NsFiles, o: MeasureOptions = {}): Promise<OrderFigures> {
  // (a) mic → AEC → NS, far end only.
  const a1 = await aecSplit(c.echo, c.noise, c.far);
  const a2 = await nsSplit(files, a1.echo, a1.noise);
  const aecFirst = scoreEcho(c, a2.a, a2.b, LATENCY);
  const aecAloneErle = scoreEcho(c, a1.echo, a1.noise, AEC_LATENCY).erleDb;
  // (b) mic → NS → AEC: the NS over echo + noise, its two parts exact (shadow); the AEC over
  // its output (= echo' + noise'') and over echo' − noise''.
  const b1 = await nsSplit(files, c.echo, c.noise);
  const b2 = await aecSplit(b1.a, b1.out.map((v, i) => v - b1.a[i]!), c.far);
  const nsFirst = scoreEcho(c, b2.echo, b2.noise, LATENCY);
  const nsAloneEcho = scoreEcho(c, b1.a, b1.b, NS_LATENCY);
  // The half-sum split on the suppressor alone, against its exact shadow split.
  const nsMinus = await nsSplit(files, c.echo, c.noise.map((v) => -v));
  const half = b1.out.map((v, i) => 0.5 * (v + nsMinus.out[i]!));
  const splitCheckDb = scoreEcho(c, half, b1.b, NS_LATENCY).erleDb - nsAloneEcho.erleDb;
  const linear = o.linear === false ? { aecFirstErleDb: NaN, nsFirstErleDb: NaN, halfSumAecFirstErleDb: NaN, halfSumNsFirstErleDb: NaN, aecFirstNoiseAttenuationDb: NaN, nsFirstNoiseAttenuationDb: NaN } : await linearVariant(c, files, b1);
  let sA = NaN, sB = NaN, sAecAlone = NaN, sNsAlone = NaN, sMic = NaN;
  if (o.stoi !== false) {
    const mic = add(add(c.echo, c.near), c.noise);
    const aOut1 = await aec(mic, c.far);
    const aOut = await nsChain(aOut1);
    const bOut1 = await nsChain(mic);
    const bOut = await aec(bOut1, c.far);
    sA = scoreStoi(c, aOut, LATENCY);
    sB = scoreStoi(c, bOut, LATENCY);
    sAecAlone = scoreStoi(c, aOut1, AEC_LATENCY);
    sNsAlone = scoreStoi(c, bOut1, NS_LATENCY);
    sMic = scoreStoi(c, mic, 0);
  }
  return {
    aecFirst: { ...aecFirst, stoi: sA },
    nsFirst: { ...nsFirst, stoi: sB },
    aecAlone: { erleDb: aecAloneErle, stoi: sAecAlone },
    nsAlone: { echoAttenuationDb: nsAloneEcho.erleDb, stoi: sNsAlone },
    micStoi: sMic,
    linear,
    splitCheckDb,
  };
}

type LinearFigures = OrderFigures['linear'];

/** The linear-filter variant of both orders, split exactly (and by half sum, for the split's bias). `b1`: the NS over echo + noise. */
async function linearVariant(c: OrderCase, files: NsFiles, b1: { out: Float32Array; a: Float32Array }): Promise<LinearFigures> {
  const silent = new Float32Array(c.far.length);
  const la = await aecSplit(c.echo, c.noise, c.far, LINEAR);
  const laNoise = await aec(c.noise, silent, LINEAR);
  const laNs = await nsSplit(files, la.out.map((v, i) => v - laNoise[i]!), laNoise);
  const laHalf = await nsSplit(files, la.echo, la.noise);
  const nsNoise = b1.out.map((v, i) => v - b1.a[i]!);
  const lb = await aecSplit(b1.a, nsNoise, c.far, LINEAR);
  const lbNoise = await aec(nsNoise, silent, LINEAR);
  const exactA = scoreEcho(c, laNs.a, laNs.b, LATENCY);
  const exactB = scoreEcho(c, lb.out.map((v, i) => v - lbNoise[i]!), lbNoise, LATENCY);
  return {
    aecFirstErleDb: exactA.erleDb,
    nsFirstErleDb: exactB.erleDb,
    aecFirstNoiseAttenuationDb: exactA.noiseAttenuationDb,
    nsFirstNoiseAttenuationDb: exactB.noiseAttenuationDb,
    halfSumAecFirstErleDb: scoreEcho(c, laHalf.a, laHalf.b, LATENCY).erleDb,
    halfSumNsFirstErleDb: scoreEcho(c, lb.echo, lb.noise, LATENCY).erleDb,
  };
}

export async function nsFiles(): Promise<NsFiles> {
  return shippedPluginFiles(ROOT, 'ns');
}

/** The in-thread shadow driver against the capture chain's NS on the same input: the largest sample difference. */
async function shadowMatchesChain(files: NsFiles, c: OrderCase): Promise<number> {
  const mic = add(c.echo, c.noise);
  const chain = await nsChain(mic);
  const shadow = (await nsSplit(files, c.echo, c.noise)).out;
  let d = 0;
  for (let i = 0; i < chain.length; i++) d = Math.max(d, Math.abs(chain[i]! - shadow[i]!));
  return d;
}

const range = (x: number[]) => ({ min: r2(Math.min(...x)), max: r2(Math.max(...x)), mean: r2(x.reduce((a, b) => a + b, 0) / x.length) });

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const t0 = performance.now();
  const files = await nsFiles();
  const cases: Record<string, unknown> = {};
  const erleDelta: number[] = [];
  const stoiDelta: number[] = [];
  const splitChecks: number[] = [];
  const linDelta: number[] = [];
  const noiseDelta: number[] = [];
  let surely = 0;
  let lessTotal = 0;
  const biasA: number[] = [];
  const biasB: number[] = [];
  let shadowVsChain = NaN;
  for (const room of Object.keys(ROOMS)) {
    for (const noise of quick ? (['pink'] as const) : (['pink', 'brown'] as const)) {
      for (const snr of [5, 20]) {
        const c = buildOrderCase(room, noise, snr);
        if (Number.isNaN(shadowVsChain)) shadowVsChain = await shadowMatchesChain(files, c);
        // The linear-filter check costs six more canceller runs: pink noise only, to stay near 2 minutes.
        const f = await measureOrders(c, files, { linear: noise === 'pink' });
        erleDelta.push(f.aecFirst.erleDb - f.nsFirst.erleDb);
        stoiDelta.push(f.aecFirst.stoi - f.nsFirst.stoi);
        // A lower bound of AEC-first's ERLE at or over NS-first's (whose half-sum figure is nearly unbiased).
        if (f.aecFirst.erleNoiseCountedDb >= f.nsFirst.erleDb) surely++;
        if (f.aecFirst.erleNoiseCountedDb > f.nsFirst.erleNoiseCountedDb) lessTotal++;
        noiseDelta.push(f.aecFirst.noiseAttenuationDb - f.nsFirst.noiseAttenuationDb);
        splitChecks.push(f.splitCheckDb);
        if (noise === 'pink') {
          linDelta.push(f.linear.aecFirstErleDb - f.linear.nsFirstErleDb);
          biasA.push(f.linear.halfSumAecFirstErleDb - f.linear.aecFirstErleDb);
          biasB.push(f.linear.halfSumNsFirstErleDb - f.linear.nsFirstErleDb);
        }
        const pick = (s: EchoScore & { stoi: number }) => ({ erleDb: r2(s.erleDb), worstWindowDb: r2(s.worstWindowDb), erleNoiseCountedDb: r2(s.erleNoiseCountedDb), stoi: r3(s.stoi), noiseAttenuationDb: r2(s.noiseAttenuationDb) });
        cases[c.name] = {
          aecFirst: pick(f.aecFirst),
          nsFirst: pick(f.nsFirst),
          aecAlone: { erleDb: r2(f.aecAlone.erleDb), stoi: r3(f.aecAlone.stoi) },
          nsAlone: { echoAttenuationDb: r2(f.nsAlone.echoAttenuationDb), stoi: r3(f.nsAlone.stoi) },
          micStoi: r3(f.micStoi),
          ...(noise === 'pink' ? { linear: Object.fromEntries(Object.entries(f.linear).map(([k, v]) => [k, r2(v)])) } : {}),
          splitCheckDb: r2(f.splitCheckDb),
        };
      }
    }
  }
  const wonE = erleDelta.filter((d) => d > 0);
  const wonS = stoiDelta.filter((d) => d > 0);
  process.stdout.write(
    JSON.stringify({
      bench: 'dsp-order',
      pairings: erleDelta.length,
      summary: {
        aecFirstMoreEcho: wonE.length,
        aecFirstMoreEchoByDb: wonE.length ? [r2(Math.min(...wonE)), r2(Math.max(...wonE))] : null,
        erleDeltaDb: range(erleDelta),
        aecFirstKeptNearBetter: wonS.length,
        stoiDelta: { min: r3(Math.min(...stoiDelta)), max: r3(Math.max(...stoiDelta)), mean: r3(stoiDelta.reduce((a, b) => a + b, 0) / stoiDelta.length) },
        aecFirstMoreEchoSplitFree: surely,
        aecFirstLessLeftFarEndOnly: lessTotal,
        aecFirstMoreNoiseLeftHalfSum: noiseDelta.filter((d) => d < 0).length,
        noiseAttenuationDeltaHalfSumDb: range(noiseDelta),
        linearFilterPairings: linDelta.length,
        linearFilterAecFirstMoreEcho: linDelta.filter((d) => d > 0).length,
        linearFilterErleDeltaDb: range(linDelta),
      },
      method: { nearDb: NEAR_DB, erleFromS: 2, split: 'phase inversion over the AEC, shadow filter over the NS', splitCheckDb: range(splitChecks), halfSumBiasLinearDb: { aecFirst: range(biasA), nsFirst: range(biasB) }, nsShadowVsChainMaxDiff: shadowVsChain },
      cases,
      seconds: r2((performance.now() - t0) / 1000),
      loadavg: r2(loadavg()[0]!),
    }) + '\n',
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
