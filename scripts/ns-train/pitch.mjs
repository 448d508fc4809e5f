// A pitch track for the NS_PITCH=oracle experiment of dsp.mjs (not in the guest):
// the normalised autocorrelation of one 960-sample segment, by a 2048-point FFT
// (no circular wrap up to the longest lag), its best lag in 100–600 samples
// (80–480 Hz), the shortest local maximum within 7% of it taken instead (octave
// errors), refined by a parabola. `gains` (per 1024-point bin) weights the power
// spectrum first and `pw` compresses it: that is how a noisy input was tried.
import { fftInPlace } from '../../dist/host/dsp/spectral.js';

const BINS = 513;
const PRE = new Float64Array(2048);
const PIM = new Float64Array(2048);
/** f0 (Hz) and voicing (the normalised autocorrelation at the period, ≥ 0) of one 960-sample segment. */
export function pitchOf(x, gains = null, pw = 1) {
  PRE.fill(0);
  PIM.fill(0);
  for (let n = 0; n < x.length; n++) PRE[n] = x[n];
  fftInPlace(PRE, PIM);
  for (let k = 0; k < 2048; k++) {
    const kk = k <= 1024 ? k : 2048 - k;
    const g = gains ? gains[Math.min(kk >> 1, BINS - 1)] : 1;
    const q = PRE[k] * PRE[k] + PIM[k] * PIM[k];
    PRE[k] = (pw === 1 ? q : q ** pw) * g * g;
    PIM[k] = 0;
  }
  fftInPlace(PRE, PIM, true);
  const r0 = PRE[0];
  if (!(r0 > 1e-9)) return { f0: 150, voicing: 0 };
  const LMIN = 100, LMAX = 600;
  const r = (l) => (PRE[l] / r0) * (x.length / (x.length - l));
  let best = LMIN, bestR = -1;
  for (let l = LMIN; l <= LMAX; l++) if (r(l) > bestR) { bestR = r(l); best = l; }
  // The shortest lag at a local maximum within 10% of the best (octave errors).
  for (let l = LMIN + 1; l < best; l++) {
    if (r(l) >= 0.93 * bestR && r(l) >= r(l - 1) && r(l) >= r(l + 1)) { best = l; break; }
  }
  const a = r(best - 1), b = r(best), c = r(best + 1);
  const den = a - 2 * b + c;
  const off = den < 0 ? Math.max(-0.5, Math.min(0.5, (0.5 * (a - c)) / den)) : 0;
  return { f0: 48000 / (best + off), voicing: Math.max(0, Math.min(1, b)) };
}
