// The sharded lane's VoiceStats: every shard counts its own (a full lane's
// counters, lane-monitor.ts) and reports a copy a few times a second
// (shard-worker.ts); the main thread writes their sum into the one
// VoiceStats object everybody reads (metrics, tests, benchmarks), in place,
// so a reference taken once stays current. Counters add up; a few figures
// do not, and are combined by their meaning (SPECIAL below). A shard that
// died keeps its final counters in `retired`, so no total ever goes back.
import type { VoiceStats } from './lane-monitor.js';
import type { RelayCounters } from './shard-messages.js';

export interface ShardStats extends RelayCounters {
  /** Shards configured (voice.shards). */
  count: number;
  /** Shard threads running now. */
  running: number;
  /** Of those, shards whose socket is up (a restarted one counts once it is): where new sessions go. */
  ready: number;
  /** UDP port of each shard (0 until it is up). */
  ports: number[];
  /** Sessions assigned to each shard. */
  sessions: number[];
  /** Shards started again after their thread died. */
  restarts: number;
}

type Combine = (values: number[]) => number;
const sum: Combine = (v) => v.reduce((a, b) => a + b, 0);
const max: Combine = (v) => Math.max(...v);
const min: Combine = (v) => Math.min(...v);

/** Figures that are not per-shard counters. */
const SPECIAL: Record<string, Combine> = {
  // How far behind the lane is: the worst shard's.
  'backlog.lagMs': max,
  'backlog.maxLagMs': max,
  // Machine-wide, every shard reads the same figure.
  'kernel.systemRcvbufErrors': max,
  // What the kernel granted each socket: the smallest tells the operator whether rmem_max is too low.
  'kernel.recvBufferBytes': min,
};

type Tree = Record<string, unknown>;
const isTree = (v: unknown): v is Tree => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * Writes the combination of `sources` into `target`, key by key of `target`
 * (keys a source lacks are skipped for it): numbers per SPECIAL or summed;
 * text (the fan-out engine) from the first source that has some; null when
 * every source that has the key says null (kernel figures off Linux).
 */
export function combineInto(target: Tree, sources: readonly Tree[], path = ''): void {
  for (const key of Object.keys(target)) {
    const at = path === '' ? key : `${path}.${key}`;
    const here = target[key];
    const values = sources.map((s) => s[key]);
    if (isTree(here)) {
      combineInto(here, values.filter(isTree), at);
    } else if (typeof here === 'number' || typeof here === 'string' || here === null) {
      const nums = values.filter((v): v is number => typeof v === 'number');
      const text = values.find((v): v is string => typeof v === 'string');
      if (nums.length > 0) target[key] = (SPECIAL[at] ?? sum)(nums);
      else if (text !== undefined) target[key] = text;
      else if (values.some((v) => v === null)) target[key] = null;
    }
  }
}

/** A zeroed copy of a stats snapshot's shape (the `retired` accumulator starts from it). */
export function zeroed<T>(shape: T): T {
  if (typeof shape === 'number') return 0 as T;
  if (!isTree(shape)) return shape;
  const out: Tree = {};
  for (const [k, v] of Object.entries(shape)) out[k] = zeroed(v);
  return out as T;
}

/** Adds the counters of `from` into `into` (a dead shard's last report into `retired`). */
export function accumulate(into: Tree, from: Tree): void {
  combineInto(into, [into, from]);
}

export function emptyRelay(): RelayCounters {
  return { relayed: 0, relayedIn: 0, ringFull: 0, ringStale: 0, tlsFrames: 0, tlsBatches: 0 };
}

const RELAY_KEYS = Object.keys(emptyRelay()) as (keyof RelayCounters)[];

/** Sums the shards' relay counters into `into` (its other fields, e.g. ShardStats' ports, untouched). */
export function sumRelay(into: RelayCounters, from: readonly RelayCounters[]): void {
  for (const k of RELAY_KEYS) into[k] = sum(from.map((r) => r[k]));
}

/** The parts of `VoiceStats` that the main thread's own checks count (TLS frames it refused before any shard saw them). */
export type OwnCounters = Pick<VoiceStats, 'received' | 'aeadOpens' | 'dropped'>;
