// The forwarding latency histogram: how long the voice lane takes from being
// handed a datagram to having issued the send of its last re-encrypted copy
// (the synchronous work of host/server/voice/voice-lane.ts onDatagram: cheap
// checks, AEAD open, replay window, seal per listener, sends). The lane does
// not time itself, so this wraps its onDatagram from outside; it is installed
// only when the metrics endpoint is on. Per datagram it costs two clock reads
// and a compare; a forwarded one adds a bucket search over a preallocated
// array: nothing is allocated on the packet path. (prom-client's
// Histogram.observe allocates a label object per call, hence this.)
// Not timed: fan-outs sealed by seal workers (voice.sealWorkers > 0) finish
// later on another thread; only their inline part is measured.
import { performance } from 'node:perf_hooks';
import type { VoiceLane } from '../server/voice/voice-lane.js';

/** Upper bounds in seconds: 10 µs … 50 ms (a forward normally takes tens of µs). */
export const FORWARD_BUCKETS = [10e-6, 25e-6, 50e-6, 100e-6, 250e-6, 500e-6, 1e-3, 2.5e-3, 5e-3, 10e-3, 50e-3] as const;

export class ForwardTiming {
  /** Per bucket (not cumulative); the last slot is +Inf. */
  readonly counts = new Float64Array(FORWARD_BUCKETS.length + 1);
  sum = 0;
  count = 0;

  record(seconds: number): void {
    let i = 0;
    while (i < FORWARD_BUCKETS.length && seconds > FORWARD_BUCKETS[i]!) i++;
    this.counts[i]!++;
    this.sum += seconds;
    this.count++;
  }
}

/**
 * Times every datagram the lane handles and records those that forwarded
 * something (stats.forwarded moved). Returns a function that undoes it.
 */
export function timeForwarding(lane: VoiceLane, timing: ForwardTiming): () => void {
  const original = lane.onDatagram;
  const stats = lane.stats;
  // The lane's socket handler and TLS tunnel call this.onDatagram(...), so an
  // own property on the instance takes over both without touching the lane.
  lane.onDatagram = function timedOnDatagram(this: VoiceLane, ...args: Parameters<VoiceLane['onDatagram']>): ReturnType<VoiceLane['onDatagram']> {
    const before = stats.forwarded;
    const t0 = performance.now();
    const result = original.apply(this, args);
    if (stats.forwarded !== before) timing.record((performance.now() - t0) / 1000);
    return result;
  };
  return () => {
    delete (lane as Partial<Pick<VoiceLane, 'onDatagram'>>).onDatagram;
  };
}
