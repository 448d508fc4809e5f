// In-place radix-2 complex FFT of a fixed size (NFFT = 1024).
//
// Why 1024 and not 960: the analysis window is 960 samples (20 ms, two hops
// of 10 ms per capture frame), zero-padded to the next power of two. The
// padding costs nothing in latency (latency is set by the window and hop, not
// the transform size) and keeps the transform a plain radix-2 one, which is
// easy to read and to check. Twiddles and the bit-reversal permutation are
// computed once at start-up into static arrays: nothing is allocated per frame.

export const NFFT: i32 = 1024;
const LOG2N: i32 = 10;
const HALF: i32 = NFFT >> 1;

const cosT = new StaticArray<f32>(HALF);
const sinT = new StaticArray<f32>(HALF);
const rev = new StaticArray<i32>(NFFT);
let ready = false;

export function fftInit(): void {
  if (ready) return;
  ready = true;
  for (let i = 0; i < HALF; i++) {
    const a = (2.0 * Math.PI * <f64>i) / <f64>NFFT;
    unchecked((cosT[i] = <f32>Math.cos(a)));
    unchecked((sinT[i] = <f32>Math.sin(a)));
  }
  for (let i = 0; i < NFFT; i++) {
    let r = 0;
    let x = i;
    for (let b = 0; b < LOG2N; b++) {
      r = (r << 1) | (x & 1);
      x >>= 1;
    }
    unchecked((rev[i] = r));
  }
}

/**
 * Transforms (re, im) in place. forward: X[k] = Σ x[n] e^{-2πikn/N};
 * inverse: x[n] = (1/N) Σ X[k] e^{+2πikn/N}, so forward then inverse is the identity.
 */
export function fft(re: StaticArray<f32>, im: StaticArray<f32>, inverse: bool): void {
  for (let i = 0; i < NFFT; i++) {
    const j = unchecked(rev[i]);
    if (j > i) {
      const tr = unchecked(re[i]);
      unchecked((re[i] = re[j]));
      unchecked((re[j] = tr));
      const ti = unchecked(im[i]);
      unchecked((im[i] = im[j]));
      unchecked((im[j] = ti));
    }
  }
  const sign: f32 = inverse ? 1.0 : -1.0;
  for (let size = 2; size <= NFFT; size <<= 1) {
    const half = size >> 1;
    const step = NFFT / size;
    for (let start = 0; start < NFFT; start += size) {
      for (let k = 0; k < half; k++) {
        const wr = unchecked(cosT[k * step]);
        const wi = sign * unchecked(sinT[k * step]);
        const a = start + k;
        const b = a + half;
        const br = unchecked(re[b]);
        const bi = unchecked(im[b]);
        const tr = br * wr - bi * wi;
        const ti = br * wi + bi * wr;
        const ar = unchecked(re[a]);
        const ai = unchecked(im[a]);
        unchecked((re[b] = ar - tr));
        unchecked((im[b] = ai - ti));
        unchecked((re[a] = ar + tr));
        unchecked((im[a] = ai + ti));
      }
    }
  }
  if (inverse) {
    const s: f32 = 1.0 / <f32>NFFT;
    for (let i = 0; i < NFFT; i++) {
      unchecked((re[i] = re[i] * s));
      unchecked((im[i] = im[i] * s));
    }
  }
}
