// A synthetic room for tests and benchmarks: what the client's speaker plays
// comes back into its microphone, delayed and scaled (an echo path). The
// engine pushes every played frame; a VirtualCapture reads the room through
// its source function.
//
// Timing: a frame written at tick t plays during [t, t+20 ms]; the frame read
// at tick t was recorded during [t-20 ms, t]. So with no acoustic or device
// delay, the mic frame read at tick n holds what was played during tick n-1
// (exactly what EchoReference hands the echo canceller), and `delaySamples`
// is the echo path's delay on top of that.
import { FRAME_SAMPLES, SAMPLE_RATE } from '../format.js';

export interface RoomSpec {
  /** Delay of the echo path in samples (0: the speaker's sound reaches the mic at once). */
  delaySamples: number;
  /** Linear gain of the echo path. */
  gain: number;
  /**
   * Later arrivals of the same sound (walls, a desk), each `delaySamples`
   * after the direct path with its own linear gain: a sparse room response.
   * Sparse so it costs a few multiply-adds per sample on the audio thread; a
   * dense reverberant tail is what host/dsp/room.ts synthesises offline.
   */
  reflections?: { delaySamples: number; gain: number }[];
  /** Independent noise at the mic (linear RMS, seeded): a noisy room. */
  noiseRms?: number;
}

/** A sparse room response: reflections decaying for the given RT60 over `tailMs`, deterministic (seeded). */
export function sparseRoom(rt60S: number, tailMs: number, taps = 40, seed = 1): { delaySamples: number; gain: number }[] {
  let x = seed >>> 0 || 1;
  const rnd = (): number => ((x = (Math.imul(x, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const out: { delaySamples: number; gain: number }[] = [];
  for (let k = 0; k < taps; k++) {
    const d = Math.round(((k + rnd()) / taps) * tailMs * (SAMPLE_RATE / 1000)) + 1;
    // -60 dB after rt60S: amplitude 10^(-3 t / rt60); each tap a share of the energy.
    const g = Math.pow(10, (-3 * d) / SAMPLE_RATE / rt60S) * (rnd() < 0.5 ? -1 : 1) * 0.35;
    out.push({ delaySamples: d, gain: g });
  }
  return out;
}

export class LoopbackRoom {
  private readonly ring = new Float32Array(2 * SAMPLE_RATE);
  private written = 0;

  constructor(readonly spec: RoomSpec) {
    if (!(spec.delaySamples >= 0 && spec.delaySamples < SAMPLE_RATE)) throw new RangeError(`room delay must be 0..${SAMPLE_RATE - 1} samples`);
    for (const r of spec.reflections ?? []) {
      if (!(r.delaySamples > 0 && spec.delaySamples + r.delaySamples < SAMPLE_RATE)) throw new RangeError(`a reflection must arrive 1..${SAMPLE_RATE - 1 - spec.delaySamples} samples after the direct path`);
    }
  }

  /** One played stereo frame, heard by the mic as its mono sum. */
  pushPlayed(stereo: Float32Array): void {
    const n = stereo.length >> 1;
    for (let i = 0; i < n; i++) this.ring[(this.written + i) % this.ring.length] = 0.5 * (stereo[2 * i]! + stereo[2 * i + 1]!);
    this.written += n;
  }

  /**
   * What the mic picks up at capture sample `i`. The room starts with the
   * capture device, and each tick's played frame is pushed before that tick's
   * mic frame is read: capture sample i hears played sample i - 960 - delay.
   */
  sample(i: number): number {
    const k = i - FRAME_SAMPLES - this.spec.delaySamples;
    let y = this.at(k) * this.spec.gain;
    const refl = this.spec.reflections;
    if (refl) for (let r = 0; r < refl.length; r++) y += this.spec.gain * refl[r]!.gain * this.at(k - refl[r]!.delaySamples);
    if (this.spec.noiseRms) y += this.spec.noiseRms * this.noise();
    return y;
  }

  private at(k: number): number {
    if (k < 0 || k >= this.written || k < this.written - this.ring.length) return 0;
    return this.ring[k % this.ring.length]!;
  }

  private seed = 0x9e3779b9;
  /** Uniform noise with unit RMS (±√3). */
  private noise(): number {
    this.seed = (Math.imul(this.seed, 1664525) + 1013904223) >>> 0;
    return (this.seed / 2 ** 32 - 0.5) * 2 * Math.sqrt(3);
  }
}
