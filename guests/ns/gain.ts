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
// - Floor: the gain never goes below 10^(-maxAttenuationDb/20) in hops
//   without speech. In hops with speech (and 100 ms after) the floor is
//   10^(-SPEECH_FLOOR_DB/20) = −22 dB instead, when that is the higher of the
//   two. The decision-directed ξ has a stable low state: a bin at 0 dB local
//   SNR that starts from noise stays near the floor (docs/DSP.md, "What was
//   tried"). Weak speech in such bins is then lost under a 30 dB floor; a
//   22 dB one keeps more of it, and the extra residual noise is under speech.
//   A hop has speech when its power over 280 Hz – 4 kHz (bins 6..85) is over
//   twice the noise estimate there (3 dB). Bin 0 (0–23 Hz: no speech, but a
//   third of the power of pink noise) always gets the lower floor.
import { BINS } from "./noise-estimate";

/** Decision-directed weight. */
const ALPHA_DD: f32 = 0.98;
/** The fraction of the estimated noise power the gain rule subtracts (see above). */
const NOISE_SCALE: f32 = 0.5;
/** The floor in hops with speech (dB below unity), when higher than the configured one. */
const SPEECH_FLOOR: f32 = <f32>Math.pow(10, -22.0 / 20.0);
/** Speech band for the hop decision (280 Hz – 4 kHz) and its threshold (power over noise). */
const VAD_LO: i32 = 6;
const VAD_HI: i32 = 86;
const VAD_RATIO: f32 = 2.0;
/** Hops the speech floor is held after the last speech hop (100 ms). */
const HANG: i32 = 10;
let hang: i32 = 0;

export const gains = new StaticArray<f32>(BINS);
/** The two-step gain before any floor: one of the learned gain's features (model.ts). */
export const classic = new StaticArray<f32>(BINS);
/** This hop's power over its noise estimate in 280 Hz – 4 kHz (the hop VAD's statistic; a model feature). */
export let vadRatio: f32 = 1;
/** |Ŝ|² of the previous hop (the clean-speech estimate), for the decision-directed rule. */
const cleanPrev = new StaticArray<f32>(BINS);

export function gainReset(): void {
  for (let k = 0; k < BINS; k++) {
    unchecked((gains[k] = 1));
    unchecked((classic[k] = 1));
    unchecked((cleanPrev[k] = 0));
  }
  hang = 0;
  vadRatio = 1;
}

/** Fills `gains` from this hop's periodogram and noise estimate; gmin is the floor (linear amplitude). */
export function computeGains(power: StaticArray<f32>, noise: StaticArray<f32>, gmin: f32): void {
  const xiMin = gmin * gmin;
  let py: f32 = 0;
  let pn: f32 = 0;
  for (let k = VAD_LO; k < VAD_HI; k++) {
    py += unchecked(power[k]);
    pn += unchecked(noise[k]);
  }
  vadRatio = pn > 0 ? py / pn : 1e6;
  if (py > VAD_RATIO * pn) hang = HANG;
  else if (hang > 0) hang--;
  const floor = hang > 0 ? max<f32>(gmin, SPEECH_FLOOR) : gmin;
  for (let k = 0; k < BINS; k++) {
    const lambda = max<f32>(NOISE_SCALE * unchecked(noise[k]), 1e-20);
    const p = unchecked(power[k]);
    const gamma = min<f32>(p / lambda, 1e4);
    const xi = max<f32>(ALPHA_DD * (unchecked(cleanPrev[k]) / lambda) + (1 - ALPHA_DD) * max<f32>(gamma - 1, 0), xiMin);
    const g1 = xi / (1 + xi);
    const xi2 = g1 * g1 * gamma;
    const g = xi2 / (1 + xi2);
    unchecked((cleanPrev[k] = g * g * p));
    unchecked((classic[k] = g));
    unchecked((gains[k] = k == 0 ? gmin : max<f32>(g, floor)));
  }
}
