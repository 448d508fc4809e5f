// Voice-lane datagram codec + AEAD. Shared by server and client.
//
// Datagram: [token u32][sequence u64][timestamp u64][ChaCha20-Poly1305(payload) || tag16]
// (big-endian; the 20-byte header is the associated data). Test vectors and the
// full derivation live in docs/PROTOCOL.md section 12.
import { createCipheriv, createDecipheriv, hkdfSync } from 'node:crypto';
import { createRequire } from 'node:module';
import type { chacha20poly1305 as NobleChaCha } from '@noble/ciphers/chacha.js';

export const HEADER_BYTES = 20;
export const TAG_BYTES = 16;
export const NONCE_BYTES = 12;
/** Largest legal Opus packet (RFC 6716 §3.2.1). */
export const MAX_PAYLOAD_BYTES = 1275;
export const MIN_DATAGRAM_BYTES = HEADER_BYTES + TAG_BYTES;
export const MAX_DATAGRAM_BYTES = HEADER_BYTES + MAX_PAYLOAD_BYTES + TAG_BYTES;
export const VOICE_SECRET_BYTES = 32;
export const VOICE_KEY_BYTES = 32;
export const MAX_U64 = 0xffff_ffff_ffff_ffffn;

// @noble/ciphers is the pure-JS reference backend (vectors, no native code); a
// server on sodium never touches it, so it is loaded on first use rather than at
// start: about 1 MB of resident memory a server does not need (issue 12). Node 20.19+
// loads this ESM-only package through require().
let nobleChaCha: typeof NobleChaCha | null = null;
function noble(): typeof NobleChaCha {
  if (nobleChaCha === null) {
    const m = createRequire(import.meta.url)('@noble/ciphers/chacha.js') as { chacha20poly1305: typeof NobleChaCha };
    nobleChaCha = m.chacha20poly1305;
  }
  return nobleChaCha;
}

export const VOICE_KDF_SALT = 'hearth-voice-v1';
export const VOICE_KDF_INFO_C2S = 'client->server';
export const VOICE_KDF_INFO_S2C = 'server->client';

export type VoiceBackend = 'sodium' | 'node' | 'noble';
export const VOICE_BACKENDS: readonly VoiceBackend[] = ['sodium', 'node', 'noble'];

/** The two libsodium calls the lane uses (sodium-native's signatures). */
interface SodiumAead {
  crypto_aead_chacha20poly1305_ietf_encrypt(c: Uint8Array, m: Uint8Array, ad: Uint8Array | null, nsec: null, npub: Uint8Array, k: Uint8Array): number;
  crypto_aead_chacha20poly1305_ietf_decrypt(m: Uint8Array, nsec: null, c: Uint8Array, ad: Uint8Array | null, npub: Uint8Array, k: Uint8Array): number;
}

/**
 * sodium-native (libsodium, prebuilt for the common platforms) when it loads;
 * null where it is not installed or has no binary for this platform, and then
 * node:crypto is the default. Loaded with require: it is a CommonJS addon.
 */
function loadSodium(): SodiumAead | null {
  try {
    const s = createRequire(import.meta.url)('sodium-native') as SodiumAead;
    return typeof s.crypto_aead_chacha20poly1305_ietf_encrypt === 'function' ? s : null;
  } catch {
    return null;
  }
}
const sodium = loadSodium();

/** Whether a backend can run here ('sodium' needs sodium-native installed). */
export function voiceBackendAvailable(b: VoiceBackend): boolean {
  return b === 'sodium' ? sodium !== null : b === 'node' || b === 'noble';
}

/**
 * Measured at 120-byte payloads, Node 20.20 / OpenSSL 3, 2-core AMD EPYC VM
 * (shared, so ranges over several runs):
 * - bench/voice-crypto, one seal / open: sodium-native 1.5 / 1.6 µs,
 *   node:crypto 5.3 / 5.7 µs (creating the Cipheriv alone is ~2.8 µs:
 *   node:crypto cannot re-key a cipher object), @noble/ciphers 8.3 / 10.2 µs;
 *   all produce identical bytes (test/voice/vectors.test.ts, and RFC 8439's
 *   vector in test/voice/aead-backends.test.ts).
 * So sodium-native is the default where it loads, node:crypto the fallback.
 * Noble stays as a pure-JS reference and cross-check for the vectors. The
 * server's fan-out seals in native code of its own when that is built
 * (host/server/voice/native-fanout.ts); this backend does everything else.
 */
