// Main thread, voice.shards > 1: the door for voice datagrams tunnelled over
// TLS (kind-2 frames, docs/PROTOCOL.md 12.3). The connection must know at
// once whether a frame authenticated (more than limits.voiceGarbageDisconnectAfter
// that do not within 10 s cut it: BAD_VOICE), but the session's lane runs in
// its shard. So main runs the single lane's checks for an address-less
// datagram up to the replay window (size, token, kind, replay pre-check,
// AEAD open, window) with its own copy of the session's client→server key,
// and only what passes goes to the shard, which then processes it exactly as
// the single lane does (its own replay window, rate limit, keep-alive answer
// over TLS, relay). The window here sees only tunnelled frames: a frame
// repeating one that came over UDP passes here and is dropped there.
// Refusals are counted here (the shard never sees them) and summed into the
// lane's stats with the shards' (shard-stats.ts).
import { MAX_DATAGRAM_BYTES, MAX_PAYLOAD_BYTES, MIN_DATAGRAM_BYTES } from '../../voice/packet.js';
import { PATH_CONTROL_BYTE, PATH_PACKET_BYTES } from '../../voice/path-packets.js';
import type { DropKind } from './lane-monitor.js';
import type { OwnCounters } from './shard-stats.js';
import type { VoiceSession } from './voice-session.js';

const TWO_32 = 0x1_0000_0000;
/** As in voice-lane.ts: sequences at or above 2^53 are not a client's. */
const SAFE_HIGH_WORD = 0x20_0000;

export class TunnelDoor {
  private readonly scratch = Buffer.allocUnsafe(MAX_PAYLOAD_BYTES);

  constructor(
    private readonly byToken: ReadonlyMap<number, VoiceSession>,
    private readonly own: OwnCounters,
  ) {}

  /** The session a tunnelled datagram may go on to, or why it is refused (counted in `own`). */
  check(body: Buffer): VoiceSession | DropKind {
    const len = body.length;
    if (len < MIN_DATAGRAM_BYTES) return this.refuse('truncated');
    if (len > MAX_DATAGRAM_BYTES) return this.refuse('oversize');
    const vs = this.byToken.get(body.readUInt32BE(0));
    if (vs === undefined || vs.shard < 0) return this.refuse('unknownToken');
    const seqHigh = body.readUInt32BE(4);
    // Challenges only ever go out over UDP, so over TLS nothing can be an answer.
    if (seqHigh >= SAFE_HIGH_WORD) return this.refuse(body[4] === PATH_CONTROL_BYTE && len === PATH_PACKET_BYTES ? 'unsolicited' : 'malformed');
    const sequence = seqHigh * TWO_32 + body.readUInt32BE(8);
    if (!vs.replay.check(sequence)) return this.refuse('replayed');
    this.own.aeadOpens++;
    if (vs.fromClient.openPayload(body, this.scratch) === null) return this.refuse('forged');
    vs.replay.accept(sequence);
    return vs;
  }

  private refuse(kind: DropKind): DropKind {
    this.own.received++;
    this.own.dropped[kind]++;
    return kind;
  }
}
