// Coarse delay estimator between the far-end reference and the mic, on a
// wider range than the adaptive filter covers: -400 ms (reference late: the
// echo arrives before its reference, which no causal filter can cancel) to
// +1000 ms (reference early by more than the tail). It only reports; the
// filter does not follow it (a reference the client aligns sample for sample
// should never need it), so a far-off estimate means "fix the alignment".
//
// Method (the binary-spectrum correlation of WebRTC's delay estimator): per
// 10 ms block, 32 bands of 100 Hz from 300 Hz each give one bit, "above this
// band's running mean"; for every lag, a slowly smoothed count of matching bits
// between the mic's bits and the reference's bits that lag apart. Counting bits
// is cheap (one popcount per lag), and the bits do not care about the echo's
// level or the room's colouring.
import { RealFft, ptr } from "./fft";

export const BLOCK_MS: i32 = 10;
export const FAR_LAGS: i32 = 100;
export const MIC_LAGS: i32 = 40;
const BANDS: i32 = 32;
const FIRST_BIN: i32 = 3;

// @ts-ignore: decorator
@inline function ld(p: usize, i: i32): f32 {
  return load<f32>(p + (<usize>i << 2));
}

export class DelayEstimator {
  fft: RealFft = new RealFft(480);
  spec: StaticArray<f32> = new StaticArray<f32>(482);
  farMean: StaticArray<f32> = new StaticArray<f32>(BANDS);
  micMean: StaticArray<f32> = new StaticArray<f32>(BANDS);
  farBits: StaticArray<u32> = new StaticArray<u32>(FAR_LAGS);
  micBits: StaticArray<u32> = new StaticArray<u32>(MIC_LAGS);
  /** Smoothed match scores: [0, FAR_LAGS) reference early by i blocks; then [1, MIC_LAGS) reference late. */
  score: StaticArray<f32> = new StaticArray<f32>(FAR_LAGS + MIC_LAGS);
  head: i32 = 0;
  micHead: i32 = 0;
  updates: i32 = 0;
  /** Best lag in blocks (negative: reference late), and how far it stands out. */
  lag: i32 = 0;
  confidence: f32 = 0;

  reset(): void {
    this.farMean.fill(0);
    this.micMean.fill(0);
    this.farBits.fill(0);
    this.micBits.fill(0);
    this.score.fill(0);
    this.updates = 0;
    this.lag = 0;
    this.confidence = 0;
  }

  bits(xP: usize, mean: StaticArray<f32>): u32 {
    const s = ptr(this.spec);
    this.fft.forward(xP, s);
    let b: u32 = 0;
    for (let i = 0; i < BANDS; i++) {
      const k = FIRST_BIN + i;
      const p = Mathf.log(ld(s, 2 * k) * ld(s, 2 * k) + ld(s, 2 * k + 1) * ld(s, 2 * k + 1) + <f32>1e-9);
      const m = unchecked(mean[i]);
      if (p > m) b |= <u32>1 << <u32>i;
      unchecked((mean[i] = m + <f32>0.02 * (p - m)));
    }
    return b;
  }

  /** One 480-sample block of mic and far end; `farActive` gates the learning. */
  block(micP: usize, farP: usize, farActive: bool): void {
    const fb = this.bits(farP, this.farMean);
    const mb = this.bits(micP, this.micMean);
    this.head = this.head + 1 == FAR_LAGS ? 0 : this.head + 1;
    unchecked((this.farBits[this.head] = fb));
    this.micHead = this.micHead + 1 == MIC_LAGS ? 0 : this.micHead + 1;
    unchecked((this.micBits[this.micHead] = mb));
    if (!farActive) return;
    this.updates++;
    const a: f32 = 0.02;
    let best: f32 = -1, bi = 0, sum: f32 = 0;
    const n = FAR_LAGS + MIC_LAGS - 1;
    for (let i = 0; i < n; i++) {
      let x: u32;
      if (i < FAR_LAGS) {
        let j = this.head - i;
        if (j < 0) j += FAR_LAGS;
        x = mb ^ unchecked(this.farBits[j]);
      } else {
        let j = this.micHead - (i - FAR_LAGS + 1);
        if (j < 0) j += MIC_LAGS;
        x = fb ^ unchecked(this.micBits[j]);
      }
      const sim = <f32>(BANDS - <i32>popcnt(x)) / <f32>BANDS;
      const sc = unchecked(this.score[i]) + a * (sim - unchecked(this.score[i]));
      unchecked((this.score[i] = sc));
      sum += sc;
      if (sc > best) {
        best = sc;
        bi = i;
      }
    }
    this.lag = bi < FAR_LAGS ? bi : -(bi - FAR_LAGS + 1);
    this.confidence = best - sum / <f32>n;
  }
}
