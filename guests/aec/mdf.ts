// Multi-delay block frequency-domain adaptive filter (MDF, Soo & Pang 1990)
// with Valin's learning-rate control (IEEE TASLP 2007) and two filters.
//
// Blocks of N = 480 samples (10 ms, two per frame, so no added latency), FFT
// 2N = 960; the echo path is M partitions of N taps (M = tailMs / 10). Per block:
//   1. background update: Wb_j += prop_j · mu_k · conj(X_j) · E, with E and mu
//      from the previous block (so this block's output already uses it), and
//      the gradient constraint (taps N..2N-1 zeroed) on partition 0 and one
//      rotating partition only (AUMDF): full constraint is 2M FFTs a block;
//   2. foreground and background outputs, errors and energies;
//   3. two filters: the foreground (the output) takes the background's weights
//      when the background's error is significantly lower, and the background is
//      reset to the foreground when it is significantly worse. Double talk can
//      drive the background astray but never the output, and an echo path change
//      is followed by the background at full speed;
//   4. step size for the next block: mu_k = min(leak·|Y_k|², |E_k|²/2)/|E_k|²,
//      blended with the global residual-to-error ratio, over the far-end power.
//      leak is the regression of the error's spectral fluctuations on the echo
//      estimate's: the fraction of the error that is still echo. Near-end speech
//      or noise raises |E|² but not the correlation, so the step shrinks where the
//      error is not echo, which is what keeps it stable in double talk and noise.
// Signals are scaled to the int16 range inside, so the regularisation constants
// (the +10s and floors) mean what they mean in the literature.
import { RealFft, ptr } from "./fft";

export const N: i32 = 240;
export const K: i32 = N + 1;
export const MAX_M: i32 = 100;
const SCALE: f32 = 32768.0;
const MIN_LEAK: f32 = 0.005;
/** Largest per-bin step (speex: 0.5; 0.8 measured better here, 1.0 cost near-end STOI). */
const STEP_MAX: f32 = 0.8;
/** Weight leak per block in bins the far end leaves unexcited (time constant 0.5 s there). */
const IDLE_LEAK: f32 = 0.01;

// @ts-ignore: decorator
@inline function ld(p: usize, i: i32): f32 {
  return load<f32>(p + (<usize>i << 2));
}
// @ts-ignore: decorator
@inline function st(p: usize, i: i32, v: f32): void {
  store<f32>(p + (<usize>i << 2), v);
}

function f32s(n: i32): StaticArray<f32> {
  return new StaticArray<f32>(n);
}

export class Mdf {
  M: i32 = 20;
  fft: RealFft = new RealFft(2 * N);
  /** Far-end spectra, a ring of M + 1 (the update uses the previous block's). */
  X: StaticArray<f32> = f32s((MAX_M + 1) * 2 * K);
  xHead: i32 = 0;
  Wb: StaticArray<f32> = f32s(MAX_M * 2 * K);
  Wf: StaticArray<f32> = f32s(MAX_M * 2 * K);
  prop: StaticArray<f32> = f32s(MAX_M);
  xTime: StaticArray<f32> = f32s(2 * N);
  tmp: StaticArray<f32> = f32s(2 * N);
  spec: StaticArray<f32> = f32s(2 * K);
  E: StaticArray<f32> = f32s(2 * K);
  power: StaticArray<f32> = f32s(K);
  power1: StaticArray<f32> = f32s(K);
  /**
   * Per bin, how much of the weights a block keeps: 1 where the far end has
   * energy, down to 1 - IDLE_LEAK where it has next to none (below -50 dB of
   * its mean bin). Nothing corrects the weights of a bin no signal excites, so
   * they drift (measured: after 25,000 frames a drifted mode outweighed the
   * direct path); the leak pins them to 0 and costs nothing where there is signal.
   */
  keep: StaticArray<f32> = f32s(K);
  Rf: StaticArray<f32> = f32s(K);
  Yf: StaticArray<f32> = f32s(K);
  Eh: StaticArray<f32> = f32s(K);
  Yh: StaticArray<f32> = f32s(K);
  window: StaticArray<f32> = f32s(N);
  d: StaticArray<f32> = f32s(N);
  yF: StaticArray<f32> = f32s(N);
  yB: StaticArray<f32> = f32s(N);
  eF: StaticArray<f32> = f32s(N);
  eB: StaticArray<f32> = f32s(N);
  /** Output of the block (scaled back to ±1): the cleaned mic, and the echo estimate removed from it. */
  out: StaticArray<f32> = f32s(N);
  echo: StaticArray<f32> = f32s(N);
  /**
   * Late reverberation past the modelled tail, per bin (int16-scale spectrum
   * power): the foreground's last partition continued at the room's decay,
   * late(t) = decay · (late(t-1) + |W_last · X_last|²(t-1)).
   */
  late: StaticArray<f32> = f32s(K);
  lastP: StaticArray<f32> = f32s(K);
  /** Power decay per block of the room (tailDecay), for the late estimate. */
  decay: f32 = 0.79;

