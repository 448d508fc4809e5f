// Measurements the audio tests state their thresholds in: alignment by
// cross-correlation, the normalised correlation peak, segmental SNR, levels.
export function rms(x: Float32Array, from = 0, to = x.length): number {
  let s = 0;
  for (let i = from; i < to; i++) s += x[i]! * x[i]!;
  return Math.sqrt(s / Math.max(1, to - from));
}

export function db(v: number): number {
  return 20 * Math.log10(Math.max(v, 1e-12));
}

function decimate(x: Float32Array, factor: number): Float32Array {
  const out = new Float32Array(Math.floor(x.length / factor));
  for (let i = 0; i < out.length; i++) {
    let s = 0;
    for (let k = 0; k < factor; k++) s += x[i * factor + k]!;
    out[i] = s / factor;
  }
  return out;
}

function corrAt(a: Float32Array, b: Float32Array, lag: number, step = 1): number {
  // sum a[i] * b[i + lag]
  let s = 0;
  const from = Math.max(0, -lag);
  const to = Math.min(a.length, b.length - lag);
  for (let i = from; i < to; i += step) s += a[i]! * b[i + lag]!;
  return s;
}

/** The lag (samples) at which `sig` best matches `ref` (sig[i + lag] ≈ ref[i]), searched in [0, maxLag]. */
export function findLag(ref: Float32Array, sig: Float32Array, maxLag: number, minLag = 0): number {
  // Coarse search on 8× decimated signals, then a fine one around the best.
  const f = 8;
  const rd = decimate(ref, f);
  const sd = decimate(sig, f);
  let best = minLag / f;
  let bestV = -Infinity;
  for (let l = Math.floor(minLag / f); l <= Math.ceil(maxLag / f); l++) {
    const v = corrAt(rd, sd, l);
    if (v > bestV) {
      bestV = v;
      best = l;
    }
  }
  let fine = best * f;
  bestV = -Infinity;
  for (let l = best * f - 2 * f; l <= best * f + 2 * f; l++) {
    if (l < minLag || l > maxLag) continue;
    const v = corrAt(ref, sig, l);
    if (v > bestV) {
      bestV = v;
      fine = l;
    }
  }
  return fine;
}

/** sig shifted so that it lines up with ref (length of ref, zero-padded). */
export function shift(sig: Float32Array, lag: number, length: number): Float32Array {
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) {
    const k = i + lag;
    if (k >= 0 && k < sig.length) out[i] = sig[k]!;
  }
  return out;
}

/** Normalised cross-correlation of two aligned signals (1 = identical shape). */
export function correlation(a: Float32Array, b: Float32Array): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    ab += a[i]! * b[i]!;
    aa += a[i]! * a[i]!;
    bb += b[i]! * b[i]!;
  }
  return ab / Math.sqrt(aa * bb || 1);
}

/**
 * Segmental SNR (dB) of `test` against `ref`: the mean over 20 ms frames of
 * each frame's SNR clamped to [-10, 35] dB, over frames where the reference
 * is not silent (its RMS is within 40 dB of the loudest frame).
 */
export function segmentalSnr(ref: Float32Array, test: Float32Array, frame = 960): number {
  const frames: { s: number; e: number }[] = [];
  let loudest = 0;
  for (let at = 0; at + frame <= Math.min(ref.length, test.length); at += frame) {
    let s = 0;
    let e = 0;
    for (let i = at; i < at + frame; i++) {
      s += ref[i]! * ref[i]!;
      const d = ref[i]! - test[i]!;
      e += d * d;
    }
    frames.push({ s, e });
    loudest = Math.max(loudest, s);
  }
  const floor = loudest * 1e-4;
  let sum = 0;
  let n = 0;
  for (const { s, e } of frames) {
    if (s < floor) continue;
    const snr = 10 * Math.log10(s / Math.max(e, 1e-20));
    sum += Math.max(-10, Math.min(35, snr));
    n++;
  }
  return n ? sum / n : -Infinity;
}

/** Longest run of consecutive exactly-zero samples inside [from, to) (a gap in playback). */
export function longestSilentRun(x: Float32Array, from = 0, to = x.length, eps = 1e-6): number {
  let best = 0;
  let run = 0;
  for (let i = from; i < to; i++) {
    if (Math.abs(x[i]!) < eps) {
      run++;
      if (run > best) best = run;
    } else run = 0;
  }
  return best;
}

export function stereoToMono(stereo: Float32Array): Float32Array {
  // The mixer pans a centred speaker by √½ per side; L + R undoes it exactly (√½ · 2 / √2 = 1).
  const out = new Float32Array(stereo.length >> 1);
  for (let i = 0; i < out.length; i++) out[i] = (stereo[2 * i]! + stereo[2 * i + 1]!) / Math.SQRT2;
  return out;
}

/**
 * Quality of `sig` against `ref` when the playout may have shifted by whole
 * frames along the way (a jitter buffer inserting or dropping a frame to
 * adapt): after one global alignment, each block of `blockMs` is re-aligned
 * by up to ±`maxFrames` whole frames, then segmental SNR and correlation are taken over the
 * re-assembled signal.
 */
export function blockAlignedQuality(ref: Float32Array, sig: Float32Array, globalLag: number, blockMs = 500, maxFrames = 4): { segSnrDb: number; correlation: number; aligned: Float32Array } {
  const block = blockMs * 48;
  const aligned = new Float32Array(ref.length);
  // A jitter buffer shifts playout by whole 960-sample frames: try those shifts (and a sample either side).
  const candidates: number[] = [];
  for (let f = -maxFrames; f <= maxFrames; f++) for (let d = -1; d <= 1; d++) candidates.push(globalLag + f * 960 + d);
  for (let at = 0; at < ref.length; at += block) {
    const end = Math.min(ref.length, at + block);
    let best = globalLag;
    let bestV = -Infinity;
    for (const l of candidates) {
      let v = 0;
      for (let i = at; i < end; i += 2) {
        const k = i + l;
        if (k >= 0 && k < sig.length) v += ref[i]! * sig[k]!;
      }
      if (v > bestV) {
        bestV = v;
        best = l;
      }
    }
    for (let i = at; i < end; i++) {
      const k = i + best;
      aligned[i] = k >= 0 && k < sig.length ? sig[k]! : 0;
    }
  }
  return { segSnrDb: segmentalSnr(ref, aligned), correlation: correlation(ref, aligned), aligned };
}
