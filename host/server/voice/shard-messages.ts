// What the main thread and a voice shard (shard-pool.ts, shard-worker.ts)
// say to each other over the worker's message port. Port messages are
// delivered in order, so a session's credentials always arrive before
// anything about it, and its removal after. Voice itself never travels here
// (shard-ring.ts), except the TLS fallback: tunnelled datagrams in, and
// sealed frames for listeners on TLS out, batched per loop turn.
import type { ServerConfig } from '../../config/server-config.js';
import type { VoiceBackend } from '../../voice/packet.js';
import type { VoiceStats } from './lane-monitor.js';

/** workerData of a shard. */
export interface ShardInit {
  index: number;
  count: number;
  /** The server config with voice.port = this shard's port and voice.shards = 1 (a shard is one lane). */
  config: ServerConfig;
  /** pino level name of the main logger. */
  logLevel: string;
  /** rings[from][to]: what shard `from` hands to shard `to` (null on the diagonal). */
  rings: (SharedArrayBuffer | null)[][];
  /** bells[i]: how producers wake shard i. */
  bells: SharedArrayBuffer[];
}

/** What a shard needs about one session to pick its listeners and to judge it as a speaker. */
export interface SessionFlags {
  channelId: number;
  selfMute: boolean;
  selfDeaf: boolean;
  serverMute: boolean;
}

export type MainToShard =
  | ({ type: 'add'; token: number; sessionId: number; secret: Uint8Array; backend: VoiceBackend } & SessionFlags)
  | ({ type: 'presence'; token: number; event: 'join' | 'update' | 'leave' } & SessionFlags)
  | { type: 'remove'; token: number }
  /** The channels that are voice channels (the whole set, sent when the tree changed). */
  | { type: 'voiceChannels'; ids: number[] }
  /** Which shards hold at least one listener (not self-deafened) in a channel: bit i = shard i. */
  | { type: 'listeners'; channelId: number; mask: number }
  /** A datagram that came over the TLS fallback (already checked by main: shard-pool.ts). */
  | { type: 'tunnel'; body: Uint8Array }
  | { type: 'kernel'; id: number }
  /** Answered once everything posted before it is handled (ShardPool.sync). */
  | { type: 'sync'; id: number }
  | { type: 'tune'; useNative?: boolean; staleMs?: number };

/** Counters of the shard plumbing itself (summed over shards into VoiceStats.shards). */
export interface RelayCounters {
  /** Packets written into another shard's ring (one per destination shard, not per copy). */
  relayed: number;
  /** Packets read from other shards' rings and delivered here. */
  relayedIn: number;
  /** Packets not written because the destination's ring was full (dropped newest). */
  ringFull: number;
  /** Packets read from a ring after waiting longer than the lane's staleMs (dropped: too late to play). */
  ringStale: number;
  /** Sealed TLS-fallback frames handed to the main thread, and the messages that carried them. */
  tlsFrames: number;
  tlsBatches: number;
}

export type ShardToMain =
  | { type: 'ready'; port: number }
  /** One pino line of the shard's logger, re-logged by main (shard-log.ts). */
  | { type: 'log'; line: string }
  /**
   * The shard's counters (a full copy), and the sessions whose UDP state changed
   * since the last report: [token, 1 = UDP works | 0 = TLS fallback] pairs.
   */
  | { type: 'stats'; stats: VoiceStats; relay: RelayCounters; transports: number[] }
  /** Sealed frames for TLS listeners: frame i is buf[ends[i-1] ?? 0, ends[i]) for tokens[i]. */
  | { type: 'tls'; tokens: number[]; ends: number[]; buf: ArrayBuffer }
  | { type: 'kernel'; id: number; kernel: VoiceStats['kernel'] }
  | { type: 'sync'; id: number };