  // The learning-rate state.
  Pey: f32 = 1;
  Pyy: f32 = 1;
  leak: f32 = 0;
  adapted: bool = false;
  sumAdapt: f32 = 0;
  Davg1: f32 = 0;
  Davg2: f32 = 0;
  Dvar1: f32 = 0;
  Dvar2: f32 = 0;
  blocks: i32 = 0;
  screwedUp: i32 = 0;
  dcX: f32 = 0;
  dcY: f32 = 0;
  // Energies of the last block (int16 scale), read by the suppressor and the stats.
  Sxx: f32 = 0;
  Sdd: f32 = 0;
  Sff: f32 = 0;
  See: f32 = 0;
  Syy: f32 = 0;
  sffS: f32 = 0;
  sddS: f32 = 0;
  /** How much of the output filter's estimate is removed (1; 0 while it does harm). */
  linGain: f32 = 1;
  /** Blocks since the foreground last took the background's weights. */
  sinceUpdate: i32 = 0;
  updates: i32 = 0;

  constructor() {
    for (let i = 0; i < N; i++) this.window[i] = <f32>(0.5 - 0.5 * Math.cos((Math.PI * <f64>i) / <f64>N));
  }

  configure(tailMs: i32): void {
    let m = (tailMs * 48 + N - 1) / N;
    if (m < 2) m = 2;
    if (m > MAX_M) m = MAX_M;
    this.M = m;
    this.reset();
  }

  reset(): void {
    this.X.fill(0);
    this.Wb.fill(0);
    this.Wf.fill(0);
    this.xTime.fill(0);
    this.E.fill(0);
    this.power.fill(0);
    this.power1.fill(0);
    this.keep.fill(1);
    this.Eh.fill(0);
    this.Yh.fill(0);
    this.late.fill(0);
    this.lastP.fill(0);
    for (let j = 0; j < this.M; j++) this.prop[j] = <f32>0.99 / <f32>this.M;
    this.Pey = 1;
    this.Pyy = 1;
    this.leak = 0;
    this.adapted = false;
    this.sumAdapt = 0;
    this.Davg1 = this.Davg2 = this.Dvar1 = this.Dvar2 = 0;
    this.screwedUp = 0;
    this.sinceUpdate = 0;
  }

  /** Spectrum of the far end `age` blocks ago. */
  @inline xAt(age: i32): usize {
    let i = this.xHead - age;
    if (i < 0) i += this.M + 1;
    return ptr(this.X) + (<usize>(i * 2 * K) << 2);
  }

