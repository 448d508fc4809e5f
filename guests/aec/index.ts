// aec: the capture chain's echo canceller (docs/DSP.md "Echo cancellation").
//   mdf.ts         two-filter multi-delay block frequency-domain adaptive filter
//   suppressor.ts  residual echo suppressor (5 ms of latency, the only added)
//   delay.ts       coarse reference-delay estimator (stats only)
//   tail.ts        the filter's tail decay and strongest tap
//   fft.ts         mixed-radix FFT for the 960/480 sizes
// Entry points: hearth_frame_process (zero-copy, the client's chain: mic at
// FRAME_BUFFER[0, 960), reference at [960, 1920), output to [0, 960)) and
// on_aec_raw (the Extism hook: called once first, reads the config; the path
// of `hearth plugin test` and the server). Both run the same process().
// All state is static: built once, never allocated per frame.
import {
  config, inputF32Into, outputF32, Kind, FRAME_BUFFER, FRAME_SAMPLES, statSet,
} from "../../sdk/assembly/index";
import { Mdf, N, K } from "./mdf";
import { Suppressor, HOP, BINS } from "./suppressor";
import { DelayEstimator, FAR_LAGS } from "./delay";
import { ptr } from "./fft";
import { TailScan } from "./tail";

export { hearth_frame_buffer } from "../../sdk/assembly/index";

// Stat indices: the order of the manifest's audio.stats.
const STAT_ERLE = 0;
const STAT_DOUBLE_TALK = 1;
const STAT_DELAY = 2;
const STAT_MISALIGNED = 3;
const STAT_CONVERGENCE = 4;
const STAT_LINEAR_ERLE = 5;
const STAT_LEAK = 6;
const STAT_DELAY_CONFIDENCE = 7;

const mdf = new Mdf();
const sup = new Suppressor();
const delay = new DelayEstimator();
const scan = new TailScan();
const inArr = new Float32Array(2 * FRAME_SAMPLES);
const outArr = new Float32Array(FRAME_SAMPLES);
const hopOut = new StaticArray<f32>(HOP);

let configured = false;
let enabled = true;
let tailMs = 200;
// Far end active: block energy above -55 dBFS (int16 scale, per N-sample block).
const FAR_ACTIVE: f32 = <f32>N * <f32>(32768.0 * 32768.0 * 3.16e-6);
// Smoothed mic / output / linear-error powers over far-end-only blocks (ERLE stats).
let pMic: f32 = 0;
let pOut: f32 = 0;
let pLin: f32 = 0;
let noise: f32 = 1e-9;
let dtHold = 0;
let nearP: f32 = 0;
let blocks = 0;
let delayMs: f32 = NaN;
let misaligned: f32 = 0;

function readConfig(): void {
  configured = true;
  const cfg = config();
  let suppressionDb: f64 = 40;
  if (cfg !== null) {
    const e = cfg.get("enabled");
    if (e !== null && e.kind == Kind.Bool) enabled = e.b;
    const t = cfg.get("tailMs");
    if (t !== null && t.kind == Kind.Number) tailMs = <i32>Math.min(Math.max(t.n, 20), 500);
    const s = cfg.get("suppressionDb");
    if (s !== null && s.kind == Kind.Number) suppressionDb = Math.min(Math.max(s.n, 0), 60);
  }
  setup(<f32>suppressionDb);
}

function setup(suppressionDb: f32): void {
  mdf.configure(tailMs);
  sup.reset();
  sup.setMaxSuppressionDb(suppressionDb);
  sup.enabled = suppressionDb > 0;
  delay.reset();
  scan.reset();
  for (let i = 0; i < 16; i++) statSet(i, NaN);
}

function energy(p: usize, n: i32): f32 {
  let e: f32 = 0;
  for (let i = 0; i < n; i++) {
    const x = load<f32>(p + (<usize>i << 2));
    e += x * x;
  }
  return e;
}

function db(x: f32): f32 {
  return <f32>10 * Mathf.log10(x + <f32>1e-20);
}

