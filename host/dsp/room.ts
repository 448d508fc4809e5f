// Offline synthetic rooms for measuring echo cancellation (tests, bench).
//
// Room model (docs/DSP.md "Room model"): the echo path from the speaker to
// the mic is
//   - a direct path at `delayMs` (the system delay: playout buffer + the
//     acoustic distance), one tap;
//   - six early reflections in the 2-25 ms after it, random sign, amplitude
//     falling with their delay;
//   - a diffuse tail from 3 ms after the direct path: seeded Gaussian noise,
//     low-passed (one pole at ~4 kHz: walls and air absorb the highs), under an
//     exponential envelope that falls 60 dB in `rt60S`, cut at -70 dB.
// The direct-to-reverberant energy ratio follows Sabine's critical distance:
// r_c = 0.057·sqrt(V / RT60), DRR = 20·log10(r_c / r), for a room of
// `volumeM3` (default 50 m³) and a speaker `distanceM` (default 0.3 m, a
// desktop speaker; a laptop's is closer and easier). The whole response is then
// scaled so that its energy is `echoGainDb` (white input in, echo out): for
// speech the echo level is within about a dB of it; `scaleToDb` sets it exactly.
// Everything is seeded (mulberry32), so a case is the same on every run.
import { join } from 'node:path';
import { readWav } from '../client/audio/wav.js';
import { fftInPlace } from './spectral.js';

export interface RoomOptions {
  rt60S: number;
  delayMs: number;
  /** Echo energy relative to the far-end signal (dB, e.g. -6). */
  echoGainDb: number;
  seed?: number;
  /** Room volume (m³) for the direct-to-reverberant ratio; default 50. */
  volumeM3?: number;
  /** Speaker-to-mic distance (m); default 0.3. */
  distanceM?: number;
}

/** Deterministic PRNG (mulberry32): uniform in [0, 1). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal samples from a uniform source (Box-Muller). */
export function gaussian(u: () => number): () => number {
  return () => Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
}

export function energy(x: Float32Array, from = 0, to = x.length): number {
  let e = 0;
  for (let i = Math.max(0, from); i < Math.min(to, x.length); i++) e += x[i]! * x[i]!;
  return e;
}

export function roomImpulseResponse(o: RoomOptions, sampleRate = 48000): Float32Array {
  const u = rng(o.seed ?? 1);
  const g = gaussian(u);
  const d = Math.round((o.delayMs / 1000) * sampleRate);
  // Cut where the envelope is 70 dB down: 70/60 of RT60.
  const tailLen = Math.ceil(((o.rt60S * 70) / 60) * sampleRate);
  const h = new Float32Array(d + tailLen + 1);
  const decay = (3 * Math.LN10) / (o.rt60S * sampleRate); // amplitude e^(-decay·n): -60 dB at RT60
  const start = Math.round(0.003 * sampleRate);
  const a = Math.exp((-2 * Math.PI * 4000) / sampleRate);
  let lp = 0;
  let diffuse = 0;
  for (let n = start; n < tailLen; n++) {
    lp = (1 - a) * g() + a * lp;
    const v = lp * Math.exp(-decay * n);
    h[d + n] = v;
    diffuse += v * v;
  }
  const early: number[] = [];
  for (let k = 0; k < 6; k++) {
    const at = Math.round((0.002 + 0.023 * u()) * sampleRate);
    const amp = (u() < 0.5 ? -1 : 1) * (0.25 + 0.35 * u()) * Math.exp((-at / sampleRate) * 40);
    early.push(at, amp);
  }
  const rc = 0.057 * Math.sqrt((o.volumeM3 ?? 50) / o.rt60S);
  const drr = Math.pow(rc / (o.distanceM ?? 0.3), 2); // direct / reverberant energy
  // Direct tap 1; reverberant part (early + diffuse) scaled to 1/drr of it.
  let earlyE = 0;
  for (let k = 0; k < early.length; k += 2) earlyE += early[k + 1]! ** 2;
  const rev = Math.sqrt(1 / drr / (earlyE + diffuse));
  for (let n = d; n < h.length; n++) h[n]! *= rev;
  for (let k = 0; k < early.length; k += 2) h[d + early[k]!]! += early[k + 1]! * rev;
  h[d]! += 1;
  const scale = Math.sqrt(Math.pow(10, o.echoGainDb / 10) / energy(h));
  for (let n = 0; n < h.length; n++) h[n]! *= scale;
  return h;
}


