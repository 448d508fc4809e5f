// JSON shapes of the hooks: what the host sends (inputs) and what it accepts
// back (outputs). An output that is not JSON, or not of the promised shape,
// is a fault: the plugin is disabled (docs/PLUGINS.md).
import { z } from 'zod';
import { LayoutTreeSchema } from './layout.js';

export const SAMPLE_RATE = 48_000;
export const FRAME_SAMPLES = 960;
/** on_audio_raw input and output, and on_aec_raw output: 960 little-endian f32. */
export const AUDIO_FRAME_BYTES = FRAME_SAMPLES * 4;
/** on_aec_raw input: the 960-sample mic frame, then the 960-sample far-end reference aligned to it. */
export const AEC_INPUT_BYTES = 2 * AUDIO_FRAME_BYTES;

/**
 * Slots of the capture chain, in the order they run:
 * mic -> echo cancellation (aec) -> noise suppression (ns) -> effects -> gate -> Opus.
 * The canceller runs first: a suppressor in front of it makes the echo path
 * non-linear (DESIGN.md, "Audio").
 */
export const AUDIO_SLOTS = ['aec', 'ns', 'effect'] as const;
export type AudioSlot = (typeof AUDIO_SLOTS)[number];

/** The hook the capture chain calls for each slot. */
export const SLOT_HOOK = { aec: 'on_aec_raw', ns: 'on_audio_raw', effect: 'on_audio_raw' } as const satisfies Record<AudioSlot, string>;

export interface UserRef {
  id: number;
  name: string;
}

export interface ChatEvent {
  channelId: number;
  user: UserRef;
  text: string;
  /** Milliseconds since the Unix epoch (guests have no clock of their own). */
  ts: number;
}

export interface PresenceEvent {
  user: UserRef;
  channelId: number;
  ts: number;
}

export interface CommandEvent {
  command: string;
  args: string;
  user: UserRef;
  channelId: number;
  ts: number;
}

export interface TimerEvent {
  tick: number;
  /** Milliseconds since the Unix epoch. */
  now: number;
}

/** What the guest sees from hearth_state_read (published by the server). */
export interface StateView {
  channels: { id: number; name: string; parentId: number | null }[];
  users: { id: number; name: string; channelId: number; muted?: boolean }[];
  [extra: string]: unknown;
}

export const ChatOutput = z.discriminatedUnion('action', [
  z.object({ action: z.literal('allow') }),
  z.object({ action: z.literal('rewrite'), text: z.string().min(1).max(4000) }),
  z.object({ action: z.literal('block'), reason: z.string().max(500).optional() }),
]);
export type ChatOutput = z.infer<typeof ChatOutput>;

export const CommandOutput = z.object({ reply: z.string().max(4000).optional() });
export type CommandOutput = z.infer<typeof CommandOutput>;

/** on_join / on_leave / on_timer: nothing, or any JSON object (ignored). */
export const EventOutput = z.record(z.string(), z.unknown());

/** on_layout: the LayoutTree (host/plugins/layout.ts); anything else is a fault (bad_output) and the UI falls back to the built-in layout. */
export const LayoutOutput = LayoutTreeSchema;
export type { LayoutInput, LayoutTree } from './layout.js';

export const AudioJsonOutput = z.object({ samples: z.array(z.number()) });

export type ChatDecision =
  | { action: 'allow' }
  | { action: 'rewrite'; text: string; by: string[] }
  | { action: 'block'; by: string; reason: string };
