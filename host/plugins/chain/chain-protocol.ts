// The shared memory between the audio thread (the owner, audio-chain.ts) and
// the chain thread (chain-worker.ts), which runs every audio guest of the
// capture chain. One SharedArrayBuffer per chain thread, laid out as:
//
//   [0, 64)        16 Int32 control words (Ctrl)
//   [64, 576)      per-guest Int32 words, MAX_GUESTS x GUEST_WORDS (G)
//   [576, 712)     Float64: per-guest elapsed µs of the last frame, then the
//                  chain thread's own time for the whole frame (FRAME_US_SLOT)
//   [712, 8904)    per-guest UTF-8 message (why it faulted / failed to load), MESSAGE_BYTES each
//   [8904, 20424)  Float32 data: mic[960], reference[960], out[960]
//   [20424, ...)   Float32 per-guest stats, MAX_GUESTS x STATS_PER_GUEST: the
//                  newest values a zero-copy guest published with statSet
//                  (copied out of its FRAME_BUFFER after each call; NaN = none)
//
// A frame: the owner writes mic + reference, increments ReqSeq and notifies
// it. The chain thread (in Atomics.wait on ReqSeq) runs the enabled guests in
// order, each guest's output being the next one's input; before each guest it
// stores the guest's index in Current and the time in GuestStartUs (so that,
// if the chain hangs, the owner knows the culprit and since when), after it
// the guest's status and elapsed time. It then writes `out`, stores ReqSeq's
// value into RespSeq and notifies. The owner waits on RespSeq for at most its
// deadline. At most one frame is in flight: while the chain is still busy
// with a late frame the owner does not send another (no queueing).
//
// The Atomics.store of RespSeq (or Current) publishes every plain write made
// before it; the owner reads the per-guest words only after an Atomics.load
// that saw it, so no other synchronisation is needed.
import type { MessagePort } from 'node:worker_threads';
import type { Effect } from '../protocol.js';
import type { WasmModule } from '../platform.js';
import { FRAME_SAMPLES } from '../hooks.js';

export { FRAME_SAMPLES };
export const MAX_GUESTS = 16;
export const CTRL_WORDS = 16;
export const GUEST_WORDS = 8;
export const MESSAGE_BYTES = 512;

const GUEST_OFFSET = CTRL_WORDS * 4;
const TIMES_OFFSET = GUEST_OFFSET + MAX_GUESTS * GUEST_WORDS * 4;
/** Index of the chain thread's whole-frame time in the Float64 area. */
export const FRAME_US_SLOT = MAX_GUESTS;
const MESSAGES_OFFSET = TIMES_OFFSET + (MAX_GUESTS + 1) * 8;
const DATA_OFFSET = MESSAGES_OFFSET + MAX_GUESTS * MESSAGE_BYTES;
const STATS_OFFSET = DATA_OFFSET + 3 * FRAME_SAMPLES * 4;
/** Stats a guest may publish (sdk FRAME_STATS_COUNT; names: the manifest's audio.stats). */
export const STATS_PER_GUEST = 16;
export const CHAIN_SAB_BYTES = STATS_OFFSET + MAX_GUESTS * STATS_PER_GUEST * 4;

export const Ctrl = {
  ReqSeq: 0,
  RespSeq: 1,
  /** Phase of the chain thread (Phase below). */
  Phase: 2,
  /** Index of the guest the chain thread is in (instantiating it or calling it); -1 when in none. */
  Current: 3,
  /** Shared clock (clockUs) when the chain thread entered Current. */
  GuestStartUs: 4,
  /** Frames the chain thread has served (one hop each). */
  Hops: 5,
  /** Effect messages the chain thread has posted on its port (the owner drains when this moves). */
  EffectsPosted: 6,
} as const;

export const Phase = {
  Starting: 0,
  Ready: 1,
} as const;

