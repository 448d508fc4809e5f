// The public shapes of AudioChain (audio-chain.ts): options, the per-frame
// result, reports and stats.
import type { ChainGuest } from './chain-guests.js';
import type { ChainGuestStats } from './chain-entry.js';
import type { Effect } from '../protocol.js';

export type ChainReportKind = 'overrun' | 'disabled' | 'fault' | 'killed' | 'restarted';
/** `restarted`: pluginId is the guest whose kill, crash or re-enabling restarted the chain thread. */
export interface ChainReport {
  pluginId: string;
  kind: ChainReportKind;
  message: string;
}

export type FrameStatus = 'processed' | 'late' | 'busy' | 'unavailable';

/** One object per chain, reused by every process() call: read it before the next one. */
export interface ChainFrameResult {
  /** The chain's output is in `out`; otherwise out = mic (bypassed). */
  processed: boolean;
  /** late: missed the deadline; busy: an earlier late frame still runs; unavailable: no chain thread (starting, restarting, closed). */
  status: FrameStatus;
  /** Hand-off to answer (µs), when processed. */
  hopUs: number;
  /** The guests' own time in this frame, summed (µs), when processed: hopUs - guestUs is the host's cost. */
  guestUs: number;
  /** Guests whose effect is missing from this frame. */
  bypassedGuests: number;
}

export interface AudioChainOptions {
  guests: ChainGuest[];
  onReport?: (report: ChainReport) => void;
  /** Logs, storage writes and actions the guests requested through host functions (after their call). */
  onEffect?: (pluginId: string, effect: Effect) => void;
  /** Extism reset() interval per guest, in calls (default 1000). */
  resetEvery?: number;
  /** Time a chain thread gets to instantiate its guests, start functions included (default 5000 ms). */
  loadTimeoutMs?: number;
}

export interface AudioChainStats {
  frames: number;
  processed: number;
  /** frames - processed: passed through unprocessed. */
  bypassedFrames: number;
  lateFrames: number;
  busyFrames: number;
  unavailableFrames: number;
  /** Chain threads started after a kill, a crash or re-enabling a faulted guest. */
  restarts: number;
  /** Frames the chain threads served (one hop each). */
  hops: number;
  lastHopUs: number;
  hopP50Us: number;
  hopP99Us: number;
  /** The chain thread's own time for the last frame (µs). */
  lastChainUs: number;
  guests: ChainGuestStats[];
}
