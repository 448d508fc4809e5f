// The audio thread's own 20 ms frame clock. Ticks are scheduled at absolute
// times (start + n * 20 ms) so errors never accumulate. A timer gets close to
// the tick; the last couple of milliseconds are waited out with Atomics.wait,
// which is exact but blocks this thread (incoming UDP waits in the socket
// buffer meanwhile, which is fine: it is read right after the tick's work).
//
// A tick that starts more than LATE_MS after its due time is "late"; if the
// thread was held up for a frame or two, the missed ticks are run back to back
// (catch-up) so the devices stay sample-continuous, and counted. Held up
// longer than MAX_CATCHUP frames, the clock skips the missed ticks instead:
// running them in a burst would only play seconds of silence (nothing was
// received meanwhile) and then leave every jitter buffer seconds behind.
import { performance } from 'node:perf_hooks';
import { FRAME_MS } from './format.js';

const SPIN_MS = 2;
export const LATE_MS = 10;
export const MAX_CATCHUP = 3;

export interface ClockStats {
  ticks: number;
  lateFrames: number;
  catchUpFrames: number;
  /** The latest any tick has run since the clock started (start-up included: not a per-window figure). */
  maxLateMs: number;
  /** Ticks that ran a whole frame (FRAME_MS) or more late. A counter, so a window's count is a difference of two reports. */
  frameLateTicks: number;
  /** Ticks skipped after the thread was held up for more than MAX_CATCHUP frames. */
  skippedFrames: number;
}

export class FrameClock {
  private readonly sleeper = new Int32Array(new SharedArrayBuffer(4));
  private timer: NodeJS.Timeout | null = null;
  private startAt = 0;
  private n = 0;
  private running = false;
  readonly stats: ClockStats = { ticks: 0, lateFrames: 0, catchUpFrames: 0, maxLateMs: 0, frameLateTicks: 0, skippedFrames: 0 };

  /** `tick(index, dueMs)`: dueMs is the tick's nominal time on this thread's performance clock. */
  constructor(private readonly tick: (index: number, dueMs: number) => void) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.startAt = performance.now() + FRAME_MS;
    this.n = 0;
    this.schedule();
  }

  stop(): void {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /**
   * Shifts the schedule (forward, by less than one frame) so that ticks fall
   * on `originMs + k * FRAME_MS` of this thread's clock. Two engines aligned
   * to the same instant tick together.
   */
  align(originMs: number): void {
    const next = this.dueAt(this.n);
    const phase = (((next - originMs) % FRAME_MS) + FRAME_MS) % FRAME_MS;
    if (phase !== 0) this.startAt += FRAME_MS - phase;
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
      this.schedule();
    }
  }

  /** performance.now() of tick `index`. */
  dueAt(index: number): number {
    return this.startAt + index * FRAME_MS;
  }

  private schedule(): void {
    if (!this.running) return;
    const due = this.dueAt(this.n);
    const wait = due - performance.now() - SPIN_MS;
    this.timer = setTimeout(() => this.fire(), Math.max(0, wait));
  }

  private fire(): void {
    this.timer = null;
    if (!this.running) return;
    let due = this.dueAt(this.n);
    let left = due - performance.now();
    if (left > 0) Atomics.wait(this.sleeper, 0, 0, left);
    const behind = Math.floor((performance.now() - this.dueAt(this.n)) / FRAME_MS);
    if (behind > MAX_CATCHUP) {
      this.n += behind;
      this.stats.skippedFrames += behind;
      this.stats.lateFrames++;
    }
    let first = true;
    // Run every tick that is due (normally exactly one).
    while (this.running && performance.now() >= (due = this.dueAt(this.n))) {
      const late = performance.now() - due;
      if (late > this.stats.maxLateMs) this.stats.maxLateMs = late;
      if (late > LATE_MS) this.stats.lateFrames++;
      if (late >= FRAME_MS) this.stats.frameLateTicks++;
      if (!first) this.stats.catchUpFrames++;
      first = false;
      this.stats.ticks++;
      this.tick(this.n, due);
      this.n++;
      left = this.dueAt(this.n) - performance.now();
      if (left > 0) break;
    }
    this.schedule();
  }
}
