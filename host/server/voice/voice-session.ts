// Per-session voice-lane state on the server: keys, replay window, the UDP
// address learned from authenticated packets, and rate limiting.
import { VoiceCipher, deriveVoiceKeys, DEFAULT_VOICE_BACKEND, type VoiceBackend } from '../../voice/packet.js';
import { ReplayWindow } from '../../voice/replay-window.js';
import { TokenBucket } from '../token-bucket.js';
import type { Connection, SessionInfo } from '../connection.js';

export class VoiceSession {
  /** Opens what this client sends. */
  readonly fromClient: VoiceCipher;
  /** Seals what this client receives (any speaker's packets, and our keep-alive answers). */
  readonly toClient: VoiceCipher;
  readonly replay = new ReplayWindow();
  readonly bucket: TokenBucket;
  /** Where authenticated UDP last came from; null until the first one. */
  address: string | null = null;
  port = 0;
  /** True while UDP is known to work both ways (authenticated datagram within udpSilentMs). */
  udpActive = false;
  lastUdpAt = 0;
  /** Sequence counter of keep-alive answers (token = this session's own; never used by forwarding). */
  pongSequence = 0;
  channelId: number;
  /** The key behind toClient, for seal workers (voice.sealWorkers) that seal this client's packets off the main thread. */
  readonly toClientKey: Buffer;
  /** Fan-outs of this speaker posted to a seal worker and not yet sent. */
  sealsInFlight = 0;

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
