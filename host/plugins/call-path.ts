// The call path of the plugin runtime: one call to one plugin's hook, with
// the time policy of docs/PLUGINS.md §7 (runtime.ts has the lifecycle):
//   - answered within callMs          -> used
//   - not answered within callMs      -> "late": the caller goes on without
//     it (an audio frame passes through unprocessed, a chat message is not
//     filtered by this plugin); the call keeps running; an overrun is counted
//   - a call arriving while a late one still runs -> "busy": bypassed too
//   - overrunLimit late calls among the last 100 -> plugin disabled (the
//     first 20 calls after a start are exempt: a fresh thread runs cold)
//   - still running at killMs         -> its thread is terminated, plugin disabled
import type { Logger } from 'pino';
import type { z } from 'zod';
import type { HookName } from './capabilities.js';
import { decodeJson } from './decode-json.js';
import { AudioJsonOutput, SAMPLE_RATE } from './hooks.js';
import { OVERRUN_WINDOW, WARMUP_CALLS, type Loaded } from './loaded.js';
import { Status, type Effect } from './protocol.js';
import type { CallResult } from './sandbox.js';
import type { CallOutcome, FaultKind, FaultReport } from './runtime-types.js';

const SKIPPED = { status: 'skipped' } as const;
const LATE = { status: 'late' } as const;
const BUSY = { status: 'busy' } as const;
const decoder = new TextDecoder();

/** What the call path needs of the runtime. */
export interface CallHost {
  readonly logger: Logger;
  lookup(id: string): Loaded | undefined;
  fault(p: Loaded, kind: FaultKind, hook: HookName | null, message: string, memoryKiB?: number): FaultReport;
  applyEffects(p: Loaded, effects: Effect[], commit: boolean): void;
}

export class CallPath {
  constructor(private readonly h: CallHost) {}

  /** Records one finished-or-late call in the overrun window; disables the plugin at the limit. */
  recordCall(p: Loaded, overran: boolean, hook: HookName): FaultReport | null {
    const old = p.window[p.windowAt]!;
    const now = overran && p.sinceStart > WARMUP_CALLS ? 1 : 0;
    p.window[p.windowAt] = now;
    p.windowAt = (p.windowAt + 1) % OVERRUN_WINDOW;
    p.overruns += now - old;
    if (p.overruns >= p.manifest.limits.overrunLimit) {
      return this.h.fault(
        p,
        'overruns',
        hook,
        `${p.overruns} of its last ${OVERRUN_WINDOW} calls took longer than callMs (${p.manifest.limits.callMs} ms)`,
      );
    }
    return null;
  }

  /** Turns a finished call into bytes or a fault. `late`: its answer is no longer wanted. */
  private settle(p: Loaded, hook: HookName, r: CallResult, late: boolean): Uint8Array | FaultReport {
    p.stats.lastUs = r.elapsedUs;
    if (r.elapsedUs > p.stats.maxUs) p.stats.maxUs = r.elapsedUs;
    p.memoryKiB = r.memoryKiB;
    this.h.applyEffects(p, r.effects, r.status === Status.Ok);
    if (r.status === Status.Ok) {
      if (!late) {
        // Over callMs yet answered: only possible with a longer wait (fail-closed chat filters); still an overrun.
        const f = this.recordCall(p, r.elapsedUs > p.manifest.limits.callMs * 1000, hook);
        if (f) return f;
      }
      return r.output;
    }
    const text = decoder.decode(r.output);
    const capKiB = p.manifest.limits.memoryMiB * 1024;
    switch (r.status) {
      case Status.Trap: {
        // A guest's allocator traps when memory.grow fails at the cap; the engine
        // does not say why a trap happened, so "memory" is inferred from the
        // memory in use (AssemblyScript grows by doubling, so it is close to the
        // cap by then) or from the host-side allocation limit's message.
        const host = text.includes('host memory limit');
        const memory = host || r.memoryKiB >= capKiB * 0.75;
        const what = host ? 'went over its host memory limit' : memory ? `hit its memory cap (${r.memoryKiB} of ${capKiB} KiB in use)` : 'trapped';
        return this.h.fault(p, memory ? 'memory' : 'trap', hook, `${hook} ${what}: ${text}`, r.memoryKiB);
      }
      case Status.GuestError:
        return this.h.fault(p, 'guest_error', hook, `${hook} returned an error: ${text}`, r.memoryKiB);
      default:
        return this.h.fault(p, 'bad_output', hook, `${hook}: ${text}`, r.memoryKiB);
    }
  }

