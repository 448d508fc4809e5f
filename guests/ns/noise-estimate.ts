// Noise power estimate per frequency bin: minima-controlled recursive
// averaging (after Cohen & Berdugo's MCRA, with the windowed-minimum search of
// Martin's minimum statistics), written for 10 ms hops.
//
// Why this shape:
// - A recursive average of the periodogram follows the noise well but eats
//   speech; the minimum of the smoothed power over ~1.5 s does not eat speech
//   (speech has pauses, between words and between harmonics) but is biased
//   low and lags. So the minimum is only used to *decide* where speech is
//   (the ratio of the smoothed power to its minimum), and the estimate itself
//   is a recursive average that stops where speech is likely. It therefore
//   tracks noise that rises or falls over seconds, and holds through speech.
// - The minimum is searched over U sub-windows of V hops (Martin), so it costs
//   one compare per bin and hop instead of a search over 150 stored values.
// - A bin whose periodogram jumps far above the estimate is frozen at once,
//   before the (smoothed) presence probability has caught up with an onset.

export const BINS: i32 = 513;

/** Sub-windows of the minimum search and hops per sub-window: 6 × 25 × 10 ms = 1.5 s. */
const U: i32 = 6;
const V: i32 = 25;
/** Smoothing of the power over time (≈ 50 ms) for the minimum search. */
const ALPHA_S: f32 = 0.8;
/** Ratio of smoothed power to its minimum above which a bin counts as speech (6 dB; noise alone exceeds 3.8 in 1% of hops). */
const DELTA: f32 = 4.0;
/** Smoothing of the speech presence probability. */
const ALPHA_P: f32 = 0.2;
/** Noise averaging constant where there is no speech (≈ 0.2 s). */
const ALPHA_D: f32 = 0.99;
/** A periodogram this far above the noise estimate freezes the bin for this hop. */
const JUMP: f32 = 12.0;
/**
 * The windowed minimum of the smoothed power is ~1.9× below the mean for
 * noise (measured on the pink fixture with these constants); the estimate is
 * kept below BIAS × minimum, so speech that slips past the presence decision
 * cannot lift it more than ~1 dB above the noise.
 */
const BIAS: f32 = 2.4;
/**
 * And above FLOOR × minimum: when the noise rises, the presence decision holds
 * the average back (the new noise looks like speech) until the minimum search
 * has seen 1.5 s of it; from then on the estimate is within ~2 dB at once.
 */
const FLOOR: f32 = 1.5;
/** The mean-to-minimum ratio of noise with these constants (measured, see above). */
const MIN_RATIO: f32 = 1.9;
/** Hops at start during which every bin is taken to be noise (a plain running mean). */
const INIT_HOPS: i32 = 15;

/** The noise power estimate (the output). */
export const noise = new StaticArray<f32>(BINS);
/** Speech presence probability per bin, in [0, 1]. */
export const presence = new StaticArray<f32>(BINS);

const smooth = new StaticArray<f32>(BINS);
const minNow = new StaticArray<f32>(BINS);
const minSub = new StaticArray<f32>(BINS);
const minStore = new StaticArray<f32>(U * BINS);
let hops: i32 = 0;
let subCount: i32 = 0;
let subIndex: i32 = 0;

export function noiseReset(): void {
  hops = 0;
  subCount = 0;
  subIndex = 0;
  for (let k = 0; k < BINS; k++) {
    unchecked((noise[k] = 0));
    unchecked((presence[k] = 0));
  }
}

/** Updates the estimate with this hop's periodogram `power` (|Y(k)|², BINS values). */
export function noiseUpdate(power: StaticArray<f32>): void {
  hops++;
  if (hops <= INIT_HOPS) {
    // Start-up: a plain running mean, taken as noise. A minimum over so few
    // hops would be far below the mean (a single periodogram value can be a
    // tenth of it), so the minimum search starts from mean / MIN_RATIO.
    const w: f32 = 1.0 / <f32>hops;
    for (let k = 0; k < BINS; k++) unchecked((noise[k] = noise[k] + w * (power[k] - noise[k])));
    if (hops == INIT_HOPS) {
      for (let k = 0; k < BINS; k++) {
        const n = unchecked(noise[k]);
        const m = n / MIN_RATIO;
        unchecked((smooth[k] = n));
        unchecked((minNow[k] = m));
        unchecked((minSub[k] = n));
        for (let u = 0; u < U; u++) unchecked((minStore[u * BINS + k] = m));
      }
    }
    return;
  }
  subCount++;
  const endOfSub = subCount >= V;
  for (let k = 0; k < BINS; k++) {
    // Frequency smoothing over three bins: the minimum of a smoothed value has
    // far less variance. Not at the edges, where the noise's slope is steepest
    // (pink and brown noise put a third or more of their power in bin 0).
    let pf = unchecked(power[k]);
    if (k > 0 && k < BINS - 1) pf = <f32>0.25 * unchecked(power[k - 1]) + <f32>0.5 * pf + <f32>0.25 * unchecked(power[k + 1]);
    const s: f32 = ALPHA_S * unchecked(smooth[k]) + (1 - ALPHA_S) * pf;
    unchecked((smooth[k] = s));
    let ms = unchecked(minSub[k]);
    if (s < ms) ms = s;
    let mn = unchecked(minNow[k]);
    if (s < mn) mn = s;
    if (endOfSub) {
      // The sub-window ends: store its minimum, and the window's minimum becomes the min of the stored ones.
      unchecked((minStore[subIndex * BINS + k] = ms));
      mn = ms;
      for (let u = 0; u < U; u++) {
        const v = unchecked(minStore[u * BINS + k]);
        if (v < mn) mn = v;
      }
      ms = s;
    }
    unchecked((minSub[k] = ms));
    unchecked((minNow[k] = mn));

    const indicator: f32 = s > DELTA * mn ? 1.0 : 0.0;
    let pr = ALPHA_P * unchecked(presence[k]) + (1 - ALPHA_P) * indicator;
    const n = unchecked(noise[k]);
    const p = unchecked(power[k]);
    if (p > JUMP * n) pr = max<f32>(pr, 1.0);
    unchecked((presence[k] = pr));
    const ad = ALPHA_D + (1 - ALPHA_D) * pr;
    unchecked((noise[k] = min<f32>(max<f32>(ad * n + (1 - ad) * p, FLOOR * mn), BIAS * mn)));
  }
  if (endOfSub) {
    subCount = 0;
    subIndex = (subIndex + 1) % U;
  }
}
