// The plugin runtime: loads plugins from manifest + wasm, runs each in its
// own sandbox thread (sandbox.ts), calls their hooks with per-call time
// limits, and contains every kind of misbehaviour.
//
// Execution mode (measured, see docs/PLUGINS.md): Extism 2.0.0-rc13 in
// foreground mode *inside a thread of ours*, driven over a SharedArrayBuffer.
// Extism's own worker mode (runInWorker + timeoutMs) was the alternative; it
// costs several times more per call and can only kill, not bypass.
//
// Time policy per call (limits from the manifest):
//   - answered within callMs          -> used
//   - not answered within callMs      -> "late": the caller goes on without
//     it (an audio frame passes through unprocessed, a chat message is not
//     filtered by this plugin); the call keeps running; an overrun is counted
//   - a call arriving while a late one still runs -> "busy": bypassed too
//   - overrunLimit late calls among the last 100 -> plugin disabled (the
//     first 20 calls after a start are exempt: a fresh thread runs cold)
//   - still running at killMs         -> its thread is terminated, plugin disabled
// Faults (trap, memory cap, malformed output, crash, timeout) disable the
// plugin, are logged at error level and emitted as 'fault' events; other
// plugins are untouched (each has its own thread).
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { z } from 'zod';
import { HOOK_CAPABILITY, type Capability, type HookName } from './capabilities.js';
import { PluginError } from './errors.js';
import {
  AudioJsonOutput,
  SAMPLE_RATE,
  type ChatDecision,
  type ChatEvent,
  type CommandEvent,
  type PresenceEvent,
  type TimerEvent,
} from './hooks.js';
import { loadPluginFiles, PAGES_PER_MIB, resolveConfig, verifyWasm, type PluginManifest } from './manifest.js';
import type { WasmModule } from './platform.js';
import { Status, type Effect } from './protocol.js';
import { Sandbox, type CallResult } from './sandbox.js';
import { decodeJson } from './decode-json.js';
import * as dispatch from './hook-dispatch.js';
import type { CallOutcome, FaultKind, FaultReport, LoadRequest, PluginAction, PluginHostOptions, PluginInfo, PluginState, PluginStats } from './runtime-types.js';
import { MemoryKvStore, type KvStore } from './storage.js';
import { prepareModule } from './wasm-limits.js';

export type { CallOutcome, FaultKind, FaultReport, LoadRequest, PluginAction, PluginHostOptions, PluginInfo, PluginState, PluginStats } from './runtime-types.js';

const OVERRUN_WINDOW = 100;
/**
 * Calls after a (re)start whose overruns are not held against the plugin: a
 * fresh sandbox thread runs cold (JIT warm-up, first garbage collections) and
 * its first calls can take a few ms. They are still bypassed when late.
 */
const WARMUP_CALLS = 20;
const SKIPPED = { status: 'skipped' } as const;
const LATE = { status: 'late' } as const;
const BUSY = { status: 'busy' } as const;
const decoder = new TextDecoder();

interface Loaded {
  manifest: PluginManifest;
  module: WasmModule;
  grants: Set<Capability>;
  config: Record<string, unknown>;
  active: Set<HookName>;
  hookIndex: Map<HookName, number>;
  sandbox: Sandbox | null;
  state: PluginState;
  fault: FaultReport | null;
  stats: PluginStats;
  window: Uint8Array;
  windowAt: number;
  overruns: number;
  /** Calls since the sandbox (re)started. */
  sinceStart: number;
  lateHook: HookName | null;
  /** Tail of this plugin's queue of JSON calls (one in flight at a time). */
  queue: Promise<void>;
  memoryKiB: number;
  logTokens: number;
  logRefillAt: number;
  logsDropped: number;
}

/** Guest log lines per second per plugin (burst LOG_BURST) before lines are dropped. */
const LOG_RATE = 20;
const LOG_BURST = 100;

export class PluginHost extends EventEmitter {
  private readonly logger: Logger;
  private readonly kv: KvStore;
  private readonly opts: Required<Omit<PluginHostOptions, 'logger' | 'kv' | 'onFault'>> & Pick<PluginHostOptions, 'onFault'>;
  private readonly plugins = new Map<string, Loaded>();
  private state: unknown = { channels: [], users: [] };
  private closed = false;

