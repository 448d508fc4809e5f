// Per-session voice-lane state on the server: keys, replay window, the UDP
// address validated by a path challenge (path-validation.ts), the budget of
// bad datagrams under its token (udp-admission.ts), rate limiting, and what
// its listeners report about hearing it (loss feedback for its encoder).
import { VoiceCipher, deriveVoiceKeys, DEFAULT_VOICE_BACKEND, type VoiceBackend } from '../../voice/packet.js';
import { ReplayWindow } from '../../voice/replay-window.js';
import { TokenBucket } from '../token-bucket.js';
import type { Connection, SessionInfo } from '../connection.js';
import type { VoiceFeedback } from '../../protocol/server-messages.js';
import type { BadMacBudget } from './udp-admission.js';

/** What one listener last said about hearing one speaker. */
export interface ListenerReport {
  lossPercent: number;
  jitterMs: number;
  at: number;
}

/**
 * The figure a speaker's encoder should plan for: the worst listener's, except
 * that in a channel of 10 or more the worst tenth is left out (sorted from the
 * worst, floor(n/10) values are skipped), so one listener on a bad link does
 * not make everyone pay for extra redundancy. Loss and jitter are ranked
 * separately. Below 10 listeners this is simply the maximum.
 */
export function aggregateReports(reports: readonly { lossPercent: number; jitterMs: number }[]): VoiceFeedback {
  const n = reports.length;
  if (n === 0) return { lossPercent: 0, jitterMs: 0, listeners: 0 };
  const skip = Math.floor(n / 10);
  const pick = (values: number[]) => values.sort((a, b) => b - a)[skip]!;
  return {
    lossPercent: Math.round(pick(reports.map((r) => r.lossPercent)) * 10) / 10,
    jitterMs: Math.round(pick(reports.map((r) => r.jitterMs))),
    listeners: n,
  };
}

export class VoiceSession implements BadMacBudget {
  /** Opens what this client sends. */
  readonly fromClient: VoiceCipher;
  /** Seals what this client receives (any speaker's packets, and our keep-alive answers). */
  readonly toClient: VoiceCipher;
  readonly replay = new ReplayWindow();
  readonly bucket: TokenBucket;
  /** The validated UDP path: where this session's voice goes; null until the first path validation. */
  address: string | null = null;
  port = 0;
  /** The address of the outstanding PATH_CHALLENGE (null: none), its 64 random bits and deadline. */
  challengeAddress: string | null = null;
  challengePort = 0;
  challengeHi = 0;
  challengeLo = 0;
  challengeExpires = 0;
  /** A keep-alive from the challenged address, answered once it is validated. */
  challengePing: bigint | null = null;
  /** Counter in the sequence of our PATH_CHALLENGEs (never reused under this client's key). */
  challengeCounter = 0;
  badMacWindowStart = 0;
  badMacCount = 0;
  badMacShedUntil = 0;
  /** True while UDP is known to work both ways (authenticated datagram within udpSilentMs). */
  udpActive = false;
  lastUdpAt = 0;
  /** Sequence counter of keep-alive answers (token = this session's own; never used by forwarding). */
  pongSequence = 0;
  channelId: number;
  /** The key behind toClient, for seal workers (voice.sealWorkers) that seal this client's packets off the main thread. */
  readonly toClientKey: Buffer;
  /** Row of this session's key and address in the fan-out's SlotTable (native-fanout.ts); -1: none. */
  slot = -1;
  /** Whether the SlotTable holds the validated address (the native fan-out can send to it). */
  nativeAddress = false;
  /** voice.shards > 1, on the main thread: the shard that carries this session's datagrams (shard-pool.ts); -1: none. */
  shard = -1;
  /** Fan-outs of this speaker posted to a seal worker and not yet sent. */
  sealsInFlight = 0;
  /** As a speaker: the latest voice.report about it from each listener (docs/PROTOCOL.md 12.5). */
  readonly heardBy = new Map<VoiceSession, ListenerReport>();
  /** As a listener: the speakers whose heardBy holds an entry from this session (to clean up after it). */
  readonly reportedAbout = new Set<VoiceSession>();
  /** voice.report admission: one per second on average; a burst of 2 absorbs timer jitter. */
  readonly reportBucket = new TokenBucket(1, 2);
  /** The last voice.feedback sent to this session (null: none yet). */
  lastFeedback: (VoiceFeedback & { at: number }) | null = null;

  constructor(
    readonly token: number,
    secret: Uint8Array,
    readonly conn: Connection & { session: SessionInfo },
    rate: { packetsPerSecond: number; packetBurst: number },
    backend: VoiceBackend = DEFAULT_VOICE_BACKEND,
  ) {
    const keys = deriveVoiceKeys(secret);
    this.fromClient = new VoiceCipher(keys.clientToServer, { backend });
    this.toClient = new VoiceCipher(keys.serverToClient, { backend });
    this.toClientKey = keys.serverToClient;
    this.bucket = new TokenBucket(rate.packetsPerSecond, rate.packetBurst);
    this.channelId = conn.session.channelId;
  }

  get session(): SessionInfo {
    return this.conn.session;
  }
}
