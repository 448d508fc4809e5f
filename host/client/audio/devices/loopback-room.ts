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
}

export class LoopbackRoom {
  private readonly ring = new Float32Array(2 * SAMPLE_RATE);
  private written = 0;

  constructor(readonly spec: RoomSpec) {
    if (!(spec.delaySamples >= 0 && spec.delaySamples < SAMPLE_RATE)) throw new RangeError(`room delay must be 0..${SAMPLE_RATE - 1} samples`);
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
    if (k < 0 || k >= this.written || k < this.written - this.ring.length) return 0;
    return this.spec.gain * this.ring[k % this.ring.length]!;
  }
}