  /** One block: mic and far end (N samples each, ±1) at micP / farP. Writes this.out and this.echo. */
  process(micP: usize, farP: usize): void {
    const M = this.M;
    const fft = this.fft;
    const d = ptr(this.d);
    // DC removal on the mic (the echo path has none; a DC offset would only slow adaptation).
    let x1 = this.dcX, y1 = this.dcY;
    for (let i = 0; i < N; i++) {
      const x = ld(micP, i) * SCALE;
      y1 = x - x1 + <f32>0.995 * y1;
      x1 = x;
      st(d, i, y1);
    }
    this.dcX = x1;
    this.dcY = y1;

    // Far end: the 2N window [previous block, this block] -> X at the new head.
    const xt = ptr(this.xTime);
    memory.copy(xt, xt + (<usize>N << 2), <usize>N << 2);
    let Sxx: f32 = 0;
    for (let i = 0; i < N; i++) {
      const x = ld(farP, i) * SCALE;
      st(xt, N + i, x);
      Sxx += x * x;
    }
    this.xHead = this.xHead == M ? 0 : this.xHead + 1;
    fft.forward(xt, this.xAt(0));
    this.Sxx = Sxx;

    // 1. Background update with the previous block's error and step (X one block older).
    this.adjustProp();
    const E = ptr(this.E);
    const p1 = ptr(this.power1);
    const kp = ptr(this.keep);
    for (let j = 0; j < M; j++) {
      const X = this.xAt(j + 1);
      const W = ptr(this.Wb) + (<usize>(j * 2 * K) << 2);
      const pj = unchecked(this.prop[j]);
      for (let k = 0; k < K; k++) {
        const g = pj * ld(p1, k);
        const keep = ld(kp, k);
        const xr = ld(X, 2 * k), xi = ld(X, 2 * k + 1);
        const er = ld(E, 2 * k), ei = ld(E, 2 * k + 1);
        st(W, 2 * k, keep * ld(W, 2 * k) + g * (xr * er + xi * ei));
        st(W, 2 * k + 1, keep * ld(W, 2 * k + 1) + g * (xr * ei - xi * er));
      }
    }
    this.constrain(0);
    if (M > 1) this.constrain(1 + (this.blocks % (M - 1)));
    this.blocks++;

    // 2. Both filters' outputs, and the late reverberation past the last partition.
    this.filter(ptr(this.Wf), ptr(this.yF));
    this.lateUpdate();
    this.filter(ptr(this.Wb), ptr(this.yB));
    const yF = ptr(this.yF), yB = ptr(this.yB), eF = ptr(this.eF), eB = ptr(this.eB);
    let Sff: f32 = 0, See: f32 = 0, Dbf: f32 = 10, Sdd: f32 = 0;
    for (let i = 0; i < N; i++) {
      const di = ld(d, i);
      const ef = di - ld(yF, i);
      const eb = di - ld(yB, i);
      st(eF, i, ef);
      st(eB, i, eb);
      Sff += ef * ef;
      See += eb * eb;
      Dbf += (ef - eb) * (ef - eb);
      Sdd += di * di;
    }
    this.Sdd = Sdd;

    // 3. Two filters: a significant, sustained improvement moves the background into the output.
    const diff = Sff - See;
    this.Davg1 = <f32>0.6 * this.Davg1 + <f32>0.4 * diff;
    this.Davg2 = <f32>0.85 * this.Davg2 + <f32>0.15 * diff;
    this.Dvar1 = <f32>0.36 * this.Dvar1 + <f32>0.16 * Sff * Dbf;
    this.Dvar2 = <f32>0.7225 * this.Dvar2 + <f32>0.0225 * Sff * Dbf;
    let update = false;
    if (diff * Mathf.abs(diff) > Sff * Dbf) update = true;
    else if (this.Davg1 * Mathf.abs(this.Davg1) > <f32>0.5 * this.Dvar1) update = true;
    else if (this.Davg2 * Mathf.abs(this.Davg2) > <f32>0.25 * this.Dvar2) update = true;
    const o = ptr(this.out), ec = ptr(this.echo);
    const inv: f32 = <f32>1.0 / SCALE;
    if (update) {
      this.Davg1 = this.Davg2 = this.Dvar1 = this.Dvar2 = 0;
      memory.copy(ptr(this.Wf), ptr(this.Wb), <usize>(M * 2 * K) << 2);
      this.sinceUpdate = 0;
      this.updates++;
      // Cross-fade from the old foreground's output to the new one over the block.
      const w = ptr(this.window);
      for (let i = 0; i < N; i++) {
        const a = ld(w, i);
        const y = (<f32>1.0 - a) * ld(yF, i) + a * ld(yB, i);
        st(ec, i, y);
      }
      this.Sff = See;
    } else {
      const back = <f32>4.0;
      let reset = -diff * Mathf.abs(diff) > back * Sff * Dbf;
      if (-this.Davg1 * Mathf.abs(this.Davg1) > back * this.Dvar1) reset = true;
      if (-this.Davg2 * Mathf.abs(this.Davg2) > back * this.Dvar2) reset = true;
      if (reset) {
        memory.copy(ptr(this.Wb), ptr(this.Wf), <usize>(M * 2 * K) << 2);
        memory.copy(yB, yF, <usize>N << 2);
        memory.copy(eB, eF, <usize>N << 2);
        See = Sff;
        this.Davg1 = this.Davg2 = this.Dvar1 = this.Dvar2 = 0;
      }
      for (let i = 0; i < N; i++) {
        st(ec, i, ld(yF, i));
      }
      this.Sff = Sff;
      this.sinceUpdate++;
    }
    this.See = See;

    // Do no harm: while the output filter makes the mic louder (a reference
    // that does not match the echo), fade its estimate out.
    this.sffS += <f32>0.05 * (this.Sff - this.sffS);
    this.sddS += <f32>0.05 * (Sdd - this.sddS);
    const target: f32 = this.sffS > this.sddS ? 0 : 1;
    for (let i = 0; i < N; i++) {
      this.linGain += <f32>0.002 * (target - this.linGain);
      const y = this.linGain * ld(ec, i);
      st(ec, i, y * inv);
      st(o, i, (ld(d, i) - y) * inv);
    }

    // A filter that adds echo instead of removing it for half a second starts over.
    if (!isFinite(Sff) || !isFinite(See) || Sff > <f32>N * <f32>1e9) this.screwedUp += 50;
    else if (<f32>0.25 * Sff > Sdd + <f32>N * <f32>156) this.screwedUp++;
    else this.screwedUp = 0;
    if (this.screwedUp >= 50) {
      this.reset();
      for (let i = 0; i < N; i++) st(o, i, ld(micP, i));
      this.echo.fill(0);
      return;
    }

    this.prepareStep(Sxx, See);
  }