/** Linear convolution (length x + h - 1) by FFT overlap-add, in double precision. */
export function convolve(x: Float32Array, h: Float32Array): Float32Array {
  const out = new Float32Array(x.length + h.length - 1);
  let n = 1;
  while (n < 2 * h.length) n <<= 1;
  n = Math.max(n, 4096);
  const block = n - h.length + 1;
  const hr = new Float64Array(n);
  const hi = new Float64Array(n);
  for (let i = 0; i < h.length; i++) hr[i] = h[i]!;
  fftInPlace(hr, hi);
  const re = new Float64Array(n);
  const im = new Float64Array(n);
  for (let at = 0; at < x.length; at += block) {
    re.fill(0);
    im.fill(0);
    const m = Math.min(block, x.length - at);
    for (let i = 0; i < m; i++) re[i] = x[at + i]!;
    fftInPlace(re, im);
    for (let k = 0; k < n; k++) {
      const r = re[k]! * hr[k]! - im[k]! * hi[k]!;
      im[k] = re[k]! * hi[k]! + im[k]! * hr[k]!;
      re[k] = r;
    }
    fftInPlace(re, im, true);
    const end = Math.min(n, out.length - at);
    for (let i = 0; i < end; i++) out[at + i]! += re[i]! / n;
  }
  return out;
}

/** Sample-wise sum; the result is as long as the longest input (shorter ones count as silence after their end). */
export function mix(...signals: Float32Array[]): Float32Array {
  const out = new Float32Array(Math.max(0, ...signals.map((s) => s.length)));
  for (const s of signals) for (let i = 0; i < s.length; i++) out[i]! += s[i]!;
  return out;
}

export function dbToGain(db: number): number {
  return Math.pow(10, db / 20);
}

/** Mean power in dB (relative to full scale 1.0). */
export function powerDb(x: Float32Array, from = 0, to = x.length): number {
  return 10 * Math.log10(energy(x, from, to) / Math.max(1, Math.min(to, x.length) - from) + 1e-30);
}

/** A copy of `x` scaled so that its power is `db` relative to `relativeTo` (or to full scale when omitted). */
export function scaleToDb(x: Float32Array, db: number, relativeTo?: Float32Array): Float32Array {
  const target = relativeTo ? powerDb(relativeTo) + db : db;
  const g = dbToGain(target - powerDb(x));
  return x.map((v) => v * g);
}

/** `x` delayed by `samples` (negative: advanced), same length. */
export function delay(x: Float32Array, samples: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const j = i - samples;
    if (j >= 0 && j < x.length) out[i] = x[j]!;
  }
  return out;
}

/** `x` cut or zero-padded to `n` samples. */
export function fit(x: Float32Array, n: number): Float32Array {
  const out = new Float32Array(n);
  out.set(x.subarray(0, Math.min(n, x.length)));
  return out;
}

const FIXTURES = join(import.meta.dirname, '..', '..', '..', 'test', 'fixtures');

/** A mono 48 kHz fixture from test/fixtures (works from dist/ and from a ts runner). */
export function readFixture(name: string): Float32Array {
  const candidates = [join(FIXTURES, name), join(import.meta.dirname, '..', '..', 'test', 'fixtures', name)];
  let lastErr: unknown;
  for (const p of candidates) {
    try {
      const w = readWav(p);
      if (w.channels !== 1 || w.sampleRate !== 48000) throw new Error(`${name}: want 48 kHz mono, got ${w.sampleRate} Hz × ${w.channels}`);
      return w.samples;
    } catch (e) {
      lastErr = e;
      if ((e as { code?: string }).code !== 'ENOENT') throw e;
    }
  }
  throw lastErr;
}
