// The stereo mix of one playout tick: every speaker's mono frame with its own
// gain and pan, summed, then through a peak limiter so that several loud
// speakers at once duck smoothly instead of hard-clipping at full scale.
import { FRAME_SAMPLES, PLAYBACK_CHANNELS, SAMPLE_RATE } from './format.js';

export interface MixSource {
  /** 960 mono samples. */
  pcm: Float32Array;
  /** Linear gain; 0 is a local mute (the source is skipped). */
  gain: number;
  /** -1 hard left .. 0 centre .. +1 hard right. */
  pan: number;
}

/** The limiter's ceiling and threshold: -1 dBFS, headroom for the device's own conversion. */
export const LIMIT_CEILING = 10 ** (-1 / 20);
/** Release time constant: slow enough not to pump on every syllable, fast enough to recover between words. */
const RELEASE_MS = 60;
/** After a gain reduction the gain is held this long before it recovers, longer than a 100 Hz voice's period,
 * so the next cycles' peaks meet the same gain and the waveform is scaled, not flattened. */
const HOLD_MS = 12;
/**
 * Attack ramp (1 ms). The whole frame is mixed before any of it is played, so the limiter can look ahead
 * inside it without adding latency: the gain is the L-sample moving average of the L-sample look-ahead
 * minimum of the needed gain, which falls smoothly *before* a peak and still meets every sample's need.
 */
const ATTACK = 48;

const RELEASE_COEF = 1 - Math.exp(-1 / ((RELEASE_MS / 1000) * SAMPLE_RATE));
const HOLD_SAMPLES = Math.round((HOLD_MS / 1000) * SAMPLE_RATE);
/** Below this distance from unity the gain snaps to exactly 1, so quiet passages are bit-transparent again. */
const UNITY_SNAP = 1e-6;

/**
 * Equal-power pan gains (cos/sin law): left = cos((1+pan)·π/4), right = sin((1+pan)·π/4), written as two
 * cosines so that pan 0 gives exactly the same √½ on both sides.
 */
export function panGains(pan: number): { left: number; right: number } {
  const p = clampPan(pan);
  return { left: sideGain(p), right: sideGain(-p) };
}

/** cos((1+p)·π/4), with hard pan exactly 0 (cos(π/2) is 6e-17, not 0, in floating point). */
function sideGain(p: number): number {
  return p === 1 ? 0 : Math.cos(((1 + p) * Math.PI) / 4);
}

/** NaN counts as centre. */
function clampPan(pan: number): number {
  return pan > 1 ? 1 : pan < -1 ? -1 : pan || 0;
}

export class Mixer {
  private readonly sum = new Float64Array(FRAME_SAMPLES * PLAYBACK_CHANNELS);
  /** Needed gain per sample, then the envelope (instant attack, hold, release). */
  private readonly env = new Float64Array(FRAME_SAMPLES);
  /** The previous frame's last ATTACK-1 look-ahead minima, then this frame's. */
  private readonly lookMin = new Float64Array(ATTACK - 1 + FRAME_SAMPLES).fill(1);
  private readonly deque = new Int32Array(FRAME_SAMPLES);
  private envGain = 1;
  private hold = 0;
  private gain = 1;

  /** The gain the limiter applied to the last sample (1 = not limiting). */
  get limiterGain(): number {
    return this.gain;
  }

  /** Mixes `sources` into `out` (1920 samples, interleaved L R). No sources (deafened) gives silence. */
  mix(sources: readonly MixSource[], out: Float32Array): void {
    const sum = this.sum;
    sum.fill(0);
    for (let s = 0; s < sources.length; s++) {
      const src = sources[s]!;
      const g = src.gain;
      if (g === 0 || !Number.isFinite(g)) continue;
      const p = clampPan(src.pan);
      const gl = g * sideGain(p);
      const gr = g * sideGain(-p);
      const pcm = src.pcm;
      for (let i = 0, j = 0; i < FRAME_SAMPLES; i++, j += 2) {
        const x = pcm[i]!;
        sum[j] = sum[j]! + x * gl;
        sum[j + 1] = sum[j + 1]! + x * gr;
      }
    }
    this.limit(out);
  }

  private limit(out: Float32Array): void {
    const sum = this.sum;
    const n = FRAME_SAMPLES * PLAYBACK_CHANNELS;
    let peak = 0;
    for (let j = 0; j < n; j++) {
      const a = Math.abs(sum[j]!);
      if (a > peak) peak = a;
    }
    if (this.gain === 1 && this.envGain === 1 && peak <= LIMIT_CEILING) {
      // The common case: nothing to limit, so the mix passes untouched.
      for (let j = 0; j < n; j++) out[j] = sum[j]!;
      return;
    }

    // Envelope: what each (stereo-linked) sample needs, with instant attack, hold, then release towards 1.
    const env = this.env;
    let g = this.envGain;
    let hold = this.hold;
    for (let i = 0, j = 0; i < FRAME_SAMPLES; i++, j += 2) {
      const a = Math.max(Math.abs(sum[j]!), Math.abs(sum[j + 1]!));
      const need = a > LIMIT_CEILING ? LIMIT_CEILING / a : 1;
      if (hold > 0) hold--;
      else if (g < 1) {
        g += (1 - g) * RELEASE_COEF;
        if (1 - g < UNITY_SNAP) g = 1;
      }
      if (need < g) {
        g = need;
        hold = HOLD_SAMPLES;
      }
      env[i] = g;
    }
    this.envGain = g;
    this.hold = hold;

    // Look-ahead minimum over [i, i + ATTACK - 1] (a monotonic deque; the window is cut at the frame's end).
    const look = this.lookMin;
    const H = ATTACK - 1;
    look.copyWithin(0, FRAME_SAMPLES, FRAME_SAMPLES + H);
    const dq = this.deque;
    let head = 0;
    let tail = 0;
    for (let i = FRAME_SAMPLES - 1; i >= 0; i--) {
      const v = env[i]!;
      while (tail > head && env[dq[tail - 1]!]! >= v) tail--;
      dq[tail++] = i;
      if (dq[head]! > i + H) head++;
      look[H + i] = env[dq[head]!]!;
    }

    // Moving average of the minima: every window that averages into sample i contains i, so gain ≤ need.
    let acc = 0;
    for (let k = 0; k < H; k++) acc += look[k]!;
    let last = 1;
    for (let i = 0, j = 0; i < FRAME_SAMPLES; i++, j += 2) {
      acc += look[H + i]!;
      let gi = acc / ATTACK;
      acc -= look[i]!;
      if (gi > 1 - 1e-12) gi = 1;
      // Only where the previous frame could not see this peak coming does the gain have to drop at once;
      // it drops to the minimum of the coming samples, so the rise to the peak is scaled, not flattened.
      if (gi > env[i]!) gi = look[H + i]!;
      out[j] = sum[j]! * gi;
      out[j + 1] = sum[j + 1]! * gi;
      last = gi;
    }
    this.gain = last;
  }
}