  /** Time-domain output of filter W over the newest M far-end spectra (last N samples of the circular result). */
  filter(W: usize, yOut: usize): void {
    const spec = ptr(this.spec);
    memory.fill(spec, 0, <usize>(2 * K) << 2);
    for (let j = 0; j < this.M; j++) {
      const X = this.xAt(j);
      const w = W + (<usize>(j * 2 * K) << 2);
      for (let k = 0; k < K; k++) {
        const xr = ld(X, 2 * k), xi = ld(X, 2 * k + 1);
        const wr = ld(w, 2 * k), wi = ld(w, 2 * k + 1);
        st(spec, 2 * k, ld(spec, 2 * k) + xr * wr - xi * wi);
        st(spec, 2 * k + 1, ld(spec, 2 * k + 1) + xr * wi + xi * wr);
      }
    }
    const tmp = ptr(this.tmp);
    this.fft.inverse(spec, tmp);
    memory.copy(yOut, tmp + (<usize>N << 2), <usize>N << 2);
  }

  lateUpdate(): void {
    const late = ptr(this.late), lp = ptr(this.lastP);
    const X = this.xAt(this.M - 1);
    const W = ptr(this.Wf) + (<usize>((this.M - 1) * 2 * K) << 2);
    const d = this.decay;
    for (let k = 0; k < K; k++) {
      st(late, k, d * (ld(late, k) + ld(lp, k)));
      const xr = ld(X, 2 * k), xi = ld(X, 2 * k + 1);
      const wr = ld(W, 2 * k), wi = ld(W, 2 * k + 1);
      const yr = xr * wr - xi * wi, yi = xr * wi + xi * wr;
      st(lp, k, yr * yr + yi * yi);
    }
  }

  /** Zeroes taps N..2N-1 of background partition j (the gradient constraint). */
  constrain(j: i32): void {
    const W = ptr(this.Wb) + (<usize>(j * 2 * K) << 2);
    const tmp = ptr(this.tmp);
    this.fft.inverse(W, tmp);
    memory.fill(tmp + (<usize>N << 2), 0, <usize>N << 2);
    this.fft.forward(tmp, W);
  }

  /** Proportionate step per partition (the energy of the partition plus a floor), summing to 0.99. */
  adjustProp(): void {
    const M = this.M;
    if (!this.adapted) return;
    let maxSum: f32 = 1;
    for (let j = 0; j < M; j++) {
      const W = ptr(this.Wb) + (<usize>(j * 2 * K) << 2);
      let s: f32 = 1;
      for (let k = 1; k < K; k++) s += ld(W, 2 * k) * ld(W, 2 * k) + ld(W, 2 * k + 1) * ld(W, 2 * k + 1);
      s = Mathf.sqrt(s);
      unchecked((this.prop[j] = s));
      if (s > maxSum) maxSum = s;
    }
    let sum: f32 = 1;
    for (let j = 0; j < M; j++) {
      const p = unchecked(this.prop[j]) + <f32>0.1 * maxSum;
      unchecked((this.prop[j] = p));
      sum += p;
    }
    for (let j = 0; j < M; j++) unchecked((this.prop[j] = (<f32>0.99 * this.prop[j]) / sum));
  }

