// Echo return loss enhancement, measured from outside the canceller:
//   ERLE = 10·log10(energy of the echo in the mic / energy of the residual echo in the output)
// `echo` is the echo component of the mic signal (known in a synthetic case),
// `residual` the canceller's output on a far-end-only case (mic = echo), or the
// output minus the near-end part when that is known; both sample-aligned.
//
// Silence in the far end: where the echo is silent there is nothing to
// cancel, and the ratio would be noise over noise. So energies only count
// samples in 20 ms blocks whose echo power is within ACTIVE_DB (40 dB) of the
// echo's loudest 20 ms block: pauses between words drop out, the decaying echo
// of a word stays in. A window with fewer than a quarter of active blocks has no
// ERLE (NaN), and erleWindowsDb leaves it out.

export const ACTIVE_DB = 40;
const BLOCK = 960;

function activeMask(echo: Float32Array): Uint8Array {
  const blocks = Math.ceil(echo.length / BLOCK);
  const p = new Float64Array(blocks);
  let max = 0;
  for (let b = 0; b < blocks; b++) {
    let e = 0;
    for (let i = b * BLOCK; i < Math.min(echo.length, (b + 1) * BLOCK); i++) e += echo[i]! * echo[i]!;
    p[b] = e;
    max = Math.max(max, e);
  }
  const floor = max * Math.pow(10, -ACTIVE_DB / 10);
  const mask = new Uint8Array(blocks);
  for (let b = 0; b < blocks; b++) mask[b] = p[b]! > floor && p[b]! > 0 ? 1 : 0;
  return mask;
}

function ratioDb(echo: Float32Array, residual: Float32Array, mask: Uint8Array, from: number, to: number): number {
  let ee = 0;
  let er = 0;
  let active = 0;
  let blocks = 0;
  for (let b = Math.floor(from / BLOCK); b * BLOCK < to; b++) {
    blocks++;
    if (!mask[b]) continue;
    active++;
    for (let i = Math.max(from, b * BLOCK); i < Math.min(to, (b + 1) * BLOCK, echo.length); i++) {
      ee += echo[i]! * echo[i]!;
      const r = residual[i] ?? 0;
      er += r * r;
    }
  }
  if (active * 4 < blocks || ee === 0) return NaN;
  return 10 * Math.log10(ee / Math.max(er, ee * 1e-12));
}

/** ERLE (dB) over [fromSample, toSample), far-end-active blocks only (capped at 120 dB). */
export function erleDb(echo: Float32Array, residual: Float32Array, fromSample = 0, toSample?: number): number {
  const to = Math.min(toSample ?? echo.length, echo.length);
  return ratioDb(echo, residual, activeMask(echo), fromSample, to);
}

/** ERLE of consecutive windows of `windowSamples` from `fromSample` (windows without far-end activity left out). */
export function erleWindowsDb(echo: Float32Array, residual: Float32Array, windowSamples: number, fromSample = 0, hopSamples = windowSamples): number[] {
  const mask = activeMask(echo);
  const out: number[] = [];
  for (let at = fromSample; at + windowSamples <= echo.length; at += hopSamples) {
    const v = ratioDb(echo, residual, mask, at, at + windowSamples);
    if (!Number.isNaN(v)) out.push(v);
  }
  return out;
}

/** The worst (lowest) windowed ERLE, NaN when no window has far-end activity. */
export function worstWindowDb(echo: Float32Array, residual: Float32Array, windowSamples: number, fromSample = 0, hopSamples = windowSamples / 2): number {
  const w = erleWindowsDb(echo, residual, windowSamples, fromSample, hopSamples);
  return w.length ? Math.min(...w) : NaN;
}

/**
 * Re-convergence after an echo-path change at `changeSample`: the time (s)
 * from the change to the end of the first window (of `windowSamples`, hopping
 * `hopSamples`) whose ERLE is >= thresholdDb and from whose end on the ERLE of
 * the whole rest of the signal is >= thresholdDb too (so one good window in a
 * bad stretch does not count, and one dip at a later speech offset does not
 * undo it: the worst window is a figure of its own). Infinity when never.
 */
export function reconvergenceS(
  echo: Float32Array,
  residual: Float32Array,
  changeSample: number,
  thresholdDb: number,
  sampleRate = 48000,
  windowSamples = sampleRate / 4,
  hopSamples = sampleRate / 20,
): number {
  const mask = activeMask(echo);
  for (let at = changeSample; at + windowSamples <= echo.length; at += hopSamples) {
    const v = ratioDb(echo, residual, mask, at, at + windowSamples);
    if (Number.isNaN(v) || v < thresholdDb) continue;
    const rest = ratioDb(echo, residual, mask, at + windowSamples, echo.length);
    if (Number.isNaN(rest) || rest >= thresholdDb) return (at + windowSamples - changeSample) / sampleRate;
  }
  return Infinity;
}
