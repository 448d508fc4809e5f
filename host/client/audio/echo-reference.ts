// The echo canceller's far-end reference: the exact signal sent to the
// speaker, aligned sample for sample with the mic frame it echoes into.
//
// Every tick the engine writes playback frame P(n) (heard during [t, t+20 ms])
// and reads capture frame C(n) (recorded during [t-20 ms, t]). What the mic
// picked up during C(n) is what the speaker played during the same interval:
// P(n-1), plus whatever the devices add (output latency + input latency). So
// the reference of C(n) is the played signal delayed by one frame plus the
// device latency, read from this delay line. Mumble's canceller got its
// reference through a queue that ran late and could only cancel periodic
// sounds for years (mumble-voip/mumble#4167); a fixed, computed delay avoids that.
import { FRAME_SAMPLES, SAMPLE_RATE } from './format.js';

export class EchoReference {
  private readonly ring: Float32Array;
  /** Total samples written so far. */
  private written = 0;
  /** Delay between "written to the playback device" and "reaches the mic", in samples. */
  private delaySamples: number;

  constructor(extraDelaySamples = 0, capacitySamples = SAMPLE_RATE) {
    this.ring = new Float32Array(capacitySamples);
    this.delaySamples = FRAME_SAMPLES + extraDelaySamples;
  }

  /** Device latency beyond one frame (samples): output + input latency of the devices in use. */
  setExtraDelay(samples: number): void {
    this.delaySamples = FRAME_SAMPLES + Math.max(0, Math.min(samples, this.ring.length - 2 * FRAME_SAMPLES));
  }

  get delay(): number {
    return this.delaySamples;
  }

  /** Pushes the played stereo frame (interleaved), downmixed to mono, as the speaker will emit it. */
  pushPlayed(stereo: Float32Array): void {
    const n = stereo.length >> 1;
    const cap = this.ring.length;
    for (let i = 0; i < n; i++) {
      this.ring[(this.written + i) % cap] = 0.5 * (stereo[2 * i]! + stereo[2 * i + 1]!);
    }
    this.written += n;
  }

  /**
   * The reference for the mic frame read right after the latest pushPlayed():
   * the FRAME_SAMPLES samples that end `delay` samples before the end of what
   * was written (with no device latency, the previous played frame). Zeros
   * where nothing had been played yet.
   */
  read(out: Float32Array): void {
    const cap = this.ring.length;
    const end = this.written - this.delaySamples;
    for (let i = 0; i < out.length; i++) {
      const k = end - out.length + i;
      out[i] = k >= 0 && k >= this.written - cap ? this.ring[k % cap]! : 0;
    }
  }
}