  constructor(options: PluginHostOptions) {
    super();
    this.logger = options.logger.child({ component: 'plugins' });
    this.kv = options.kv ?? new MemoryKvStore();
    this.opts = {
      loadTimeoutMs: options.loadTimeoutMs ?? 5000,
      ioBytes: options.ioBytes ?? 1024 * 1024,
      resetEvery: options.resetEvery ?? 1000,
      heapMiB: options.heapMiB ?? 64,
      onFault: options.onFault,
    };
  }

  // ---- lifecycle --------------------------------------------------------------

  /** Loads and starts a plugin. Throws PluginError (sha256 mismatch, bad wasm, forbidden import, load timeout, ...). */
  async load(req: LoadRequest): Promise<PluginInfo> {
    const { manifest } = req;
    const id = manifest.id;
    if (this.closed) throw new Error('plugin host is closed');
    if (this.plugins.has(id)) throw new PluginError('DUPLICATE_ID', `plugin ${id} is already loaded`, id);
    try {
      verifyWasm(manifest, req.wasm);
      const config = resolveConfig(manifest, req.config ?? {});
      const requested = new Set<Capability>(manifest.capabilities);
      const grants = new Set<Capability>();
      const ignored: string[] = [];
      for (const g of req.grants) {
        if (requested.has(g as Capability)) grants.add(g as Capability);
        else ignored.push(g);
      }
      if (ignored.length) this.logger.warn({ plugin: id, ignored }, `plugin ${id}: grants it did not request are ignored`);
      const active = new Set<HookName>();
      for (const hook of manifest.hooks) {
        const cap = HOOK_CAPABILITY[hook];
        if (cap === null || grants.has(cap)) active.add(hook);
        else this.logger.info({ plugin: id, hook, capability: cap }, `plugin ${id}: hook ${hook} stays off (capability ${cap} not granted)`);
      }
      const module = await prepareModule(req.wasm, {
        pluginId: id,
        maxPages: manifest.limits.memoryMiB * PAGES_PER_MIB,
        requiredExports: manifest.hooks,
      });
      const p: Loaded = {
        manifest,
        module,
        grants,
        config,
        active,
        hookIndex: new Map(manifest.hooks.map((h, i) => [h, i])),
        sandbox: null,
        state: 'disabled',
        fault: null,
        stats: { calls: 0, ok: 0, late: 0, busy: 0, faults: 0, bypassedFrames: 0, lastUs: 0, maxUs: 0 },
        window: new Uint8Array(OVERRUN_WINDOW),
        windowAt: 0,
        overruns: 0,
        sinceStart: 0,
        lateHook: null,
        queue: Promise.resolve(),
        memoryKiB: 0,
        logTokens: LOG_BURST,
        logRefillAt: performance.now(),
        logsDropped: 0,
      };
      for (const other of this.plugins.values()) {
        const taken = manifest.commands.filter((c) => other.manifest.commands.includes(c));
        if (taken.length) this.logger.warn({ plugin: id, commands: taken, owner: other.manifest.id }, `plugin ${id}: commands ${taken.join(', ')} already belong to ${other.manifest.id}, which keeps them`);
      }
      await this.start(p);
      this.plugins.set(id, p);
      this.logger.info(
        { plugin: id, version: manifest.version, hooks: [...active], grants: [...grants], limits: manifest.limits },
        `plugin ${id} ${manifest.version} loaded`,
      );
      return this.describe(p);
    } catch (err) {
      this.logger.error({ plugin: id, err: { code: (err as PluginError).code, message: (err as Error).message } }, `plugin ${id} failed to load: ${(err as Error).message}`);
      throw err;
    }
  }

  /** Reads manifest + wasm from disk (sha256 checked) and loads the plugin. */
  async loadFile(manifestPath: string, opts: { grants: Iterable<string>; config?: Record<string, unknown>; wasmPath?: string }): Promise<PluginInfo> {
    const files = await loadPluginFiles(manifestPath, opts.wasmPath ? { wasmPath: opts.wasmPath } : {});
    return this.load({ manifest: files.manifest, wasm: files.wasm, grants: opts.grants, ...(opts.config ? { config: opts.config } : {}) });
  }

