// Spectral and level measures the DSP benches and tests state their figures
// in (definitions: docs/DSP.md "Measures"). Signals are plain sample arrays
// at one sample rate; "dBFS" is relative to a full-scale square wave (a
// signal of RMS 1), so a full-scale sine is −3 dBFS.

/** In-place radix-2 complex FFT (unnormalised; `inverse` flips the sign of the exponent); re.length must be a power of two. */
export function fftInPlace(re: Float64Array, im: Float64Array, inverse = false): void {
  const n = re.length;
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      [re[i], re[j]] = [re[j]!, re[i]!];
      [im[i], im[j]] = [im[j]!, im[i]!];
    }
  }
  for (let size = 2; size <= n; size <<= 1) {
    const half = size >> 1;
    const ang = ((inverse ? 2 : -2) * Math.PI) / size;
    const wr = Math.cos(ang);
    const wi = Math.sin(ang);
    for (let start = 0; start < n; start += size) {
      let cr = 1;
      let ci = 0;
      for (let k = 0; k < half; k++) {
        const a = start + k;
        const b = a + half;
        const tr = re[b]! * cr - im[b]! * ci;
        const ti = re[b]! * ci + im[b]! * cr;
        re[b] = re[a]! - tr;
        im[b] = im[a]! - ti;
        re[a] = re[a]! + tr;
        im[a] = im[a]! + ti;
        const t = cr * wr - ci * wi;
        ci = cr * wi + ci * wr;
        cr = t;
      }
    }
  }
}

const db10 = (p: number): number => 10 * Math.log10(Math.max(p, 1e-30));

/** Energy ratio before/after in dB: how much `after` is quieter than `before`. */
export function attenuationDb(before: ArrayLike<number>, after: ArrayLike<number>, from = 0, to = Math.min(before.length, after.length)): number {
  return db10(energy(before, from, to)) - db10(energy(after, from, to));
}

export function energy(x: ArrayLike<number>, from = 0, to = x.length): number {
  let s = 0;
  for (let i = from; i < to; i++) s += x[i]! * x[i]!;
  return s;
}

/** RMS level in dBFS (20·log10 RMS). */
export function levelDbfs(x: ArrayLike<number>, from = 0, to = x.length): number {
  return db10(energy(x, from, to) / Math.max(1, to - from));
}

/** The signal moved earlier by `delay` samples (a processor's latency taken out), same length, zero-padded at the end. */
export function advance(x: Float32Array, delay: number): Float32Array {
  const out = new Float32Array(x.length);
  out.set(x.subarray(delay));
  return out;
}

/** Frames of `frameLen` samples, hop `hop`, whose energy in `ref` is within `rangeDb` of ref's loudest frame. */
export function activeFrames(ref: ArrayLike<number>, frameLen: number, hop: number, rangeDb = 40): number[] {
  const e: number[] = [];
  for (let s = 0; s + frameLen <= ref.length; s += hop) e.push(db10(energy(ref, s, s + frameLen)));
  const top = Math.max(...e);
  const out: number[] = [];
  e.forEach((v, i) => {
    if (v > top - rangeDb) out.push(i * hop);
  });
  return out;
}

/** Active speech level (dBFS): RMS over the 20 ms frames within 40 dB of the loudest (a simple stand-in for ITU-T P.56). */
export function activeLevelDbfs(ref: ArrayLike<number>, x: ArrayLike<number> = ref, sampleRate = 48_000): number {
  const len = Math.round(sampleRate * 0.02);
  const frames = activeFrames(ref, len, len);
  let e = 0;
  for (const s of frames) e += energy(x, s, s + len);
  return db10(e / Math.max(1, frames.length * len));
}

function hann(n: number): Float64Array {
  const w = new Float64Array(n);
  for (let i = 0; i < n; i++) w[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / n);
  return w;
}

/** Power spectrum (bins 0..n/2) of x[start, start+n) under window w. */
function framePower(x: ArrayLike<number>, start: number, w: Float64Array, re: Float64Array, im: Float64Array, out: Float64Array): void {
  const n = w.length;
  for (let i = 0; i < n; i++) {
    re[i] = (x[start + i] ?? 0) * w[i]!;
    im[i] = 0;
  }
  fftInPlace(re, im);
  for (let k = 0; k <= n / 2; k++) out[k] = re[k]! * re[k]! + im[k]! * im[k]!;
}

export interface LsdOptions {
  sampleRate?: number;
  /** Analysis frame (power of two); default 1024 (21 ms at 48 kHz), hop half of it. */
  frameLen?: number;
  /** Band over which the spectra are compared; default 50 Hz – 8 kHz. */
  loHz?: number;
  hiHz?: number;
  /** Frames count when the clean frame is within this of the loudest clean frame; default 40 dB. */
  rangeDb?: number;
  /** Both spectra are floored this far below the clean spectrogram's peak bin; default 80 dB. */
  floorDb?: number;
}

/**
 * Log-spectral distance (dB) of `test` from `clean`: per active frame, the RMS
 * over the band's bins of 10·log10(P_clean / P_test), both floored; then the
 * mean over active frames. 0 for identical signals; scale-sensitive on purpose
 * (a suppressor that lowers the speech is distorting it).
 */
export function logSpectralDistanceDb(clean: ArrayLike<number>, test: ArrayLike<number>, o: LsdOptions = {}): number {
  const fs = o.sampleRate ?? 48_000;
  const n = o.frameLen ?? 1024;
  const hop = n / 2;
  const lo = Math.max(0, Math.round(((o.loHz ?? 50) * n) / fs));
  const hi = Math.min(n / 2, Math.round(((o.hiHz ?? 8000) * n) / fs));
  const frames = activeFrames(clean, n, hop, o.rangeDb ?? 40);
  const w = hann(n);
  const re = new Float64Array(n);
  const im = new Float64Array(n);
  const pc = new Float64Array(n / 2 + 1);
  const pt = new Float64Array(n / 2 + 1);
  let peak = 0;
  for (const s of frames) {
    framePower(clean, s, w, re, im, pc);
    for (let k = lo; k <= hi; k++) peak = Math.max(peak, pc[k]!);
  }
  const floor = peak * 10 ** (-(o.floorDb ?? 80) / 10);
  let sum = 0;
  for (const s of frames) {
    framePower(clean, s, w, re, im, pc);
    framePower(test, s, w, re, im, pt);
    let acc = 0;
    for (let k = lo; k <= hi; k++) {
      const d = db10(Math.max(pc[k]!, floor)) - db10(Math.max(pt[k]!, floor));
      acc += d * d;
    }
    sum += Math.sqrt(acc / (hi - lo + 1));
  }
  return sum / Math.max(1, frames.length);
}

/** Segmental SNR (dB) of `test` against `clean`: per active 20 ms frame, clamped to [−10, 35] dB, averaged. */
export function segmentalSnrDb(clean: ArrayLike<number>, test: ArrayLike<number>, sampleRate = 48_000): number {
  const len = Math.round(sampleRate * 0.02);
  const frames = activeFrames(clean, len, len);
  let sum = 0;
  for (const s of frames) {
    let es = 0;
    let en = 0;
    for (let i = s; i < s + len; i++) {
      const c = clean[i]!;
      const d = (test[i] ?? 0) - c;
      es += c * c;
      en += d * d;
    }
    sum += Math.min(35, Math.max(-10, db10(es) - db10(en)));
  }
  return sum / Math.max(1, frames.length);
}