export const DEFAULT_VOICE_BACKEND: VoiceBackend = sodium !== null ? 'sodium' : 'node';

const NODE_ALG = 'chacha20-poly1305';
// Shared, never mutated: no options object per cipher object.
const NODE_OPTIONS = { authTagLength: TAG_BYTES } as const;
const TWO_32 = 0x1_0000_0000;

export interface VoiceKeys {
  /** Seals client→server packets (client side) / opens them (server side). */
  clientToServer: Buffer;
  /** Seals server→client packets (server side) / opens them (client side). */
  serverToClient: Buffer;
}

export interface VoiceHeader {
  token: number;
  sequence: bigint;
  timestamp: bigint;
}

export interface VoicePacket extends VoiceHeader {
  payload: Buffer;
}

/** Unsigned 64-bit value; numbers must be safe integers (the fast path). */
export type U64 = bigint | number;

// Separate keys per direction so a server→client datagram can never be
// replayed back to the server as a valid client→server one (same token and
// sequence would otherwise give the same key+nonce).
export function deriveVoiceKeys(secret: Uint8Array): VoiceKeys {
  if (secret.length !== VOICE_SECRET_BYTES) {
    throw new RangeError(`voice secret must be ${VOICE_SECRET_BYTES} bytes, got ${secret.length}`);
  }
  const derive = (info: string): Buffer =>
    Buffer.from(hkdfSync('sha256', secret, VOICE_KDF_SALT, info, VOICE_KEY_BYTES));
  return { clientToServer: derive(VOICE_KDF_INFO_C2S), serverToClient: derive(VOICE_KDF_INFO_S2C) };
}

// The header last given to sealEncoded() and its nonce view (see there).
let lastHeader: Uint8Array | null = null;
let lastNonce: Buffer | null = null;

function asBuffer(b: Uint8Array): Buffer {
  return Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

function writeU64(buf: Buffer, offset: number, v: U64, what: string): void {
  if (typeof v === 'number') {
    // Two u32 writes avoid BigInt boxing for counters kept as plain numbers.
    if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`${what} out of range: ${v}`);
    buf.writeUInt32BE(Math.floor(v / TWO_32), offset);
    buf.writeUInt32BE(v >>> 0, offset + 4);
  } else {
    if (v < 0n || v > MAX_U64) throw new RangeError(`${what} out of range: ${v}`);
    buf.writeBigUInt64BE(v, offset);
  }
}

export function writeHeader(buf: Buffer, offset: number, token: number, sequence: U64, timestamp: U64): void {
  if (!Number.isInteger(token) || token < 0 || token > 0xffff_ffff) {
    throw new RangeError(`token out of range: ${token}`);
  }
  if (offset < 0 || offset + HEADER_BYTES > buf.length) throw new RangeError('header does not fit');
  buf.writeUInt32BE(token, offset);
  writeU64(buf, offset + 4, sequence, 'sequence');
  writeU64(buf, offset + 12, timestamp, 'timestamp');
}

export function readHeader(buf: Uint8Array): VoiceHeader | null {
  if (buf.length < HEADER_BYTES) return null;
  const b = asBuffer(buf);
  // BigInt reads measured no slower than number pairs; the AEAD dominates.
  return { token: b.readUInt32BE(0), sequence: b.readBigUInt64BE(4), timestamp: b.readBigUInt64BE(12) };
}

export interface VoiceCipherOptions {
  backend?: VoiceBackend;
}

/**
 * One instance per direction key. Stateless per packet: the caller owns the
 * sequence counter, and must never seal two packets with the same
 * (token, sequence) under one key.
 *
 * Nonce = token || sequence, which is byte-for-byte the first 12 header bytes,
 * so the nonce is just a view of the header: no nonce buffer, no copy, and the
 * nonce can't disagree with what the receiver reads.
 */
export class VoiceCipher {
  readonly backend: VoiceBackend;
  readonly #key: Buffer;
  readonly #noble: boolean;
  readonly #sodium: SodiumAead | null;

