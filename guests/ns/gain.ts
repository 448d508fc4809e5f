// Spectral gain per bin from the noisy power and the noise estimate.
//
// - A-priori SNR ξ by Ephraim & Malah's decision-directed rule: mostly the
//   previous hop's clean-speech estimate, a little of this hop's excess power.
//   That recursion is what keeps isolated noise peaks from opening the gain
//   for one hop ("musical noise"): a peak moves ξ by only 1 - α.
// - Two-step refinement (Plapous, Marro & Scalart 2006): the decision-directed
//   ξ lags the speech by a hop and is biased low at onsets and in weak speech;
//   ξ2 = G1²·γ, re-estimated from this hop's first-step Wiener gain G1, removes
//   most of that, and the gain is the Wiener gain of ξ2.
// - Under-subtraction: the gain sees half the estimated noise power. Measured
//   on the fixtures (docs/DSP.md), the full estimate suppresses weak speech
//   (−1.3 dB of speech level, STOI below the noisy input's at 5 dB SNR); at
//   half, speech keeps its level and STOI rises above the input's, while the
//   decision-directed smoothing still holds noise-only bins at the floor.
// - Floor: the gain never goes below 10^(-maxAttenuationDb/20). Bin 0
//   (0–23 Hz: no speech, but a third of the power of pink noise) always gets
//   the floor.
import { BINS } from "./noise-estimate";

/** Decision-directed weight. */
const ALPHA_DD: f32 = 0.98;
/** The fraction of the estimated noise power the gain rule subtracts (see above). */
const NOISE_SCALE: f32 = 0.5;

export const gains = new StaticArray<f32>(BINS);
/** |Ŝ|² of the previous hop (the clean-speech estimate), for the decision-directed rule. */
const cleanPrev = new StaticArray<f32>(BINS);

export function gainReset(): void {
  for (let k = 0; k < BINS; k++) {
    unchecked((gains[k] = 1));
    unchecked((cleanPrev[k] = 0));
  }
}

/** Fills `gains` from this hop's periodogram and noise estimate; gmin is the floor (linear amplitude). */
export function computeGains(power: StaticArray<f32>, noise: StaticArray<f32>, gmin: f32): void {
  const xiMin = gmin * gmin;
  for (let k = 0; k < BINS; k++) {
    const lambda = max<f32>(NOISE_SCALE * unchecked(noise[k]), 1e-20);
    const p = unchecked(power[k]);
    const gamma = min<f32>(p / lambda, 1e4);
    const xi = max<f32>(ALPHA_DD * (unchecked(cleanPrev[k]) / lambda) + (1 - ALPHA_DD) * max<f32>(gamma - 1, 0), xiMin);
    const g1 = xi / (1 + xi);
    const xi2 = g1 * g1 * gamma;
    const g = xi2 / (1 + xi2);
    unchecked((cleanPrev[k] = g * g * p));
    unchecked((gains[k] = k == 0 || g < gmin ? gmin : g));
  }
}
