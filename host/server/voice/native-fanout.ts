// The native half of the fan-out (native/sendmmsg, package hearth-sendmmsg):
// seals every copy of a voice packet and sends them all with sendmmsg(2) in
// one call. Optional: it is built by node-gyp on `npm install` (Linux only);
// where it is missing, fanout.ts seals with the JS backend and uses dgram.
//
// The addon reads listeners' keys and addresses out of two flat tables (a
// SlotTable) by slot number, so a fan-out passes a Uint32Array of slots and
// nothing per listener crosses into native code as an object.
import type dgram from 'node:dgram';
import { createRequire } from 'node:module';
import { VOICE_KEY_BYTES } from '../../voice/packet.js';

export interface NativeFanout {
  /** Writes ip:port as a sockaddr into table slot `slot`; 4 or 6, or 0 (not an IP literal: slot cleared). */
  encodeAddress(table: Buffer, slot: number, ip: string, port: number): number;
  /** Seals n copies: copy i at out[i * size] under keys[slots[i] * 32]. */
  seal(keys: Buffer, slots: Uint32Array, n: number, header: Uint8Array, payload: Uint8Array, out: Buffer): void;
  /** Sends copies [from, n) of `size` bytes to addrs[slots[i]]; returns the index reached (less than n: the socket would block). */
  send(fd: number, out: Buffer, size: number, from: number, n: number, addrs: Buffer, slots: Uint32Array, result: Int32Array): number;
  /** seal() then send() from 0, in one call. */
  sealAndSend(fd: number, keys: Buffer, addrs: Buffer, slots: Uint32Array, n: number, header: Uint8Array, payload: Uint8Array, out: Buffer, result: Int32Array): number;
  ADDR_STRIDE: number;
}

function load(): { addon: NativeFanout | null; error: string | null } {
  if (process.env.HEARTH_VOICE_NATIVE === '0') return { addon: null, error: 'disabled by HEARTH_VOICE_NATIVE=0' };
  try {
    const m = createRequire(import.meta.url)('hearth-sendmmsg') as Partial<NativeFanout>;
    // The non-Linux build loads but exports nothing.
    if (typeof m.sealAndSend !== 'function') return { addon: null, error: 'not supported on this platform' };
    return { addon: m as NativeFanout, error: null };
  } catch (err) {
    return { addon: null, error: (err as Error).message.split('\n')[0] ?? 'not built' };
  }
}

const loaded = load();
/** The addon, or null (not built, not Linux, or disabled with HEARTH_VOICE_NATIVE=0). */
export const nativeFanout: NativeFanout | null = loaded.addon;
/** Why the addon is not in use (for the log), or null. */
export const nativeFanoutError: string | null = loaded.error;

/**
 * The file descriptor of a bound dgram socket, or null. Node 20 keeps the
 * handle under a symbol described "state symbol" (socket._handle is a
 * deprecated alias that warns); a UDPWrap exposes its fd on Linux.
 */
export function socketFd(socket: dgram.Socket): number | null {
  for (const sym of Object.getOwnPropertySymbols(socket)) {
    if (sym.description !== 'state symbol') continue;
    const fd = (socket as unknown as Record<symbol, { handle?: { fd?: unknown } } | undefined>)[sym]?.handle?.fd;
    return typeof fd === 'number' && fd >= 0 ? fd : null;
  }
  return null;
}

/** One 32-byte sockaddr record per slot (sockaddr_in/in6, then its length). */
const ADDR_STRIDE = 32;

/**
 * Every voice session's server→client key and validated address, in two flat
 * buffers indexed by the session's slot: what the addon reads per copy. Slots
 * are reused after a session ends (its key is wiped first); the tables double
 * when full, so read `keys`/`addrs` afresh for every call.
 */
export class SlotTable {
  keys: Buffer;
  addrs: Buffer;
  private readonly free: number[] = [];
  private next = 0;

  constructor(private capacity = 64) {
    this.keys = Buffer.alloc(capacity * VOICE_KEY_BYTES);
    this.addrs = Buffer.alloc(capacity * ADDR_STRIDE);
  }

  alloc(key: Uint8Array): number {
    const slot = this.free.pop() ?? this.next++;
    if (slot >= this.capacity) this.grow();
    this.keys.set(key, slot * VOICE_KEY_BYTES);
    this.addrs.fill(0, slot * ADDR_STRIDE, (slot + 1) * ADDR_STRIDE);
    return slot;
  }

  release(slot: number): void {
    this.keys.fill(0, slot * VOICE_KEY_BYTES, (slot + 1) * VOICE_KEY_BYTES);
    this.addrs.fill(0, slot * ADDR_STRIDE, (slot + 1) * ADDR_STRIDE);
    this.free.push(slot);
  }

  /** The session's validated address moved: false if it is not an IP literal (then that session goes through dgram). */
  setAddress(slot: number, ip: string, port: number): boolean {
    if (nativeFanout === null) return false;
    return nativeFanout.encodeAddress(this.addrs, slot, ip, port) !== 0;
  }

  private grow(): void {
    const cap = this.capacity * 2;
    const keys = Buffer.alloc(cap * VOICE_KEY_BYTES);
    const addrs = Buffer.alloc(cap * ADDR_STRIDE);
    this.keys.copy(keys);
    this.addrs.copy(addrs);
    this.keys.fill(0);
    this.keys = keys;
    this.addrs = addrs;
    this.capacity = cap;
  }
}
