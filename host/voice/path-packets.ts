// Path validation packets of the voice lane (docs/PROTOCOL.md 12.6), shared by
// server and client. Before the server sends a session's voice to a new UDP
// address it proves that the client is really there, as QUIC does: it sends a
// PATH_CHALLENGE to that address and waits for the client's PATH_RESPONSE
// from the same address.
//
// Both are ordinary datagrams (same header, same AEAD, same keys) with an
// empty payload, told apart by the first byte of the sequence field: a normal
// sequence always has its top bit clear (a counter from 0 never gets there),
// a control packet has byte 4 = 0x80 | kind and a 56-bit counter after it.
// An empty payload keeps both exactly 36 bytes, the size of the smallest
// datagram that can trigger a challenge: the server never sends more bytes
// to an unproven address than it received from it (no amplification).
import { MIN_DATAGRAM_BYTES, type VoiceCipher } from './packet.js';

/** Byte 4 of a control packet's header: 0x80 | kind. */
export const PATH_CONTROL_BYTE = 0x81;
/** Both control packets are header + tag, nothing else. */
export const PATH_PACKET_BYTES = MIN_DATAGRAM_BYTES;
/** Byte 4 at or above this value: not a normal (counter) sequence. */
export const CONTROL_FLAG_BYTE = 0x80;
const COUNTER_LIMIT = 2 ** 53;
const TWO_32 = 0x1_0000_0000;

/** The sequence of a control packet: 0x81 in the top byte, then the sender's counter (< 2^53). */
export function controlSequence(counter: number): bigint {
  if (!Number.isSafeInteger(counter) || counter < 0 || counter >= COUNTER_LIMIT) throw new RangeError(`control counter out of range: ${counter}`);
  return (BigInt(PATH_CONTROL_BYTE) << 56n) | BigInt(counter);
}

/** True when the datagram's sequence field marks a path control packet (no allocation, no crypto). */
export function isPathControl(datagram: Uint8Array): boolean {
  return datagram.length >= MIN_DATAGRAM_BYTES && datagram[4] === PATH_CONTROL_BYTE;
}

/**
 * Server → client PATH_CHALLENGE: token = the client's own, sequence =
 * controlSequence(server counter), timestamp = the 64-bit random challenge
 * (hi, lo: two u32), sealed under the client's server→client key.
 */
export function sealPathChallenge(toClient: VoiceCipher, token: number, counter: number, challengeHi: number, challengeLo: number): Buffer {
  return toClient.seal(token, controlSequence(counter), BigInt(challengeHi) * BigInt(TWO_32) + BigInt(challengeLo), new Uint8Array(0));
}

/**
 * Client → server PATH_RESPONSE: token = the client's own, sequence =
 * controlSequence(the client's packet counter: the same counter as its voice,
 * so no nonce repeats under its key), timestamp = the challenge echoed.
 */
export function sealPathResponse(toServer: VoiceCipher, token: number, counter: number, challenge: bigint): Buffer {
  return toServer.seal(token, controlSequence(counter), challenge, new Uint8Array(0));
}
