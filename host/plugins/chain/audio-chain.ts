// The capture chain's plugins, as the audio thread sees them: every audio
// guest (echo canceller, noise suppressor, effects) runs in ONE chain thread
// (chain-worker.ts) and the audio thread hands it each 20 ms frame with a
// deadline: one thread hop per frame for the whole chain, never one per
// guest (a hop through a per-plugin sandbox measured 157 µs p50 / 750 µs p99).
//
// Policies, like JACK and PipeWire (bypass a late plugin for that frame,
// count overruns, only then disable or kill):
//   - the chain answers within the deadline      -> its output is used
//   - the chain is late                          -> this frame passes through
//     unprocessed (out = mic), counted; its result is discarded when it
//     arrives; while the chain is still busy, later frames are bypassed too
//     (nothing queues behind a late frame)
//   - one guest takes longer than its callMs     -> the chain thread discards
//     its output for that frame (the next guest gets its input), an overrun
//     is counted; overrunLimit of its last 100 calls -> the guest is disabled
//   - still busy after the current guest's killMs -> the chain thread is
//     terminated, the guest named in the control word is reported killed and
//     the chain restarts without it in the background (frames bypassed meanwhile)
//   - a guest traps or answers the wrong length  -> disabled; the chain goes on
// process() is synchronous, allocates nothing, and blocks at most deadlineMs.
import { EventEmitter } from 'node:events';
import { PluginError } from '../errors.js';
import { FRAME_SAMPLES } from '../hooks.js';
import { clockUs, GuestStatus, type EffectsMessage } from './chain-protocol.js';
import { ChainEntry, round1, WARMUP_CALLS } from './chain-entry.js';
import { prepareChain, type ChainGuest } from './chain-guests.js';
import { ChainSupervisor, type Bound } from './chain-supervisor.js';
import { Histogram } from './histogram.js';
import type { AudioChainOptions, AudioChainStats, ChainFrameResult, ChainReport, ChainReportKind, FrameStatus } from './chain-types.js';

export type { ChainGuest } from './chain-guests.js';
export type { ChainGuestStats, GuestState } from './chain-entry.js';
export type { AudioChainOptions, AudioChainStats, ChainFrameResult, ChainReport, ChainReportKind, FrameStatus } from './chain-types.js';

export class AudioChain extends EventEmitter {
  private order: ChainEntry[] = [];
  private readonly sup: ChainSupervisor;
  private pendingSeq = 0;
  private pendingSince = 0;
  private closing: Promise<void> | null = null;
  private frames = 0;
  private processedFrames = 0;
  private lateFrames = 0;
  private busyFrames = 0;
  private unavailableFrames = 0;
  private lastHopUs = 0;
  private hopsAtReset = 0;
  private readonly hopHist = new Histogram();
  private readonly result: ChainFrameResult = { processed: false, status: 'unavailable', hopUs: 0, guestUs: 0, bypassedGuests: 0 };
  private readonly opts: AudioChainOptions;
  private readonly idleWatch: NodeJS.Timeout;

  private constructor(opts: AudioChainOptions) {
    super();
    this.opts = opts;
    this.sup = new ChainSupervisor(
      {
        members: () => this.order.filter((e) => e.keepsInstance),
        fault: (e, health, message) => this.fault(e, health, message),
        report: (id, kind, message) => this.report(id, kind, message),
        effects: (members, m) => this.effects(members, m),
        servingChanged: () => (this.pendingSeq = 0),
      },
      { resetEvery: opts.resetEvery ?? 1000, loadTimeoutMs: opts.loadTimeoutMs ?? 5000 },
    );
    // The watchdog runs in process(); this slow timer covers an engine that
    // stopped sending frames while a guest hangs (the thread would spin a core).
    this.idleWatch = setInterval(() => {
      const s = this.sup.serving;
      if (s && this.pendingSeq && !s.t.answered(this.pendingSeq)) this.watchdog(s);
    }, 250);
    this.idleWatch.unref();
  }

  /** Checks every guest (throws PluginError), starts the chain thread and resolves once it is ready. */
  static async start(opts: AudioChainOptions): Promise<AudioChain> {
    const prepared = await prepareChain(opts.guests);
    const chain = new AudioChain(opts);
    chain.order = prepared.map((p) => new ChainEntry(p));
    try {
      await chain.sup.launch(null);
    } catch (err) {
      await chain.close();
      throw err;
    }
    return chain;
  }