/** The frame in FRAME_BUFFER: cleaned mic to [0, 960). */
function process(): void {
  if (!enabled) return;
  const mic = FRAME_BUFFER;
  const far = FRAME_BUFFER + (<usize>FRAME_SAMPLES << 2);
  // The delay estimator sees the mic before it is overwritten, in 10 ms blocks.
  for (let b = 0; b < FRAME_SAMPLES / 480; b++) {
    const off = <usize>(b * 480) << 2;
    delay.block(mic + off, far + off, energy(far + off, 480) * <f32>(32768.0 * 32768.0) > (FAR_ACTIVE * <f32>480) / <f32>N);
  }
  for (let b = 0; b < FRAME_SAMPLES / N; b++) {
    const micB = mic + (<usize>(b * N) << 2);
    const farB = far + (<usize>(b * N) << 2);
    const micE = energy(micB, N);
    mdf.process(micB, farB);
    scan.step(mdf);
    const farActive = mdf.Sxx > FAR_ACTIVE;
    // The mic block has been read: its samples may now be overwritten with output.
    let outE: f32 = 0;
    let resE: f32 = 0;
    let errE: f32 = 0;
    for (let h = 0; h < N / HOP; h++) {
      const off = <usize>(h * HOP) << 2;
      sup.hop(ptr(mdf.out) + off, ptr(mdf.echo) + off, mdf.leak, nearP, K == BINS ? ptr(mdf.late) : 0, ptr(hopOut));
      memory.copy(micB + off, ptr(hopOut), <usize>HOP << 2);
      outE += energy(ptr(hopOut), HOP);
      resE += sup.resE / sup.lastOver;
      errE += sup.inE;
    }
    track(micE, outE, energy(ptr(mdf.out), N), errE, resE, energy(ptr(mdf.echo), N), farActive);
  }
}

/** Stats: double talk, ERLE, delay and alignment. */
function track(micE: f32, outE: f32, linE: f32, errE: f32, resE: f32, echoE: f32, farActive: bool): void {
  blocks++;
  // Noise floor of the error: follows decreases at once, increases slowly.
  noise = errE < noise ? errE : noise * <f32>1.002 + <f32>1e-12;
  // Double talk: far end active, the error well above the residual echo and the
  // noise, and more than a canceller that removes 10 dB would leave (errE is in
  // windowed-spectrum units: 240 per sample of the hop's window energy).
  const near = farActive && errE > <f32>4 * resE + <f32>4 * noise && linE > <f32>0.1 * echoE;
  if (near) dtHold = 10;
  else if (dtHold > 0) dtHold--;
  const doubleTalk = dtHold > 0;
  // The suppressor eases off while the near end talks (attack 10 ms, release ~50 ms).
  nearP = doubleTalk ? Mathf.min(<f32>1, nearP + <f32>0.5) : nearP * <f32>0.9;
  if (farActive && !doubleTalk) {
    const a: f32 = 0.05;
    pMic += a * (micE - pMic);
    pOut += a * (outE - pOut);
    pLin += a * (linE - pLin);
  }
  const erle = pMic > 0 ? db(pMic) - db(pOut) : <f32>NaN;
  const linErle = pMic > 0 ? db(pMic) - db(pLin) : <f32>NaN;
  if (blocks % 25 == 0) {
    // Measured: 0.25-0.29 for a real (mis)alignment, 0.12-0.14 in continuous double talk.
    const confident = delay.confidence > <f32>0.18 && delay.updates > 100;
    const lagSamples = delay.lag * N;
    if (linErle > 6) {
      const tap = scan.peakTap(mdf);
      delayMs = tap >= 0 ? <f32>tap / <f32>48 : <f32>NaN;
    } else delayMs = confident ? <f32>(delay.lag * 10) : <f32>NaN;
    // The suppressor's memory of the residual decays as the room does (-0.3 to -1.5 dB per 5 ms).
    const d = scan.tailDecay(mdf);
    if (linErle > 10 && d > 0) {
      mdf.decay = Mathf.min(Mathf.max(d, <f32>0.5), <f32>0.95);
      sup.decay = Mathf.min(Mathf.max(Mathf.pow(d, <f32>HOP / <f32>N), <f32>0.7), <f32>0.93);
    }
    const outside = delay.lag < 0 || lagSamples >= mdf.M * N || delay.lag >= FAR_LAGS;
    misaligned = confident && outside && !(linErle > 6) ? 1 : 0;
  }
  statSet(STAT_ERLE, erle);
  statSet(STAT_DOUBLE_TALK, doubleTalk ? 1 : 0);
  statSet(STAT_DELAY, delayMs);
  statSet(STAT_MISALIGNED, misaligned);
  statSet(STAT_CONVERGENCE, Mathf.min(Mathf.max(<f32>1 - mdf.leak, 0), 1));
  statSet(STAT_LINEAR_ERLE, linErle);
  statSet(STAT_LEAK, mdf.leak);
  statSet(STAT_DELAY_CONFIDENCE, delay.confidence);
}

export function hearth_frame_process(): i32 {
  if (!configured) {
    // Never reached in the chain (on_aec_raw runs first); defaults without host calls.
    configured = true;
    setup(40);
  }
  process();
  return 0;
}

export function on_aec_raw(): i32 {
  if (!configured) readConfig();
  const n = inputF32Into(inArr);
  if (n < 2 * FRAME_SAMPLES) inArr.fill(0, n);
  memory.copy(FRAME_BUFFER, inArr.dataStart, <usize>(2 * FRAME_SAMPLES) << 2);
  process();
  memory.copy(outArr.dataStart, FRAME_BUFFER, <usize>FRAME_SAMPLES << 2);
  outputF32(outArr);
  return 0;
}