  private async start(p: Loaded): Promise<void> {
    const id = p.manifest.id;
    const sandbox = await Sandbox.start({
      pluginId: id,
      module: p.module,
      hooks: p.manifest.hooks,
      grants: [...p.grants],
      config: p.config,
      kv: p.grants.has('storage') ? this.kv.load(id) : [],
      state: p.grants.has('state.read') ? this.state : null,
      memoryMiB: p.manifest.limits.memoryMiB,
      storageBytes: p.manifest.limits.storageKiB * 1024,
      resetEvery: this.opts.resetEvery,
      ioBytes: this.opts.ioBytes,
      loadTimeoutMs: this.opts.loadTimeoutMs,
      heapMiB: this.opts.heapMiB,
    });
    sandbox.onExit((reason) => {
      if (p.sandbox !== sandbox) return;
      const kind: FaultKind = /out of memory|ERR_WORKER_OUT_OF_MEMORY/i.test(reason) ? 'memory' : 'crash';
      this.fault(p, kind, p.lateHook, reason);
    });
    p.sandbox = sandbox;
    p.state = 'running';
    p.fault = null;
    p.memoryKiB = sandbox.startMemoryKiB;
    p.window.fill(0);
    p.overruns = 0;
    p.windowAt = 0;
    p.sinceStart = 0;
    p.lateHook = null;
  }

  /** Restarts a disabled plugin (a fresh instance; its stored keys are kept). */
  async enable(id: string): Promise<PluginInfo> {
    const p = this.get(id);
    if (p.state !== 'running') {
      await this.start(p);
      this.logger.info({ plugin: id }, `plugin ${id} enabled`);
    }
    return this.describe(p);
  }

  /** Stops a plugin's thread; it stays loaded (enable() restarts it). */
  async disable(id: string, reason = 'disabled by the admin'): Promise<void> {
    const p = this.get(id);
    if (p.state !== 'running') return;
    p.state = 'disabled';
    const s = p.sandbox;
    p.sandbox = null;
    this.logger.info({ plugin: id, reason }, `plugin ${id} disabled: ${reason}`);
    this.emit('disabled', { pluginId: id, reason });
    await s?.terminate();
  }

