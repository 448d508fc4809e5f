// What the adaptive filter says about the room, for the suppressor and the
// stats: the decay of its tail (the reverberation it cannot model past its
// length) and its strongest tap (the echo's delay).
//
// Both read the foreground's causal taps (0..N-1) in the time domain, one
// partition per block (one inverse FFT), so a whole scan takes M blocks: the
// frequency-domain energy of a partition would also count the wrapped-around
// half that AUMDF's partial constraint leaves in it.
import { Mdf, N, K, MAX_M } from "./mdf";
import { ptr } from "./fft";

// @ts-ignore: decorator
@inline function ld(p: usize, i: i32): f32 {
  return load<f32>(p + (<usize>i << 2));
}

export class TailScan {
  /** Per partition: energy, largest |tap| and its position, of the causal taps 0..N-1. */
  energy: StaticArray<f32> = new StaticArray<f32>(MAX_M);
  peak: StaticArray<f32> = new StaticArray<f32>(MAX_M);
  peakAt: StaticArray<i32> = new StaticArray<i32>(MAX_M);
  next: i32 = 0;

  reset(): void {
    this.energy.fill(0);
    this.peak.fill(0);
    this.peakAt.fill(0);
    this.next = 0;
  }

  /** Scans the next partition of the foreground filter (one inverse FFT). */
  step(m: Mdf): void {
    if (this.next >= m.M) this.next = 0;
    const j = this.next++;
    const tmp = ptr(m.tmp);
    m.fft.inverse(ptr(m.Wf) + (<usize>(j * 2 * K) << 2), tmp);
    let e: f32 = 0, best: f32 = 0, at = 0;
    for (let t = 0; t < N; t++) {
      const v = ld(tmp, t);
      e += v * v;
      const a = Mathf.abs(v);
      if (a > best) {
        best = a;
        at = t;
      }
    }
    unchecked((this.energy[j] = e));
    unchecked((this.peak[j] = best));
    unchecked((this.peakAt[j] = at));
  }

  /** The strongest tap of the foreground filter (samples), -1 when it is empty. */
  peakTap(m: Mdf): i32 {
    let best: f32 = 0, bj = -1;
    for (let j = 0; j < m.M; j++) {
      if (unchecked(this.peak[j]) > best) {
        best = unchecked(this.peak[j]);
        bj = j;
      }
    }
    return bj < 0 || best < <f32>1e-4 ? -1 : bj * N + unchecked(this.peakAt[bj]);
  }

  /**
   * Power decay per block of the modelled echo path's tail: a least-squares
   * line through the log energies of the partitions after the strongest. It is
   * the room's reverberation, which goes on past the tail the filter covers:
   * the suppressor extends its residual estimate with it. 0 when the filter
   * holds too little to say.
   */
  tailDecay(m: Mdf): f32 {
    const M = m.M;
    let peak = 0;
    let best: f32 = 0;
    for (let j = 0; j < M; j++) {
      if (unchecked(this.energy[j]) > best) {
        best = unchecked(this.energy[j]);
        peak = j;
      }
    }
    const from = peak + 2;
    const n = M - from;
    if (n < 6 || best <= 0) return 0;
    let sx: f32 = 0, sy: f32 = 0, sxx: f32 = 0, sxy: f32 = 0;
    for (let j = from; j < M; j++) {
      const x = <f32>j, y = Mathf.log10(unchecked(this.energy[j]) + best * <f32>1e-9);
      sx += x;
      sy += y;
      sxx += x * x;
      sxy += x * y;
    }
    const slope = (<f32>n * sxy - sx * sy) / (<f32>n * sxx - sx * sx);
    return Mathf.pow(10, slope);
  }
}