  /** Error spectrum, leakage regression and the per-bin step for the next block's update. */
  prepareStep(Sxx: f32, SeeIn: f32): void {
    const tmp = ptr(this.tmp);
    const eB = ptr(this.eB), yB = ptr(this.yB);
    let Sey: f32 = 0, Syy: f32 = 0;
    for (let i = 0; i < N; i++) {
      Sey += ld(eB, i) * ld(yB, i);
      Syy += ld(yB, i) * ld(yB, i);
    }
    this.Syy = Syy;
    const See = Mathf.max(SeeIn, <f32>N * <f32>1.5625);
    memory.fill(tmp, 0, <usize>N << 2);
    memory.copy(tmp + (<usize>N << 2), eB, <usize>N << 2);
    const E = ptr(this.E);
    this.fft.forward(tmp, E);
    memory.copy(tmp + (<usize>N << 2), yB, <usize>N << 2);
    const spec = ptr(this.spec);
    this.fft.forward(tmp, spec);

    const Xn = this.xAt(0);
    const pw = ptr(this.power), Rf = ptr(this.Rf), Yf = ptr(this.Yf), Eh = ptr(this.Eh), Yh = ptr(this.Yh);
    const ss: f32 = <f32>0.35 / <f32>this.M;
    const sa: f32 = <f32>N / <f32>48000;
    let Pey: f32 = 1, Pyy: f32 = 1;
    for (let k = 0; k < K; k++) {
      const xr = ld(Xn, 2 * k), xi = ld(Xn, 2 * k + 1);
      st(pw, k, (<f32>1 - ss) * ld(pw, k) + <f32>1 + ss * (xr * xr + xi * xi));
      const er = ld(E, 2 * k), ei = ld(E, 2 * k + 1);
      const r = er * er + ei * ei;
      const yr = ld(spec, 2 * k), yi = ld(spec, 2 * k + 1);
      const y = yr * yr + yi * yi;
      st(Rf, k, r);
      st(Yf, k, y);
      const de = r - ld(Eh, k), dy = y - ld(Yh, k);
      Pey += de * dy;
      Pyy += dy * dy;
      st(Eh, k, (<f32>1 - sa) * ld(Eh, k) + sa * r);
      st(Yh, k, (<f32>1 - sa) * ld(Yh, k) + sa * y);
    }
    let pSum: f32 = 0;
    for (let k = 0; k < K; k++) pSum += ld(pw, k);
    const idle = (pSum / <f32>K) * <f32>1e-5;
    const kp = ptr(this.keep);
    for (let k = 0; k < K; k++) st(kp, k, <f32>1 - (IDLE_LEAK * idle) / (ld(pw, k) + idle));
    // Smooth the regression faster when the echo estimate is strong relative to the error.
    Pyy = Mathf.sqrt(Pyy);
    Pey = Pey / Pyy;
    let alpha = (<f32>2 * sa * Syy) / See;
    if (alpha > <f32>0.5 * sa) alpha = <f32>0.5 * sa;
    this.Pey = (<f32>1 - alpha) * this.Pey + alpha * Pey;
    this.Pyy = (<f32>1 - alpha) * this.Pyy + alpha * Pyy;
    if (this.Pyy < 1) this.Pyy = 1;
    if (this.Pey < MIN_LEAK * this.Pyy) this.Pey = MIN_LEAK * this.Pyy;
    if (this.Pey > this.Pyy) this.Pey = this.Pyy;
    this.leak = this.Pey / this.Pyy;

    // Residual-to-error ratio, bounded below by the echo estimate's share of the error.
    let RER = (<f32>0.0001 * Sxx + <f32>3 * this.leak * Syy) / See;
    const lower = (Sey * Sey) / (<f32>1 + See * Syy);
    if (RER < lower) RER = lower;
    if (RER > 0.5) RER = 0.5;

    if (!this.adapted && this.sumAdapt > <f32>this.M && this.leak * Syy > <f32>0.03 * Syy) this.adapted = true;
    const p1 = ptr(this.power1);
    if (this.adapted) {
      for (let k = 0; k < K; k++) {
        const e = ld(Rf, k) + 1;
        let r = this.leak * ld(Yf, k);
        if (r > STEP_MAX * e) r = STEP_MAX * e;
        r = <f32>0.7 * r + <f32>0.3 * RER * e;
        st(p1, k, r / (e * (ld(pw, k) + 10)));
      }
    } else {
      // Before the regression means anything: a step from the far end's energy alone.
      let rate: f32 = 0;
      if (Sxx > <f32>N * <f32>15.6) {
        let t = <f32>0.25 * Sxx;
        if (t > <f32>0.25 * See) t = <f32>0.25 * See;
        rate = t / See;
      }
      for (let k = 0; k < K; k++) st(p1, k, rate / (ld(pw, k) + 10));
      this.sumAdapt += rate;
    }
  }
}
