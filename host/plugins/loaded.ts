// One loaded plugin as the runtime keeps it (runtime.ts owns its lifecycle,
// call-path.ts its calls, plugin-log.ts its log lines).
import type { Capability, HookName } from './capabilities.js';
import type { PluginManifest } from './manifest.js';
import type { WasmModule } from './platform.js';
import type { Sandbox } from './sandbox.js';
import type { FaultReport, PluginState, PluginStats } from './runtime-types.js';
import { LogLimiter } from './plugin-log.js';

/** Calls among which overruns are counted (limits.overrunLimit of the last OVERRUN_WINDOW). */
export const OVERRUN_WINDOW = 100;
/**
 * Calls after a (re)start whose overruns are not held against the plugin: a
 * fresh sandbox thread runs cold (JIT warm-up, first garbage collections) and
 * its first calls can take a few ms. They are still bypassed when late.
 */
export const WARMUP_CALLS = 20;

export interface Loaded {
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
  /** Rate limit of the log lines this plugin causes (its own and the host's notes about it). */
  logs: LogLimiter;
}

export function newLoaded(manifest: PluginManifest, module: WasmModule, grants: Set<Capability>, config: Record<string, unknown>, active: Set<HookName>): Loaded {
  return {
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
    logs: new LogLimiter(),
  };
}