  constructor(key: Uint8Array, options: VoiceCipherOptions = {}) {
    if (key.length !== VOICE_KEY_BYTES) {
      throw new RangeError(`voice key must be ${VOICE_KEY_BYTES} bytes, got ${key.length}`);
    }
    this.backend = options.backend ?? DEFAULT_VOICE_BACKEND;
    if (!VOICE_BACKENDS.includes(this.backend)) {
      throw new TypeError(`unknown voice crypto backend: ${String(this.backend)}`);
    }
    if (!voiceBackendAvailable(this.backend)) throw new Error(`voice crypto backend '${this.backend}' is not available (sodium-native not installed)`);
    this.#noble = this.backend === 'noble';
    this.#sodium = this.backend === 'sodium' ? sodium : null;
    // Private copy: noble borrows the key by reference, so later caller
    // mutation must not change what we encrypt with.
    this.#key = Buffer.from(key);
  }

  /**
   * Builds a complete datagram. With `out`, writes into it (must hold
   * HEADER_BYTES + payload + TAG_BYTES) and returns a view of it; `payload`
   * may already sit at out[HEADER_BYTES..] (zero-copy framing) but must not
   * overlap the header. Throws on programmer error (bad token/sequence,
   * oversize payload, short `out`) — never for anything a peer controls.
   */
  seal(token: number, sequence: U64, timestamp: U64, payload: Uint8Array, out?: Buffer): Buffer {
    const total = HEADER_BYTES + payload.length + TAG_BYTES;
    if (payload.length > MAX_PAYLOAD_BYTES) throw new RangeError(`voice payload too large: ${payload.length} > ${MAX_PAYLOAD_BYTES}`);
    if (out !== undefined && out.length < total) throw new RangeError(`output buffer too small: ${out.length} < ${total}`);
    const dst = out === undefined ? Buffer.allocUnsafe(total) : out.length === total ? out : out.subarray(0, total);
    writeHeader(dst, 0, token, sequence, timestamp);
    // The header just written is the one sealEncoded() expects (it copies it onto itself).
    return this.sealEncoded(dst.subarray(0, HEADER_BYTES), payload, dst, 0);
  }

  /**
   * Seals `payload` behind a header that is already encoded: `header` is
   * exactly HEADER_BYTES (token || sequence || timestamp; its first 12 bytes
   * are the nonce, all 20 the associated data), as read from an authenticated
   * datagram. The server forwards a speaker's packet to every listener this
   * way: the speaker's header bytes are reused as they are, so nothing is
   * parsed, range-checked or converted per listener. The caller guarantees
   * what seal() guarantees: one (token, sequence) is never sealed twice under
   * this key.
   *
   * Without `out`, returns a fresh exact-size datagram. With `out`, writes the
   * datagram to out[offset, offset + HEADER_BYTES + payload + TAG_BYTES) and
   * returns `out` (e.g. a TCP-fallback frame: header, then the datagram, no
   * copy). `header` and `payload` must not overlap that range.
   */
  sealEncoded(header: Uint8Array, payload: Uint8Array, out?: Buffer, offset = 0): Buffer {
    if (header.length !== HEADER_BYTES) throw new RangeError(`header must be ${HEADER_BYTES} bytes, got ${header.length}`);
    const plen = payload.length;
    if (plen > MAX_PAYLOAD_BYTES) throw new RangeError(`voice payload too large: ${plen} > ${MAX_PAYLOAD_BYTES}`);
    const total = HEADER_BYTES + plen + TAG_BYTES;
    let dst: Buffer;
    if (out === undefined) {
      dst = Buffer.allocUnsafe(total);
      offset = 0;
    } else {
      if (!Number.isInteger(offset) || offset < 0 || offset + total > out.length) {
        throw new RangeError(`output buffer too small: ${out.length} < ${offset} + ${total}`);
      }
      dst = out;
    }
    // A fan-out seals one header for every listener: make its nonce view once.
    if (header !== lastHeader) {
      lastNonce = asBuffer(header).subarray(0, NONCE_BYTES);
      lastHeader = header;
    }
    dst.set(header, offset);
    this.#sealAfter(header, lastNonce!, payload, dst, offset + HEADER_BYTES);
    return dst;
  }

