// Which UDP address a session's voice goes to (docs/PROTOCOL.md 12.6; issue 10
// attack 4). An authenticated, never-seen packet is not enough to move it: an
// on-path attacker who withholds one genuine packet and sends it from its own
// address would then receive the user's voice, and with a spoofed source turn
// the server into a reflector. So, as QUIC does (RFC 9000 §8.2, §9.3):
// - only a packet whose sequence is the highest the session ever sent (the
//   replay window's top moved) can start a move: a late, reordered or
//   withheld-then-replayed older packet never does;
// - the move waits for proof that the client is at the new address: a
//   PATH_CHALLENGE (random 64 bits, sealed under the client's key) goes
//   there, and only a PATH_RESPONSE echoing it, sealed under the client's
//   key and arriving FROM that address, moves the session. Until then voice
//   goes to the old validated address (or over TLS if there is none yet);
// - one challenge per session outstanding at a time, for at most
//   challengeTimeoutMs; a challenge is 36 bytes, the smallest datagram that
//   can trigger one, so it never amplifies;
// - a newer packet from the validated address while a challenge is out
//   cancels it: the old path is demonstrably alive (RFC 9000 §9.3.3).
// Packets from an unvalidated address that authenticate and are fresh are
// still taken as input (voice forwarded), so a NAT rebinding loses nothing on
// the way in; keep-alives from there are answered only once it is validated.
import { randomBytes } from 'node:crypto';
import type { Logger } from '../../log/logger.js';
import { PATH_PACKET_BYTES, sealPathChallenge } from '../../voice/path-packets.js';
import type { VoiceSession } from './voice-session.js';

export interface PathTiming {
  /** A challenge not answered within this long is forgotten; the next newest packet from a new address sends another. */
  challengeTimeoutMs: number;
}

export interface PathStats {
  /** PATH_CHALLENGEs sent. */
  challenges: number;
  /** Challenges answered from the challenged address: the session now uses it. */
  validated: number;
  /** Of `validated`: moves away from an earlier validated address (NAT rebinding). */
  moves: number;
  /** Challenges given up because a newer packet came from the validated address. */
  cancelled: number;
  /** Challenges that went unanswered. */
  expired: number;
  /** Authenticated packets from an unvalidated address taken as input only. */
  unvalidatedInput: number;
  /** Of those: not the newest, so they could not even start a challenge. */
  notNewest: number;
}

export type SendUdp = (datagram: Buffer, port: number, address: string) => void;

export class PathValidator {
  readonly timing: PathTiming = { challengeTimeoutMs: 1000 };
  readonly stats: PathStats = { challenges: 0, validated: 0, moves: 0, cancelled: 0, expired: 0, unvalidatedInput: 0, notNewest: 0 };

  constructor(
    private readonly log: Logger,
    private readonly send: SendUdp,
  ) {}

  /**
   * An authenticated, fresh datagram from UDP. `newest`: its sequence moved the
   * replay window's top. `ping`: the datagram if it is a keep-alive (its
   * timestamp is kept to answer it once validated), else null. True when it came over the validated path (the caller then treats
   * UDP as working and answers a keep-alive); false: input only.
   */
  onPacket(vs: VoiceSession, address: string, port: number, newest: boolean, ping: Buffer | null, size: number, now: number): boolean {
    if (vs.address === address && vs.port === port) {
      if (newest && vs.challengeAddress !== null) {
        this.stats.cancelled++;
        this.log.debug({ sessionId: vs.session.sessionId, challenged: `${vs.challengeAddress}:${vs.challengePort}` }, 'voice path challenge cancelled: newer packet on the validated path');
        this.clear(vs);
      }
      return true;
    }
    this.stats.unvalidatedInput++;
    if (!newest) {
      this.stats.notNewest++;
      return false;
    }
    if (vs.challengeAddress !== null) {
      if (now < vs.challengeExpires) {
        // One outstanding challenge per session: a flood of replays cannot make more.
        if (vs.challengeAddress === address && vs.challengePort === port && ping !== null) vs.challengePing = ping.readBigUInt64BE(12);
        return false;
      }
      this.stats.expired++;
      this.clear(vs);
    }
    // Never more bytes to an unproven address than it sent us (every datagram is at least 36).
    if (size < PATH_PACKET_BYTES) return false;
    const r = randomBytes(8);
    vs.challengeAddress = address;
    vs.challengePort = port;
    vs.challengeHi = r.readUInt32BE(0);
    vs.challengeLo = r.readUInt32BE(4);
    vs.challengeExpires = now + this.timing.challengeTimeoutMs;
    vs.challengePing = ping === null ? null : ping.readBigUInt64BE(12);
    this.stats.challenges++;
    this.send(sealPathChallenge(vs.toClient, vs.token, vs.challengeCounter++, vs.challengeHi, vs.challengeLo), port, address);
    this.log.debug({ sessionId: vs.session.sessionId, to: `${address}:${port}`, validated: vs.address === null ? null : `${vs.address}:${vs.port}` }, 'voice path challenge sent');
    return false;
  }

  /**
   * Whether a PATH_RESPONSE is worth opening: it answers the outstanding
   * challenge (same 64 bits, still in time) and comes from the challenged
   * address. Checked before the AEAD, without allocating.
   */
  expects(vs: VoiceSession, msg: Buffer, address: string, port: number, now: number): boolean {
    return (
      vs.challengeAddress === address &&
      vs.challengePort === port &&
      now < vs.challengeExpires &&
      msg.readUInt32BE(12) === vs.challengeHi &&
      msg.readUInt32BE(16) === vs.challengeLo
    );
  }

  /** The authenticated answer to the outstanding challenge: the session moves to that address. Returns a keep-alive timestamp waiting for its answer, or null. */
  validate(vs: VoiceSession, now: number): bigint | null {
    const address = vs.challengeAddress!;
    const port = vs.challengePort;
    const ping = vs.challengePing;
    this.clear(vs);
    this.stats.validated++;
    if (vs.address !== null) {
      this.stats.moves++;
      this.log.info({ sessionId: vs.session.sessionId, from: `${vs.address}:${vs.port}`, to: `${address}:${port}` }, 'voice address changed (new path validated)');
    } else this.log.info({ sessionId: vs.session.sessionId, address: `${address}:${port}` }, 'voice UDP established (path validated)');
    vs.address = address;
    vs.port = port;
    vs.lastUdpAt = now;
    return ping;
  }

  private clear(vs: VoiceSession): void {
    vs.challengeAddress = null;
    vs.challengePort = 0;
    vs.challengeExpires = 0;
    vs.challengePing = null;
  }
}
