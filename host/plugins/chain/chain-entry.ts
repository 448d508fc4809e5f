// What the owner keeps per guest of the capture chain, across chain-thread
// restarts: the user's on/off wish, its health, its counters, a latency
// histogram and the overrun window. Updated on the frame path without
// allocating.
import type { AudioSlot } from '../hooks.js';
import type { PreparedGuest } from './chain-guests.js';
import { Histogram } from './histogram.js';

/**
 * running   in the chain and called every frame
 * starting  waiting for the chain thread that will run it
 * off       switched off (setEnabled false)
 * disabled  too many overruns (its instance is intact: setEnabled true resumes it at once)
 * faulted   trapped, answered the wrong length, or failed to load (setEnabled true restarts it fresh)
 * killed    still running after killMs: its thread was terminated (setEnabled true restarts it fresh)
 */
export type GuestState = 'running' | 'starting' | 'off' | 'disabled' | 'faulted' | 'killed';
export type GuestHealth = 'ok' | 'overruns' | 'faulted' | 'killed';

export interface ChainGuestStats {
  pluginId: string;
  slot: AudioSlot;
  state: GuestState;
  /** Calls that ran (in time or not). */
  calls: number;
  /** Calls whose output was used. */
  ok: number;
  /** Calls longer than callMs (output discarded for that frame). */
  overruns: number;
  /** Frames that went on without this guest's effect (its overruns, late or busy chain, no chain thread). */
  bypassed: number;
  faults: number;
  /** Guest time of the last call and quantiles over all calls (µs). */
  lastUs: number;
  p50Us: number;
  p99Us: number;
  maxUs: number;
  memoryKiB: number;
  /** The newest stats the guest published (sdk statSet), named by its manifest's audio.stats; absent when it names none. */
  published?: Record<string, number>;
  /** Why it is faulted, killed or disabled. */
  message?: string;
}

export const OVERRUN_WINDOW = 100;
/**
 * Calls after an instance starts whose overruns are not held against it: a
 * fresh thread runs cold (JIT warm-up, first garbage collections). They are
 * still bypassed when late. The same grace as PluginHost.
 */
export const WARMUP_CALLS = 20;

export class ChainEntry {
  prepared: PreparedGuest;
  userOn = true;
  health: GuestHealth = 'ok';
  /** Set once a chain thread with this guest served a frame. */
  started = false;
  message: string | null = null;
  calls = 0;
  ok = 0;
  overruns = 0;
  bypassed = 0;
  faults = 0;
  lastUs = 0;
  memoryKiB = 0;
  /** Calls since its current instance started. */
  sinceStart = 0;
  readonly hist = new Histogram();
  private readonly window = new Uint8Array(OVERRUN_WINDOW);
  private windowAt = 0;
  private windowSum = 0;

  constructor(prepared: PreparedGuest) {
    this.prepared = prepared;
  }

  get id(): string {
    return this.prepared.pluginId;
  }

  /** Its effect is expected in every frame (a frame without it counts as bypassed). */
  get expected(): boolean {
    return this.userOn && this.health === 'ok';
  }

  /** Can stay in a (new) chain thread: everything but a faulted or killed instance. */
  get keepsInstance(): boolean {
    return this.health === 'ok' || this.health === 'overruns';
  }

  get state(): GuestState {
    if (!this.userOn) return 'off';
    if (this.health === 'faulted' || this.health === 'killed') return this.health;
    if (this.health === 'overruns') return 'disabled';
    return this.started ? 'running' : 'starting';
  }

  /** Records one call in the overrun window; returns the overruns among the last 100 calls. */
  recordWindow(overran: boolean): number {
    const v = overran ? 1 : 0;
    this.windowSum += v - this.window[this.windowAt]!;
    this.window[this.windowAt] = v;
    this.windowAt = (this.windowAt + 1) % OVERRUN_WINDOW;
    return this.windowSum;
  }

  /** Zeroes the counters and the histogram (not the health, nor the overrun window). */
  resetCounters(): void {
    this.calls = this.ok = this.overruns = this.bypassed = this.faults = 0;
    this.lastUs = 0;
    this.hist.reset();
  }

  clearWindow(): void {
    this.window.fill(0);
    this.windowSum = 0;
    this.windowAt = 0;
  }

  describe(published?: Record<string, number>): ChainGuestStats {
    return {
      pluginId: this.id,
      slot: this.prepared.slot,
      state: this.state,
      calls: this.calls,
      ok: this.ok,
      overruns: this.overruns,
      bypassed: this.bypassed,
      faults: this.faults,
      lastUs: round1(this.lastUs),
      p50Us: round1(this.hist.quantile(0.5)),
      p99Us: round1(this.hist.quantile(0.99)),
      maxUs: round1(this.hist.max),
      memoryKiB: this.memoryKiB,
      ...(published ? { published } : {}),
      ...(this.message !== null ? { message: this.message } : {}),
    };
  }
}

export const round1 = (x: number): number => Math.round(x * 10) / 10;