  /** Writes ciphertext || tag of `payload` to dst[at..]. */
  #sealAfter(header: Uint8Array, nonce: Uint8Array, payload: Uint8Array, dst: Buffer, at: number): void {
    const plen = payload.length;
    const na = this.#sodium;
    if (na !== null) {
      // Straight into dst (libsodium handles payload sitting exactly at dst[at..], in place).
      na.crypto_aead_chacha20poly1305_ietf_encrypt(dst.subarray(at, at + plen + TAG_BYTES), payload, header, null, nonce, this.#key);
      return;
    }
    if (this.#noble) {
      // Encrypts straight into dst; TypedArray.set copes with payload aliasing dst.
      noble()(this.#key, nonce, header).encrypt(payload, dst.subarray(at, at + plen + TAG_BYTES));
      return;
    }
    // node:crypto cannot re-key or re-nonce a cipher object, so one per packet
    // is the price of OpenSSL's speed (see DEFAULT_VOICE_BACKEND).
    const c = createCipheriv(NODE_ALG, this.#key, nonce, NODE_OPTIONS);
    c.setAAD(header, { plaintextLength: plen });
    const ct = c.update(payload);
    const tail = c.final();
    if (ct.length + tail.length !== plen) throw new Error('chacha20-poly1305: unexpected ciphertext length');
    dst.set(ct, at);
    if (tail.length > 0) dst.set(tail, at + ct.length);
    dst.set(c.getAuthTag(), at + plen);
  }

  /**
   * Authenticates and decrypts. Returns null for anything not produced by
   * seal() under this key (short, oversize, tampered, wrong key); never throws
   * on datagram contents. Does not check replay — do that after this succeeds.
   *
   * `out` (optional) receives the plaintext and `payload` is a view of it;
   * size it MAX_PAYLOAD_BYTES, as a too-small `out` makes open() return null.
   * It may be exactly datagram.subarray(HEADER_BYTES) for in-place decryption,
   * but must not overlap the header. Without `out` a fresh Buffer is returned.
   */
  open(datagram: Uint8Array, out?: Buffer): VoicePacket | null {
    const len = datagram.length;
    if (len < MIN_DATAGRAM_BYTES || len > MAX_DATAGRAM_BYTES) return null;
    const d = asBuffer(datagram);
    // Parse before decrypting: in-place decryption never touches the header,
    // but reading first keeps that an invariant we don't have to rely on.
    const token = d.readUInt32BE(0);
    const sequence = d.readBigUInt64BE(4);
    const timestamp = d.readBigUInt64BE(12);
    const payload = this.openPayload(d, out);
    return payload === null ? null : { token, sequence, timestamp, payload };
  }

  /**
   * open() without the header: authenticates and decrypts, and returns only
   * the payload (same `out` rules), or null. For hot paths that read the few
   * header fields they need themselves (as numbers), so that no per-packet
   * object or BigInt is made. Never throws on datagram contents.
   */
  openPayload(datagram: Uint8Array, out?: Buffer): Buffer | null {
    const len = datagram.length;
    if (len < MIN_DATAGRAM_BYTES || len > MAX_DATAGRAM_BYTES) return null;
    const plen = len - MIN_DATAGRAM_BYTES;
    if (out !== undefined && out.length < plen) return null;
    try {
      const d = asBuffer(datagram);
      const header = d.subarray(0, HEADER_BYTES);
      const nonce = d.subarray(0, NONCE_BYTES);
      const na = this.#sodium;
      if (na !== null) {
        // libsodium checks the tag before it writes any plaintext (it throws on a bad one), so a
        // failed in-place open leaves the datagram untouched.
        const payload = out === undefined ? Buffer.allocUnsafe(plen) : out.subarray(0, plen);
        na.crypto_aead_chacha20poly1305_ietf_decrypt(payload, null, d.subarray(HEADER_BYTES, len), header, nonce, this.#key);
        return payload;
      }
      if (this.#noble) {
        // Noble verifies the tag before writing any plaintext, so a failed
        // in-place open leaves the datagram untouched.
        const payload = out === undefined ? Buffer.allocUnsafe(plen) : out.subarray(0, plen);
        noble()(this.#key, nonce, header).decrypt(d.subarray(HEADER_BYTES, len), payload);
        return payload;
      }
      const dc = createDecipheriv(NODE_ALG, this.#key, nonce, NODE_OPTIONS);
      dc.setAAD(header, { plaintextLength: plen });
      dc.setAuthTag(d.subarray(len - TAG_BYTES, len));
      // Node hands back plaintext from update() BEFORE the tag is checked in
      // final(); it must not escape unless final() succeeds.
      const pt = dc.update(d.subarray(HEADER_BYTES, len - TAG_BYTES));
      dc.final();
      if (pt.length !== plen) return null;
      if (out === undefined) return pt;
      const payload = out.subarray(0, plen);
      payload.set(pt);
      return payload;
    } catch {
      return null;
    }
  }
}
