// The echo-cancellation cases of the tests and the bench, built from the
// fixtures with the room model of room.ts, and their measurement:
//   far end   test/fixtures/speech-b.wav (the reference, as played)
//   near end  test/fixtures/speech-a.wav, 0 dB relative to the far end
//   echo      far end through the room's impulse response, echoGainDb relative to it
//   noise     test/fixtures/noise-pink.wav, `noiseSnrDb` below the echo
// Far-end-only cases (mic = echo [+ noise]) measure ERLE; double-talk cases
// (mic = echo + near) measure what is left of the near end.
import { convolve, delay, energy, fit, mix, readFixture, roomImpulseResponse, scaleToDb, type RoomOptions } from './room.js';
import { erleDb, erleWindowsDb, reconvergenceS } from './erle.js';
import { stoi } from './stoi.js';

export const SR = 48000;

export interface EchoCaseOptions {
  room: RoomOptions;
  /** Length (s); default: the far end's. */
  seconds?: number;
  /** Add the near talker (double talk). */
  nearEnd?: boolean;
  nearDb?: number;
  /** Pink noise this far below the echo (dB). */
  noiseSnrDb?: number;
  /** The echo path changes to `room2` at this time (s). */
  changeAtS?: number;
  room2?: RoomOptions;
  /** The reference handed to the canceller is this much later than the signal played (ms; the misalignment case). */
  referenceLateMs?: number;
}

export interface EchoCase {
  mic: Float32Array;
  reference: Float32Array;
  echo: Float32Array;
  near: Float32Array;
  noise: Float32Array;
}

function fixtureCache(): (name: string) => Float32Array {
  const cache = new Map<string, Float32Array>();
  return (name) => {
    let x = cache.get(name);
    if (!x) cache.set(name, (x = readFixture(name)));
    return x;
  };
}
const fixture = fixtureCache();

export function buildEchoCase(o: EchoCaseOptions): EchoCase {
  const farRaw = fixture('speech-b.wav');
  const n = Math.round((o.seconds ?? farRaw.length / SR) * SR);
  const far = fit(farRaw, n);
  let echo = fit(convolve(far, roomImpulseResponse(o.room)), n);
  if (o.changeAtS !== undefined && o.room2) {
    const at = Math.round(o.changeAtS * SR);
    const second = fit(convolve(far, roomImpulseResponse(o.room2)), n);
    echo = echo.map((v, i) => (i < at ? v : second[i]!));
  }
  const near = o.nearEnd ? scaleToDb(fit(fixture('speech-a.wav'), n), o.nearDb ?? 0, far) : new Float32Array(n);
  let noise: Float32Array = new Float32Array(n);
  if (o.noiseSnrDb !== undefined) {
    const pink = fixture('noise-pink.wav');
    const looped = new Float32Array(n).map((_, i) => pink[i % pink.length]!);
    noise = scaleToDb(looped, -o.noiseSnrDb, echo);
  }
  const reference = o.referenceLateMs ? delay(far, Math.round((o.referenceLateMs / 1000) * SR)) : far;
  return { mic: mix(echo, near, noise), reference, echo, near, noise };
}

export const BASE_ROOM: RoomOptions = { rt60S: 0.3, delayMs: 30, echoGainDb: -6, seed: 1 };
export const REVERB_ROOM: RoomOptions = { rt60S: 0.6, delayMs: 30, echoGainDb: -6, seed: 2 };
export const DELAY_ROOM: RoomOptions = { rt60S: 0.3, delayMs: 120, echoGainDb: -6, seed: 3 };

export interface EchoFigures {
  /** ERLE after 2 s (dB). */
  erleDb: number;
  /** Worst 0.5 s window after 2 s (hop 0.25 s). */
  worstWindowDb: number;
}

/** ERLE figures of a far-end-only run (residual = output; with noise, the noise left counts as residual). */
export function echoFigures(c: EchoCase, out: Float32Array): EchoFigures {
  const from = 2 * SR;
  const w = erleWindowsDb(c.echo, out, SR / 2, from, SR / 4);
  return { erleDb: erleDb(c.echo, out, from), worstWindowDb: w.length ? Math.min(...w) : NaN };
}

