// The public shapes of the plugin runtime (runtime.ts): what a host is
// given, what it reports about each plugin, and what a call can come to.
import type { Logger } from 'pino';
import type { Capability, HookName } from './capabilities.js';
import type { PluginManifest } from './manifest.js';
import type { Effect } from './protocol.js';
import type { KvStore } from './storage.js';

export interface PluginHostOptions {
  logger: Logger;
  /** Where plugin key/value data is persisted (default: in memory). */
  kv?: KvStore;
  /** Time a plugin gets to instantiate, start function included (default 5000 ms). */
  loadTimeoutMs?: number;
  /** Size of each plugin's call channel: largest input, and output + effects (default 1 MiB). */
  ioBytes?: number;
  /** Extism plugin.reset() interval in calls (default 1000). */
  resetEvery?: number;
  /** JS heap cap of each sandbox thread in MiB (default 64). */
  heapMiB?: number;
  /** Called for every fault (also emitted as the 'fault' event). */
  onFault?: (fault: FaultReport) => void;
}

export interface LoadRequest {
  manifest: PluginManifest;
  wasm: Uint8Array;
  /** Capabilities the admin approved; only those the manifest requests take effect. */
  grants: Iterable<string>;
  /** Admin config, overlaid on the manifest defaults and validated against its schema. */
  config?: Record<string, unknown>;
}

export type FaultKind = 'timeout' | 'overruns' | 'trap' | 'memory' | 'bad_output' | 'guest_error' | 'crash';

export interface FaultReport {
  pluginId: string;
  kind: FaultKind;
  hook: HookName | null;
  message: string;
  /** ISO timestamp. */
  at: string;
  memoryKiB?: number;
}

export interface PluginStats {
  /** Calls started. */
  calls: number;
  /** Calls answered in time with a usable result. */
  ok: number;
  /** Calls not answered within callMs (each is an overrun). */
  late: number;
  /** Calls bypassed because a late call was still running. */
  busy: number;
  faults: number;
  /** Audio frames passed through unprocessed (late + busy + skipped while disabled). */
  bypassedFrames: number;
  /** Guest execution time of the last finished call / the longest one (µs). */
  lastUs: number;
  maxUs: number;
}

export type PluginState = 'running' | 'disabled';

export interface PluginInfo {
  id: string;
  name: string;
  version: string;
  state: PluginState;
  /** A call is in flight (normally only after a late call, until it finishes or is killed). */
  busy: boolean;
  /** Hooks the host will call (declared, exported and allowed by the grants). */
  hooks: HookName[];
  grants: Capability[];
  limits: PluginManifest['limits'];
  fault: FaultReport | null;
  stats: PluginStats;
  /** Guest linear memory after the last call (KiB). */
  memoryKiB: number;
}

export type CallOutcome<T> =
  | { status: 'ok'; value: T; elapsedUs: number }
  | { status: 'late' }
  | { status: 'busy' }
  | { status: 'skipped' }
  | { status: 'fault'; fault: FaultReport };

export interface PluginAction {
  pluginId: string;
  effect: Extract<Effect, { kind: 'chat.send' | 'moderation' }>;
}