  /** Runs one 960-sample frame through the chain, blocking at most deadlineMs. `out` is always written. */
  process(mic: Float32Array, reference: Float32Array, out: Float32Array, deadlineMs: number): ChainFrameResult {
    if (mic.length !== FRAME_SAMPLES || reference.length !== FRAME_SAMPLES || out.length !== FRAME_SAMPLES) {
      throw new RangeError(`AudioChain.process: frames are ${FRAME_SAMPLES} samples (mic ${mic.length}, reference ${reference.length}, out ${out.length})`);
    }
    this.frames++;
    this.sup.swapIfReady();
    const s = this.sup.serving;
    if (!s) return this.bypass(mic, out, 'unavailable');
    if (this.pendingSeq) {
      if (!s.t.answered(this.pendingSeq)) {
        this.watchdog(s);
        return this.bypass(mic, out, 'busy');
      }
      this.pendingSeq = 0;
      this.collect(s, true); // the late frame's output is discarded; its calls still count
    }
    if (s.t.exited !== null) {
      this.lost(s, s.t.exited);
      return this.bypass(mic, out, 'unavailable');
    }
    const sent = performance.now();
    const seq = s.t.send(mic, reference);
    if (!s.t.wait(seq, deadlineMs)) {
      this.pendingSeq = seq;
      this.pendingSince = sent;
      this.lateFrames++;
      return this.bypass(mic, out, 'late');
    }
    const hopUs = (performance.now() - sent) * 1000;
    this.lastHopUs = hopUs;
    this.hopHist.record(hopUs);
    this.processedFrames++;
    s.t.readOut(out);
    const r = this.result;
    r.processed = true;
    r.status = 'processed';
    r.hopUs = hopUs;
    r.bypassedGuests = this.collect(s, false);
    return r;
  }

  /** Switches a guest on or off while audio runs. A faulted or killed guest comes back as a fresh instance (chain restart). */
  setEnabled(pluginId: string, on: boolean): void {
    const e = this.order.find((x) => x.id === pluginId);
    if (!e) throw new PluginError('UNKNOWN_PLUGIN', `plugin ${pluginId} is not in the capture chain`, pluginId);
    e.userOn = on;
    if (on && !e.keepsInstance) {
      e.health = 'ok';
      e.message = null;
      e.started = false;
      this.sup.relaunch({ pluginId, message: `chain thread restarted to bring ${pluginId} back as a fresh instance` });
      return;
    }
    if (on && e.health === 'overruns') {
      e.health = 'ok';
      e.message = null;
      e.clearWindow();
    }
    this.sup.pushEnabled(e);
  }

  /**
   * Replaces the chain (add, remove, reorder, reconfigure guests) while audio
   * runs: the current chain keeps processing until the new thread is ready,
   * then they swap. Every guest given is switched on. Rejects (PluginError)
   * without touching the running chain when a guest is invalid.
   */
  async replace(guests: ChainGuest[]): Promise<void> {
    const prepared = await prepareChain(guests);
    if (this.closing) return;
    const old = new Map(this.order.map((e) => [e.id, e]));
    this.order = prepared.map((p) => {
      const e = old.get(p.pluginId) ?? new ChainEntry(p);
      // A guest of the running chain stays "running" (its old instance serves until the swap).
      if (!e.keepsInstance) e.started = false;
      e.prepared = p;
      e.userOn = true;
      e.health = 'ok';
      e.message = null;
      return e;
    });
    await this.sup.launch(null);
  }

  stats(): AudioChainStats {
    return {
      frames: this.frames,
      processed: this.processedFrames,
      bypassedFrames: this.frames - this.processedFrames,
      lateFrames: this.lateFrames,
      busyFrames: this.busyFrames,
      unavailableFrames: this.unavailableFrames,
      restarts: this.sup.restarts,
      hops: this.sup.hops - this.hopsAtReset,
      lastHopUs: round1(this.lastHopUs),
      hopP50Us: round1(this.hopHist.quantile(0.5)),
      hopP99Us: round1(this.hopHist.quantile(0.99)),
      lastChainUs: round1(this.sup.serving?.t.frameUs ?? 0),
      guests: this.order.map((e) => e.describe(this.publishedOf(e))),
    };
  }

  private publishedOf(e: ChainEntry): Record<string, number> | undefined {
    const names = e.prepared.statNames;
    if (!names.length) return undefined;
    const s = this.sup.serving;
    const i = s ? s.members.indexOf(e) : -1;
    return s && i >= 0 ? s.t.publishedStats(i, names) : {};
  }

  /** Starts the counters and latency figures of stats() afresh (states and overrun windows are kept). */
  resetStats(): void {
    this.frames = this.processedFrames = this.lateFrames = this.busyFrames = this.unavailableFrames = 0;
    this.lastHopUs = 0;
    this.hopsAtReset = this.sup.hops;
    this.hopHist.reset();
    for (const e of this.order) e.resetCounters();
  }

  /** Stops the chain thread(s). Idempotent; process() bypasses afterwards. */
  close(): Promise<void> {
    clearInterval(this.idleWatch);
    this.closing ??= this.sup.close();
    return this.closing;
  }

  // ---- the frame path ---------------------------------------------------------

  private bypass(mic: Float32Array, out: Float32Array, status: Exclude<FrameStatus, 'processed'>): ChainFrameResult {
    if (out !== mic) out.set(mic);
    if (status === 'busy') this.busyFrames++;
    else if (status === 'unavailable') this.unavailableFrames++;
    let missing = 0;
    for (const e of this.order) {
      if (!e.expected) continue;
      e.bypassed++;
      missing++;
    }
    const r = this.result;
    r.processed = false;
    r.status = status;
    r.hopUs = 0;
    r.guestUs = 0;
    r.bypassedGuests = missing;
    return r;
  }