/** Per-guest words, at guest index * GUEST_WORDS. */
export const G = {
  /** Owner -> chain: 1 = call this guest, 0 = skip it. Read before every frame (live enable/disable). */
  Enabled: 0,
  /** Chain -> owner: GuestStatus of the last frame. */
  Status: 1,
  /** Calls made since the thread started. */
  Calls: 2,
  /** LoadState. */
  Load: 3,
  /** Guest linear memory after the last call (KiB). */
  MemoryKiB: 4,
  /** Bytes of this guest's message. */
  MessageLen: 5,
} as const;

export const GuestStatus = {
  /** Not called this frame (disabled, or out of the chain after a fault). */
  Skipped: 0,
  Ok: 1,
  /** Ran longer than its callMs: its output was discarded, the chain went on with its input. */
  Overrun: 2,
  /** Trapped (unreachable, out of bounds, abort, memory cap). */
  Trap: 3,
  /** Set an Extism error instead of an output. */
  GuestError: 4,
  /** Answered no output or the wrong number of bytes. */
  BadOutput: 5,
} as const;
export type GuestStatus = (typeof GuestStatus)[keyof typeof GuestStatus];

export const LoadState = {
  Pending: 0,
  Ok: 1,
  Failed: 2,
} as const;

export interface ChainViews {
  ctrl: Int32Array;
  guests: Int32Array;
  /** Per-guest elapsed µs of the last frame; [FRAME_US_SLOT] = the chain thread's time for the frame. */
  times: Float64Array;
  messages: Uint8Array;
  mic: Float32Array;
  reference: Float32Array;
  out: Float32Array;
  /** Per-guest published stats, at guest index * STATS_PER_GUEST. */
  stats: Float32Array;
}

export function chainViews(sab: SharedArrayBuffer): ChainViews {
  return {
    ctrl: new Int32Array(sab, 0, CTRL_WORDS),
    guests: new Int32Array(sab, GUEST_OFFSET, MAX_GUESTS * GUEST_WORDS),
    times: new Float64Array(sab, TIMES_OFFSET, MAX_GUESTS + 1),
    messages: new Uint8Array(sab, MESSAGES_OFFSET, MAX_GUESTS * MESSAGE_BYTES),
    mic: new Float32Array(sab, DATA_OFFSET, FRAME_SAMPLES),
    reference: new Float32Array(sab, DATA_OFFSET + FRAME_SAMPLES * 4, FRAME_SAMPLES),
    out: new Float32Array(sab, DATA_OFFSET + 2 * FRAME_SAMPLES * 4, FRAME_SAMPLES),
    stats: new Float32Array(sab, STATS_OFFSET, MAX_GUESTS * STATS_PER_GUEST),
  };
}

/**
 * A clock both threads read the same way: wall-clock microseconds, wrapped
 * to an Int32 (compare with `(a - b) | 0`, good for 35 minutes). Each
 * thread's performance.now() counts from its own timeOrigin; their sum is
 * the same instant everywhere (to well under a millisecond).
 */
export function clockUs(): number {
  return Math.round((performance.timeOrigin + performance.now()) * 1000) | 0;
}

/** What the chain thread gets at start (workerData). */
export interface ChainGuestInit {
  pluginId: string;
  module: WasmModule;
  hook: 'on_audio_raw' | 'on_aec_raw';
  grants: string[];
  config: Record<string, unknown>;
  kv: [string, string][];
  memoryMiB: number;
  storageBytes: number;
  /** limits.callMs in µs: a call taking longer is an overrun (its output is discarded). */
  callUs: number;
  /** How many stats the guest publishes (its manifest's audio.stats); 0 = none are copied. */
  statsCount: number;
}

export interface ChainInit {
  sab: SharedArrayBuffer;
  guests: ChainGuestInit[];
  /** Extism plugin.reset() interval, in calls of one guest. */
  resetEvery: number;
  /** Where the chain thread posts the effects (logs, storage writes, actions) its guests requested. */
  port: MessagePort;
}

/** Posted on the effects port, only for calls that requested something. */
export interface EffectsMessage {
  guest: number;
  effects: Effect[];
}