  /** Common start of a call: refuses disabled plugins, settles or bypasses a late call still in flight. */
  private admit(p: Loaded, hook: HookName, busyIsOverrun = false): CallOutcome<never> | null {
    if (p.state !== 'running' || !p.sandbox || !p.active.has(hook)) return SKIPPED;
    const s = p.sandbox;
    if (s.busy) {
      const r = s.poll();
      if (r) {
        const settled = this.settle(p, p.lateHook ?? hook, r, true);
        if (!(settled instanceof Uint8Array)) return { status: 'fault', fault: settled };
      } else {
        p.stats.busy++;
        if (performance.now() - s.busySince >= p.manifest.limits.killMs) {
          return { status: 'fault', fault: this.killRunaway(p) };
        }
        // A bypassed JSON call (a chat message left unfiltered, say) is an
        // overrun too: a plugin that cannot keep up is disabled and reported,
        // not waved through forever (issue 11). Audio frames keep the older
        // rule (only the late frame counts) so one stall is not ten overruns.
        if (busyIsOverrun) {
          const f = this.recordCall(p, true, hook);
          if (f) return { status: 'fault', fault: f };
        }
        return BUSY;
      }
    }
    p.stats.calls++;
    p.sinceStart++;
    return null;
  }

  private killRunaway(p: Loaded): FaultReport {
    const hook = p.lateHook;
    return this.h.fault(p, 'timeout', hook, `${hook ?? 'a call'} was still running after killMs (${p.manifest.limits.killMs} ms); its thread was terminated`);
  }

  /** A call missed callMs: count it, and watch it until it finishes or reaches killMs. */
  private late(p: Loaded, hook: HookName): CallOutcome<never> {
    p.stats.late++;
    p.lateHook = hook;
    const f = this.recordCall(p, true, hook);
    if (f) return { status: 'fault', fault: f };
    const s = p.sandbox!;
    const since = s.busySince;
    const left = p.manifest.limits.killMs - (performance.now() - since);
    void s.waitAsync(left).then((r) => {
      if (p.sandbox !== s || p.state !== 'running') return;
      if (r) this.settle(p, hook, r, true);
      else if (s.busy && s.busySince === since) this.killRunaway(p);
    });
    return LATE;
  }

  private finish<T>(p: Loaded, hook: HookName, r: CallResult | null, decode: (bytes: Uint8Array) => T | Error): CallOutcome<T> {
    if (!r) return this.late(p, hook);
    const settled = this.settle(p, hook, r, false);
    if (!(settled instanceof Uint8Array)) return { status: 'fault', fault: settled };
    const value = decode(settled);
    if (value instanceof Error) return { status: 'fault', fault: this.h.fault(p, 'bad_output', hook, `${hook} returned malformed output: ${value.message}`, r.memoryKiB) };
    p.stats.ok++;
    return { status: 'ok', value, elapsedUs: r.elapsedUs };
  }

  // ---- calls ------------------------------------------------------------------

