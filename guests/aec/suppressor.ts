// Residual echo suppressor: a per-bin gain on the linear canceller's output.
//
// Analysis/synthesis: 480-sample sqrt-Hann windows, hop 240 (5 ms of added
// latency, the whole canceller's), FFT 480 (100 Hz bins).
// Residual echo power per bin: R = over · leak · |Y|², where Y is the
// spectrum of the linear echo estimate over the same window and leak the
// canceller's regression of error power on echo-estimate power (the share of
// the error that is still echo), plus a decaying memory of R that covers the
// echo's reverberant tail beyond what the linear filter models.
// Gain: Wiener on a decision-directed a-priori near-end-to-residual ratio:
//   xi = b·(G_prev² |E_prev|²)/R_prev + (1-b)·max(|E|²/R - 1, 0),  G = xi/(1+xi)
// floored at -suppressionDb. A bin where the near talker is well above the
// residual keeps G ≈ 1: only what the canceller could not remove is taken, so
// double talk is not ducked as a whole.
import { RealFft, ptr } from "./fft";

export const WIN: i32 = 480;
export const HOP: i32 = 240;
export const BINS: i32 = WIN / 2 + 1;

// @ts-ignore: decorator
@inline function ld(p: usize, i: i32): f32 {
  return load<f32>(p + (<usize>i << 2));
}
// @ts-ignore: decorator
@inline function st(p: usize, i: i32, v: f32): void {
  store<f32>(p + (<usize>i << 2), v);
}

export class Suppressor {
  fft: RealFft = new RealFft(WIN);
  win: StaticArray<f32> = new StaticArray<f32>(WIN);
  eHist: StaticArray<f32> = new StaticArray<f32>(WIN);
  yHist: StaticArray<f32> = new StaticArray<f32>(WIN);
  ola: StaticArray<f32> = new StaticArray<f32>(WIN);
  tmp: StaticArray<f32> = new StaticArray<f32>(WIN);
  Es: StaticArray<f32> = new StaticArray<f32>(2 * BINS);
  Ys: StaticArray<f32> = new StaticArray<f32>(2 * BINS);
  R: StaticArray<f32> = new StaticArray<f32>(BINS);
  prevSnr: StaticArray<f32> = new StaticArray<f32>(BINS);
  gain: StaticArray<f32> = new StaticArray<f32>(BINS);
  minGain: f32 = 0.01;
  /** Over-estimation of the residual with the far end alone, and in double talk. */
  over: f32 = 8.0;
  overNear: f32 = 1.0;
  /** Most attenuation in double talk (the near talker is not ducked below it). */
  minGainNear: f32 = 0.4;
  /** Per-hop decay of the residual memory (~0.3 s to -60 dB). */
  decay: f32 = 0.79;
  enabled: bool = true;
  /** Energies of the last hop: in, out, and the residual estimate. */
  inE: f32 = 0;
  lastOver: f32 = 4;
  lateGain: f32 = <f32>0.5 / <f32>(32768.0 * 32768.0);
  outE: f32 = 0;
  resE: f32 = 0;

  constructor() {
    for (let i = 0; i < WIN; i++) this.win[i] = <f32>Math.sqrt(0.5 - 0.5 * Math.cos((2 * Math.PI * <f64>i) / <f64>WIN));
    this.reset();
  }

  reset(): void {
    this.eHist.fill(0);
    this.yHist.fill(0);
    this.ola.fill(0);
    this.R.fill(0);
    this.prevSnr.fill(0);
    this.gain.fill(1);
  }

  setMaxSuppressionDb(db: f32): void {
    this.minGain = Mathf.pow(10, -db / 20);
  }

  /** One hop: HOP samples of error and echo estimate in; HOP output samples (5 ms late) to outP. */
  /**
   * latP: the canceller's late-reverberation power per bin (BINS values, the
   * MDF's spectrum scale: int16 samples, rectangular 480-window), or 0.
   */
  hop(eP: usize, yP: usize, leak: f32, nearP: f32, lateP: usize, outP: usize): void {
    const eh = ptr(this.eHist), yh = ptr(this.yHist), w = ptr(this.win), tmp = ptr(this.tmp);
    memory.copy(eh, eh + (<usize>HOP << 2), <usize>(WIN - HOP) << 2);
    memory.copy(yh, yh + (<usize>HOP << 2), <usize>(WIN - HOP) << 2);
    memory.copy(eh + (<usize>(WIN - HOP) << 2), eP, <usize>HOP << 2);
    memory.copy(yh + (<usize>(WIN - HOP) << 2), yP, <usize>HOP << 2);
    const Es = ptr(this.Es), Ys = ptr(this.Ys);
    for (let i = 0; i < WIN; i++) st(tmp, i, ld(eh, i) * ld(w, i));
    this.fft.forward(tmp, Es);
    for (let i = 0; i < WIN; i++) st(tmp, i, ld(yh, i) * ld(w, i));
    this.fft.forward(tmp, Ys);

    const R = ptr(this.R), ps = ptr(this.prevSnr), g = ptr(this.gain);
    const over = this.over + (this.overNear - this.over) * nearP;
    let lk = leak * over;
    if (lk > 1) lk = 1;
    const gmin = Mathf.exp(Mathf.log(this.minGain) * (1 - nearP) + Mathf.log(Mathf.max(this.minGain, this.minGainNear)) * nearP);
    this.lastOver = over;
    let inE: f32 = 0, outE: f32 = 0, resE: f32 = 0;
    for (let k = 0; k < BINS; k++) {
      const er = ld(Es, 2 * k), ei = ld(Es, 2 * k + 1);
      const yr = ld(Ys, 2 * k), yi = ld(Ys, 2 * k + 1);
      const pe = er * er + ei * ei;
      // MDF scale to this one: 1/32768², and a sqrt-Hann window holds half the energy of a rectangular one.
      let r = lk * (yr * yr + yi * yi) + (lateP ? this.lateGain * ld(lateP, k) : 0);
      const tail = this.decay * ld(R, k);
      if (tail > r) r = tail;
      st(R, k, r);
      let gk: f32 = 1;
      if (this.enabled) {
        const post = pe / (r + <f32>1e-12);
        let prior = <f32>0.6 * ld(ps, k) + <f32>0.4 * Mathf.max(post - 1, 0);
        gk = prior / (1 + prior);
        if (gk < gmin) gk = gmin;
        st(ps, k, gk * gk * post);
      }
      st(g, k, gk);
      st(Es, 2 * k, er * gk);
      st(Es, 2 * k + 1, ei * gk);
      inE += pe;
      outE += pe * gk * gk;
      resE += r;
    }
    this.inE = inE;
    this.outE = outE;
    this.resE = resE;
    this.fft.inverse(Es, tmp);
    const ola = ptr(this.ola);
    for (let i = 0; i < WIN; i++) st(ola, i, ld(ola, i) + ld(tmp, i) * ld(w, i));
    memory.copy(outP, ola, <usize>HOP << 2);
    memory.copy(ola, ola + (<usize>HOP << 2), <usize>(WIN - HOP) << 2);
    memory.fill(ola + (<usize>(WIN - HOP) << 2), 0, <usize>HOP << 2);
  }
}