  async unload(id: string): Promise<void> {
    const p = this.get(id);
    this.plugins.delete(id);
    const s = p.sandbox;
    p.sandbox = null;
    p.state = 'disabled';
    await s?.terminate();
    this.logger.info({ plugin: id }, `plugin ${id} unloaded`);
  }

  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.plugins.values()];
    this.plugins.clear();
    await Promise.all(
      all.map(async (p) => {
        const s = p.sandbox;
        p.sandbox = null;
        p.state = 'disabled';
        await s?.terminate();
      }),
    );
  }

  /** The newest server state (channels, users), seen by plugins granted state.read from their next call on. */
  publishState(state: unknown): void {
    this.state = state;
    for (const p of this.plugins.values()) if (p.grants.has('state.read')) p.sandbox?.publishState(state);
  }

  info(id: string): PluginInfo {
    return this.describe(this.get(id));
  }

  list(): PluginInfo[] {
    return [...this.plugins.values()].map((p) => this.describe(p));
  }

  private get(id: string): Loaded {
    const p = this.plugins.get(id);
    if (!p) throw new PluginError('UNKNOWN_PLUGIN', `no plugin ${id} is loaded`, id);
    return p;
  }

  private describe(p: Loaded): PluginInfo {
    return {
      id: p.manifest.id,
      name: p.manifest.name,
      version: p.manifest.version,
      state: p.state,
      busy: p.sandbox?.busy ?? false,
      hooks: [...p.active],
      grants: [...p.grants],
      limits: p.manifest.limits,
      fault: p.fault,
      stats: { ...p.stats },
      memoryKiB: p.memoryKiB,
    };
  }

  // ---- faults, overruns, effects ----------------------------------------------

  private fault(p: Loaded, kind: FaultKind, hook: HookName | null, message: string, memoryKiB?: number): FaultReport {
    if (p.state !== 'running' && p.fault) return p.fault;
    const id = p.manifest.id;
    const report: FaultReport = { pluginId: id, kind, hook, message, at: new Date().toISOString(), ...(memoryKiB !== undefined ? { memoryKiB } : {}) };
    p.state = 'disabled';
    p.fault = report;
    p.stats.faults++;
    const s = p.sandbox;
    p.sandbox = null;
    if (s) void s.terminate();
    this.logger.error({ plugin: id, fault: kind, hook, memoryKiB }, `plugin ${id} disabled after a fault (${kind}): ${message}`);
    this.opts.onFault?.(report);
    this.emit('fault', report);
    this.emit('disabled', { pluginId: id, reason: kind });
    return report;
  }

  /** Records one finished-or-late call in the overrun window; disables the plugin at the limit. */
  private recordCall(p: Loaded, overran: boolean, hook: HookName): FaultReport | null {
    const old = p.window[p.windowAt]!;
    const now = overran && p.sinceStart > WARMUP_CALLS ? 1 : 0;
    p.window[p.windowAt] = now;
    p.windowAt = (p.windowAt + 1) % OVERRUN_WINDOW;
    p.overruns += now - old;
    if (p.overruns >= p.manifest.limits.overrunLimit) {
      return this.fault(
        p,
        'overruns',
        hook,
        `${p.overruns} of its last ${OVERRUN_WINDOW} calls took longer than callMs (${p.manifest.limits.callMs} ms)`,
      );
    }
    return null;
  }

  private guestLog(p: Loaded, e: Extract<Effect, { kind: 'log' }>): void {
    const id = p.manifest.id;
    if (e.source === 'guest') {
      const now = performance.now();
      p.logTokens = Math.min(LOG_BURST, p.logTokens + ((now - p.logRefillAt) / 1000) * LOG_RATE);
      p.logRefillAt = now;
      if (p.logTokens < 1) {
        p.logsDropped++;
        return;
      }
      p.logTokens--;
      if (p.logsDropped) {
        this.logger.warn({ plugin: id, dropped: p.logsDropped }, `plugin ${id}: dropped ${p.logsDropped} log lines over ${LOG_RATE}/s`);
        p.logsDropped = 0;
      }
    }
    this.logger[e.level]({ plugin: id, source: e.source, ...(e.data ?? {}) }, `plugin ${id}: ${e.msg}`);
  }

  /** Logs always; persists storage writes and emits actions only for calls that succeeded. */
  private applyEffects(p: Loaded, effects: Effect[], commit: boolean): void {
    const id = p.manifest.id;
    for (const e of effects) {
      if (e.kind === 'log') this.guestLog(p, e);
      else if (!commit) continue;
      else if (e.kind === 'kv.set' || e.kind === 'kv.delete') {
        try {
          if (e.kind === 'kv.set') this.kv.set(id, e.key, e.value);
          else this.kv.delete(id, e.key);
        } catch (err) {
          this.logger.error({ plugin: id, key: e.key, err: (err as Error).message }, `plugin ${id}: storage write failed`);
        }
      } else {
        const action: PluginAction = { pluginId: id, effect: e };
        this.logger.info({ plugin: id, action: e.kind, ...(e.kind === 'moderation' ? { moderation: e.action, userId: e.userId } : {}) }, `plugin ${id} requested ${e.kind}`);
        this.emit('action', action);
      }
    }
  }

  /** Turns a finished call into bytes or a fault. `late`: its answer is no longer wanted. */
  private settle(p: Loaded, hook: HookName, r: CallResult, late: boolean): Uint8Array | FaultReport {
    p.stats.lastUs = r.elapsedUs;
    if (r.elapsedUs > p.stats.maxUs) p.stats.maxUs = r.elapsedUs;
    p.memoryKiB = r.memoryKiB;
    this.applyEffects(p, r.effects, r.status === Status.Ok);
    if (r.status === Status.Ok) {
      if (!late) {
        const f = this.recordCall(p, false, hook);
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
        const memory = text.includes('host memory limit') || r.memoryKiB >= capKiB * 0.75;
        const what = memory ? `hit its memory cap (${r.memoryKiB} of ${capKiB} KiB in use)` : 'trapped';
        return this.fault(p, memory ? 'memory' : 'trap', hook, `${hook} ${what}: ${text}`, r.memoryKiB);
      }
      case Status.GuestError:
        return this.fault(p, 'guest_error', hook, `${hook} returned an error: ${text}`, r.memoryKiB);
      default:
        return this.fault(p, 'bad_output', hook, `${hook}: ${text}`, r.memoryKiB);
    }
  }

  /** Common start of a call: refuses disabled plugins, settles or bypasses a late call still in flight. */
  private admit(p: Loaded, hook: HookName): CallOutcome<never> | null {
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
        return BUSY;
      }
    }
    p.stats.calls++;
    p.sinceStart++;
    return null;
  }

  private killRunaway(p: Loaded): FaultReport {
    const hook = p.lateHook;
    return this.fault(p, 'timeout', hook, `${hook ?? 'a call'} was still running after killMs (${p.manifest.limits.killMs} ms); its thread was terminated`);
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
    if (value instanceof Error) return { status: 'fault', fault: this.fault(p, 'bad_output', hook, `${hook} returned malformed output: ${value.message}`, r.memoryKiB) };
    p.stats.ok++;
    return { status: 'ok', value, elapsedUs: r.elapsedUs };
  }

  // ---- calls ------------------------------------------------------------------

  /** Calls a JSON hook of one plugin; the output is parsed and validated with `schema`. */
  /**
   * Calls one JSON hook. Calls to one plugin are queued, one in flight at a
   * time: two chat messages arriving together are both filtered. Only a call
   * that already missed its time limit makes the ones behind it "busy" (bypassed).
   */
  callJson<S extends z.ZodType>(id: string, hook: HookName, input: unknown, schema: S, emptyOk = false): Promise<CallOutcome<z.infer<S>>> {
    const p = this.plugins.get(id);
    if (!p) return Promise.resolve(SKIPPED);
    const run = p.queue.then(() => this.callJsonNow(p, id, hook, input, schema, emptyOk));
    p.queue = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  private async callJsonNow<S extends z.ZodType>(p: Loaded, id: string, hook: HookName, input: unknown, schema: S, emptyOk: boolean): Promise<CallOutcome<z.infer<S>>> {
    if (this.plugins.get(id) !== p) return SKIPPED;
    const refused = this.admit(p, hook);
    if (refused) return refused;
    const s = p.sandbox!;
    try {
      s.begin(p.hookIndex.get(hook)!, JSON.stringify(input));
    } catch (err) {
      p.stats.calls--;
      p.sinceStart--;
      this.logger.warn({ plugin: id, hook, err: (err as Error).message }, `plugin ${id}: ${hook} not called: ${(err as Error).message}`);
      return SKIPPED;
    }
    const r = await s.waitAsync(p.manifest.limits.callMs);
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
      this.logger.warn({ plugin: p.manifest.id, hook, err: (err as Error).message }, `plugin ${p.manifest.id}: audio frame not sent`);
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
    const p = this.plugins.get(id);
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

  private withHook(hook: HookName): Loaded[] {
    return [...this.plugins.values()].filter((p) => p.state === 'running' && p.active.has(hook));
  }

  /** Manifests of the running plugins whose `hook` is active, in load order (for hook-dispatch.ts). */
  pluginsWith(hook: HookName): PluginManifest[] {
    return this.withHook(hook).map((p) => p.manifest);
  }

  /** Ids of the running plugins with an audio hook, in load order. */
  audioPluginIds(): string[] {
    return [...this.plugins.values()].filter((p) => p.state === 'running' && (p.active.has('on_audio_raw') || p.active.has('on_audio'))).map((p) => p.manifest.id);
  }

  // ---- hooks through every plugin (hook-dispatch.ts) --------------------------

  chat(ev: ChatEvent): Promise<ChatDecision> {
    return dispatch.chat(this, ev);
  }

  join(ev: PresenceEvent): Promise<void> {
    return dispatch.broadcast(this, 'on_join', ev);
  }

  leave(ev: PresenceEvent): Promise<void> {
    return dispatch.broadcast(this, 'on_leave', ev);
  }

  command(ev: CommandEvent): Promise<{ pluginId: string; reply: string } | null> {
    return dispatch.command(this, ev);
  }

  timer(ev: TimerEvent): Promise<void> {
    return dispatch.broadcast(this, 'on_timer', ev);
  }

  audio(frame: Float32Array): Promise<Float32Array> {
    return dispatch.audio(this, frame);
  }

  audioSync(frame: Float32Array): Float32Array {
    return dispatch.audioSync(this, frame);
  }
}