/** Re-convergence (s) after the change at changeAtS, to thresholdDb in 0.25 s windows. */
export function reconvergeFigure(c: EchoCase, out: Float32Array, changeAtS: number, thresholdDb: number): number {
  return reconvergenceS(c.echo, out, Math.round(changeAtS * SR), thresholdDb);
}

export interface NearFigures {
  /** Segmental SNR (dB) of the output against the clean near end, over 20 ms blocks where both talk. */
  segSnrDb: number;
  /** The same for the unprocessed mic (the do-nothing baseline). */
  segSnrMicDb: number;
  /** Near-end level change in double talk (dB): output vs the clean near end, echo excluded by projection. */
  nearLevelDb: number;
  /** Log-spectral distance (dB) output vs clean near end in double-talk blocks. */
  lsdDb: number;
  doubleTalkBlocks: number;
  /** STOI of the output and of the unprocessed mic against the clean near end, from fromSample on. */
  stoi: number;
  stoiMic: number;
}

/** How the near talker survives double talk (the stand-in for STOI until host/dsp/stoi.ts exists). */
export function nearFigures(c: EchoCase, out: Float32Array, latencySamples = 0, fromSample = 2 * SR): NearFigures {
  const B = 960;
  const nearP: number[] = [];
  const echoP: number[] = [];
  for (let at = 0; at + B <= c.near.length; at += B) {
    nearP.push(energy(c.near, at, at + B) / B);
    echoP.push(energy(c.echo, at, at + B) / B);
  }
  const nearMax = Math.max(...nearP);
  const echoMax = Math.max(...echoP);
  let seg = 0, segMic = 0, count = 0, lsd = 0, num = 0, den = 0;
  for (let b = Math.ceil(fromSample / B); b < nearP.length; b++) {
    if (nearP[b]! < nearMax * 1e-3 || echoP[b]! < echoMax * 1e-3) continue;
    const at = b * B;
    let err = 0, errMic = 0;
    for (let i = at; i < at + B; i++) {
      const o = out[i + latencySamples] ?? 0;
      err += (o - c.near[i]!) ** 2;
      errMic += (c.mic[i]! - c.near[i]!) ** 2;
      num += o * c.near[i]!;
      den += c.near[i]! * c.near[i]!;
    }
    const e = energy(c.near, at, at + B);
    seg += Math.max(-10, Math.min(35, 10 * Math.log10(e / (err + 1e-20))));
    segMic += Math.max(-10, Math.min(35, 10 * Math.log10(e / (errMic + 1e-20))));
    lsd += bandLsd(c.near, out, at, latencySamples);
    count++;
  }
  return {
    segSnrDb: seg / count,
    segSnrMicDb: segMic / count,
    nearLevelDb: 20 * Math.log10(Math.max(num / den, 1e-6)),
    lsdDb: lsd / count,
    doubleTalkBlocks: count,
    stoi: stoi(c.near.subarray(fromSample, out.length - latencySamples), out.subarray(fromSample + latencySamples), SR),
    stoiMic: stoi(c.near.subarray(fromSample), c.mic.subarray(fromSample), SR),
  };
}

// Log-spectral distance over 24 bands of one 20 ms block (Goertzel-free: a naive DFT on 40 bins is enough here).
function bandLsd(ref: Float32Array, out: Float32Array, at: number, lat: number): number {
  const B = 960;
  let sum = 0;
  let bands = 0;
  for (let k = 4; k < 160; k += 6) {
    let rr = 0, ri = 0, or = 0, oi = 0;
    for (let i = 0; i < B; i++) {
      const w = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / B);
      const c = Math.cos((2 * Math.PI * k * i) / B) * w;
      const s = Math.sin((2 * Math.PI * k * i) / B) * w;
      rr += ref[at + i]! * c;
      ri += ref[at + i]! * s;
      const o = out[at + i + lat] ?? 0;
      or += o * c;
      oi += o * s;
    }
    const d = 10 * Math.log10((rr * rr + ri * ri + 1e-10) / (or * or + oi * oi + 1e-10));
    sum += d * d;
    bands++;
  }
  return Math.sqrt(sum / bands);
}