  /** Reads the per-guest results of the frame just answered; returns how many guests it went without. */
  private collect(s: Bound, late: boolean): number {
    let missing = 0;
    let guestUs = 0;
    for (let i = 0; i < s.members.length; i++) {
      const e = s.members[i]!;
      const status = s.t.status(i);
      if (status === GuestStatus.Skipped) {
        if (!late && e.expected) {
          e.bypassed++;
          missing++;
        }
        continue;
      }
      const us = s.t.elapsedUs(i);
      guestUs += us;
      e.calls++;
      e.sinceStart++;
      e.lastUs = us;
      e.hist.record(us);
      e.memoryKiB = s.t.memoryKiB(i);
      if (status === GuestStatus.Ok) {
        e.ok++;
        e.recordWindow(false);
        continue;
      }
      if (!late) {
        e.bypassed++;
        missing++;
      }
      if (status === GuestStatus.Overrun) this.overrun(e, us);
      else this.fault(e, 'faulted', this.faultText(e, status, s.t.message(i)));
    }
    s.t.drainEffects(s.onEffects);
    if (!late) this.result.guestUs = guestUs;
    return missing;
  }

  private faultText(e: ChainEntry, status: GuestStatus, message: string): string {
    const hook = e.prepared.init.hook;
    if (status === GuestStatus.BadOutput) return `${hook} gave a bad answer: ${message}`;
    if (status === GuestStatus.GuestError) return `${hook} returned an error: ${message}`;
    // The engine does not say why a trap happened; the memory in use tells a memory-cap trap apart.
    return `${hook} trapped (memory ${e.memoryKiB} of ${e.prepared.limits.memoryMiB * 1024} KiB): ${message}`;
  }

  private overrun(e: ChainEntry, us: number): void {
    e.overruns++;
    const counted = e.sinceStart > WARMUP_CALLS;
    const inWindow = e.recordWindow(counted);
    const { callMs, overrunLimit } = e.prepared.limits;
    const note = counted ? `${inWindow} of its last 100 calls overran` : 'warm-up, not counted';
    this.report(e.id, 'overrun', `took ${Math.round(us)} µs, over its callMs of ${callMs} ms: its output was discarded for this frame (${note})`);
    if (counted && inWindow >= overrunLimit && e.health === 'ok') {
      e.health = 'overruns';
      e.message = `${inWindow} of its last 100 calls took longer than callMs (${callMs} ms)`;
      this.sup.pushEnabled(e);
      this.report(e.id, 'disabled', `${e.message}; disabled (setEnabled(true) resumes it)`);
    }
  }

  /** Watchdog while the chain is busy with a late frame: kill it once the guest it is in has run killMs. */
  private watchdog(s: Bound): void {
    if (s.t.exited !== null) return this.lost(s, s.t.exited);
    // Current before GuestStartUs: the chain thread writes them in the other order.
    const e = s.members[s.t.current];
    if (e) {
      const ranMs = ((clockUs() - s.t.currentSinceUs) | 0) / 1000;
      if (ranMs >= e.prepared.limits.killMs) {
        this.sup.drop(s);
        this.fault(e, 'killed', `${e.prepared.init.hook} was still running after killMs (${e.prepared.limits.killMs} ms); the chain thread was terminated`);
        this.sup.relaunch({ pluginId: e.id, message: `chain thread restarted without ${e.id}` });
      }
      return;
    }
    const limit = Math.max(0, ...s.members.map((m) => m.prepared.limits.killMs)) + 1000;
    if (performance.now() - this.pendingSince >= limit) this.lost(s, `the chain thread has not answered for ${limit} ms`);
  }

  /** The serving thread died or hung outside any guest: blame the guest it was in, if any, and restart. */
  private lost(s: Bound, reason: string): void {
    const e = s.members[s.t.current];
    this.sup.drop(s);
    if (e) this.fault(e, 'faulted', `the chain thread died while running it: ${reason}`);
    this.sup.relaunch({ pluginId: e?.id ?? s.members[0]?.id ?? '', message: `chain thread restarted after: ${reason}` });
  }

  // ---- guests and reports --------------------------------------------------

  private fault(e: ChainEntry, health: 'faulted' | 'killed', message: string): void {
    if (!e.keepsInstance) return;
    e.health = health;
    e.faults++;
    e.message = message;
    this.sup.pushEnabled(e);
    this.report(e.id, health === 'killed' ? 'killed' : 'fault', message);
    this.report(e.id, 'disabled', `out of the capture chain (${health}); setEnabled(true) restarts it fresh`);
  }

  private effects(members: ChainEntry[], m: EffectsMessage): void {
    const id = members[m.guest]?.id;
    if (!id || !this.opts.onEffect) return;
    for (const effect of m.effects) this.opts.onEffect(id, effect);
  }

  private report(pluginId: string, kind: ChainReportKind, message: string): void {
    const r: ChainReport = { pluginId, kind, message };
    // A throwing listener must not break the audio path that reported.
    try {
      this.opts.onReport?.(r);
      this.emit('report', r);
    } catch {
      // ignored on purpose
    }
  }
}
