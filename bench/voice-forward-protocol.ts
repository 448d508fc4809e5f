// Shared between bench/voice-forward.ts (load generator) and
// bench/voice-forward-server.ts (the measured server process): IPC messages and
// the benchmark accounts.
import type { VoiceBackend } from '../host/voice/packet.js';

export const BENCH_PASSWORD = 'bench-password-1';
export const benchUser = (i: number): string => `bench${i}`;
/** Raw mode: a client registers its address by sending this 4-byte id (its index + 1). */
export const RAW_REGISTER_BYTES = 4;

export interface ReadyMessage {
  type: 'ready';
  mode: 'hearth' | 'raw';
  port: number;
  voicePort: number;
  fingerprint: string;
  backend: VoiceBackend | 'none';
  /** How the server sends copies: 'sendmmsg' (native addon) or 'dgram'. */
  fanout: 'sendmmsg' | 'dgram';
  /** RSS right after start, before any client: the idle figure. */
  idleRss: number;
}

export interface SnapshotMessage {
  type: 'snapshot';
  id: number;
  /** process.hrtime in ms at the moment of the snapshot. */
  atMs: number;
  cpuUserUs: number;
  cpuSystemUs: number;
  rss: number;
  heapUsed: number;
  received: number;
  forwarded: number;
  forwardedTcp: number;
  dropped: Record<string, number>;
}

export type ParentMessage = { type: 'snapshot'; id: number } | { type: 'stop' };