  /**
   * Calls one JSON hook. Calls to one plugin are queued, one in flight at a
   * time: two chat messages arriving together are both filtered. Only a call
   * that already missed its time limit makes the ones behind it "busy" (bypassed).
   */
  callJson<S extends z.ZodType>(id: string, hook: HookName, input: unknown, schema: S, emptyOk = false, waitMs?: number): Promise<CallOutcome<z.infer<S>>> {
    const p = this.h.lookup(id);
    if (!p) return Promise.resolve(SKIPPED);
    const run = p.queue.then(() => this.callJsonNow(p, id, hook, input, schema, emptyOk, waitMs));
    p.queue = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  /**
   * `waitMs` (fail-closed chat filters): wait up to this long for the answer
   * instead of callMs, first for a late call still in flight (polled: its
   * watcher in late() collects it), then for this one.
   */
  private async callJsonNow<S extends z.ZodType>(p: Loaded, id: string, hook: HookName, input: unknown, schema: S, emptyOk: boolean, waitMs?: number): Promise<CallOutcome<z.infer<S>>> {
    if (this.h.lookup(id) !== p) return SKIPPED;
    const startedAt = performance.now();
    if (waitMs !== undefined) {
      while (p.sandbox?.busy && p.state === 'running' && performance.now() - startedAt < waitMs) await new Promise((r) => setTimeout(r, 1));
    }
    const refused = this.admit(p, hook, true);
    if (refused) return refused;
    const s = p.sandbox!;
    try {
      s.begin(p.hookIndex.get(hook)!, JSON.stringify(input));
    } catch (err) {
      p.stats.calls--;
      p.sinceStart--;
      this.h.logger.warn({ plugin: id, hook, err: (err as Error).message }, `plugin ${id}: ${hook} not called: ${(err as Error).message}`);
      return SKIPPED;
    }
    const wait = waitMs === undefined ? p.manifest.limits.callMs : Math.max(p.manifest.limits.callMs, waitMs - (performance.now() - startedAt));
    const r = await s.waitAsync(wait);
    if (p.sandbox !== s) return p.fault ? { status: 'fault', fault: p.fault } : SKIPPED;
    return this.finish(p, hook, r, (bytes) => decodeJson(bytes, schema, emptyOk));
  }

  private audioHook(p: Loaded, format?: 'json' | 'raw'): HookName | null {
    if (format === 'raw') return p.active.has('on_audio_raw') ? 'on_audio_raw' : null;
    if (format === 'json') return p.active.has('on_audio') ? 'on_audio' : null;
    if (p.active.has('on_audio_raw')) return 'on_audio_raw';
    return p.active.has('on_audio') ? 'on_audio' : null;
  }

  private beginAudio(p: Loaded, hook: HookName, frame: Float32Array): boolean {
    const s = p.sandbox!;
    try {
      if (hook === 'on_audio_raw') s.begin(p.hookIndex.get(hook)!, new Uint8Array(frame.buffer, frame.byteOffset, frame.byteLength));
      else s.begin(p.hookIndex.get(hook)!, JSON.stringify({ samples: Array.from(frame), sampleRate: SAMPLE_RATE, channels: 1 }));
      return true;
    } catch (err) {
      p.stats.calls--;
      p.sinceStart--;
      this.h.logger.warn({ plugin: p.manifest.id, hook, err: (err as Error).message }, `plugin ${p.manifest.id}: audio frame not sent`);
      return false;
    }
  }

  private decodeAudio(hook: HookName, samples: number) {
    return (bytes: Uint8Array): Float32Array | Error => {
      if (hook === 'on_audio_raw') {
        if (bytes.length !== samples * 4) return new Error(`expected ${samples * 4} bytes of f32 samples, got ${bytes.length}`);
        return new Float32Array(bytes.buffer, bytes.byteOffset, samples);
      }
      const v = decodeJson(bytes, AudioJsonOutput, false);
      if (v instanceof Error) return v;
      if (v.samples.length !== samples) return new Error(`expected ${samples} samples, got ${v.samples.length}`);
      return Float32Array.from(v.samples);
    };
  }

  /**
   * Runs one plugin's audio hook on a frame (960 f32 samples, mono, 48 kHz).
   * `format` forces the JSON or the binary hook; by default the binary one is used when present.
   */
  async callAudio(id: string, frame: Float32Array, format?: 'json' | 'raw'): Promise<CallOutcome<Float32Array>> {
    const started = this.startAudio(id, frame, format);
    if ('status' in started) return started;
    const { p, hook } = started;
    const s = p.sandbox!;
    const r = await s.waitAsync(p.manifest.limits.callMs);
    if (p.sandbox !== s) return this.countBypass(p, p.fault ? { status: 'fault', fault: p.fault } : SKIPPED);
    return this.countBypass(p, this.finish(p, hook, r, this.decodeAudio(hook, frame.length)));
  }

  /**
   * The same, blocking the calling thread for at most callMs: for the audio
   * thread (a worker). Do not use it on the main thread.
   */
  callAudioSync(id: string, frame: Float32Array, format?: 'json' | 'raw'): CallOutcome<Float32Array> {
    const started = this.startAudio(id, frame, format);
    if ('status' in started) return started;
    const { p, hook } = started;
    const r = p.sandbox!.waitSync(p.manifest.limits.callMs);
    return this.countBypass(p, this.finish(p, hook, r, this.decodeAudio(hook, frame.length)));
  }

  /** Admits an audio call and hands the frame to the sandbox; an outcome instead when it cannot run. */
  private startAudio(id: string, frame: Float32Array, format?: 'json' | 'raw'): { p: Loaded; hook: HookName } | CallOutcome<never> {
    const p = this.h.lookup(id);
    if (!p) return SKIPPED;
    const hook = this.audioHook(p, format);
    if (!hook) return SKIPPED;
    const refused = this.admit(p, hook);
    if (refused) return this.countBypass(p, refused);
    if (!this.beginAudio(p, hook, frame)) return SKIPPED;
    return { p, hook };
  }

  private countBypass<T>(p: Loaded, outcome: CallOutcome<T>): CallOutcome<T> {
    if (outcome.status !== 'ok') p.stats.bypassedFrames++;
    return outcome;
  }
}
