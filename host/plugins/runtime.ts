// The plugin runtime: loads plugins from manifest + wasm, runs each in its
// own sandbox thread (sandbox.ts), calls their hooks with per-call time
// limits (call-path.ts), and contains every kind of misbehaviour.
//
// Execution mode (measured, see docs/PLUGINS.md): Extism 2.0.0-rc13 in
// foreground mode *inside a thread of ours*, driven over a SharedArrayBuffer.
// Extism's own worker mode (runInWorker + timeoutMs) was the alternative; it
// costs several times more per call and can only kill, not bypass.
//
// Faults (trap, memory cap, malformed output, crash, timeout) disable the
// plugin, are logged at error level and emitted as 'fault' events; other
// plugins are untouched (each has its own thread). What the runtime does not
// decide: whether and when to load a plugin again after a failed load (the
// embedder's policy: host/server/plugins/load-policy.ts for the server).
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { z } from 'zod';
import { HOOK_CAPABILITY, type Capability, type HookName } from './capabilities.js';
import { CallPath } from './call-path.js';
import { PluginError } from './errors.js';
import type { ChatDecision, ChatEvent, CommandEvent, PresenceEvent, TimerEvent } from './hooks.js';
import * as dispatch from './hook-dispatch.js';
import { newLoaded, type Loaded } from './loaded.js';
import { loadPluginFiles, PAGES_PER_MIB, resolveConfig, verifyWasm, type PluginManifest } from './manifest.js';
import { LOG_RATE, TEXT_CAP, truncate } from './plugin-log.js';
import type { Effect } from './protocol.js';
import { Sandbox } from './sandbox.js';
import type { CallOutcome, FaultKind, FaultReport, LoadRequest, PluginAction, PluginHostOptions, PluginInfo } from './runtime-types.js';
import { MemoryKvStore, type KvStore } from './storage.js';
import { prepareModule } from './wasm-limits.js';

export type { CallOutcome, FaultKind, FaultReport, LoadRequest, PluginAction, PluginHostOptions, PluginInfo, PluginState, PluginStats } from './runtime-types.js';

/**
 * Plugins whose sandbox gets the state snapshot: state.read (hearth_state_read
 * returns it) and moderation (hearth_moderate refuses an admin or an absent
 * user with the reason instead of a silent no-op; it never returns the snapshot).
 */
const seesState = (p: Loaded): boolean => p.grants.has('state.read') || p.grants.has('moderation');

export class PluginHost extends EventEmitter {
  readonly logger: Logger;
  private readonly kv: KvStore;
  private readonly opts: Required<Omit<PluginHostOptions, 'logger' | 'kv' | 'onFault'>> & Pick<PluginHostOptions, 'onFault'>;
  private readonly plugins = new Map<string, Loaded>();
  /** null until the embedder publishes one: host functions then cannot tell whether a channel or user exists, and do not refuse. */
  private state: unknown = null;
  private closed = false;
  private readonly calls: CallPath;

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
    this.calls = new CallPath({
      logger: this.logger,
      lookup: (id) => this.plugins.get(id),
      fault: (p, kind, hook, message, memoryKiB) => this.fault(p, kind, hook, message, memoryKiB),
      applyEffects: (p, effects, commit) => this.applyEffects(p, effects, commit),
    });
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
        module: manifest.limits.module,
      });
      const p = newLoaded(manifest, module, grants, config, active);
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
      state: seesState(p) ? this.state : null,
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
    for (const p of this.plugins.values()) if (seesState(p)) p.sandbox?.publishState(state);
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
    // The message often carries guest text (an abort message, error_set): cut it.
    message = truncate(message);
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

  /**
   * A log line caused by a plugin (its own, or the host's note about it):
   * rate-limited per plugin, its text cut to TEXT_CAP (plugin-log.ts).
   */
  private guestLog(p: Loaded, e: Extract<Effect, { kind: 'log' }>): void {
    const id = p.manifest.id;
    const pass = p.logs.take((n) => this.logger.warn({ plugin: id, suppressed: n }, `plugin ${id}: ${n} log lines suppressed (over ${LOG_RATE}/s)`));
    if (!pass) return;
    let data = e.data;
    if (data && JSON.stringify(data).length > TEXT_CAP) data = { data: truncate(JSON.stringify(data)) };
    this.logger[e.level]({ plugin: id, source: e.source, ...(data ?? {}) }, `plugin ${id}: ${truncate(e.msg)}`);
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

  // ---- calls (call-path.ts) ----------------------------------------------------

  /**
   * Calls one JSON hook; the output is parsed and validated with `schema`.
   * Calls to one plugin are queued, one in flight at a time: two chat messages
   * arriving together are both filtered. Only a call that already missed its
   * time limit makes the ones behind it "busy" (bypassed).
   */
  callJson<S extends z.ZodType>(id: string, hook: HookName, input: unknown, schema: S, emptyOk = false, waitMs?: number): Promise<CallOutcome<z.infer<S>>> {
    return this.calls.callJson(id, hook, input, schema, emptyOk, waitMs);
  }

  /**
   * Runs one plugin's audio hook on a frame (960 f32 samples, mono, 48 kHz).
   * `format` forces the JSON or the binary hook; by default the binary one is used when present.
   */
  callAudio(id: string, frame: Float32Array, format?: 'json' | 'raw'): Promise<CallOutcome<Float32Array>> {
    return this.calls.callAudio(id, frame, format);
  }

  /** The same, blocking the calling thread for at most callMs: for the audio thread (a worker), never the main thread. */
  callAudioSync(id: string, frame: Float32Array, format?: 'json' | 'raw'): CallOutcome<Float32Array> {
    return this.calls.callAudioSync(id, frame, format);
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
