// Anti-replay sliding window over u64 sequence numbers (RFC 6479-style ring
// bitmap: bit for sequence s lives at s mod size, so sliding never shifts).
//
// Use: open() the datagram first, then accept(sequence). Only authenticated
// sequences may move the window, or a forged packet with a huge sequence
// could push it forward and make every genuine packet look "too old".

export const DEFAULT_REPLAY_WINDOW = 1024;
export const MAX_REPLAY_WINDOW = 1 << 20;

const TWO_32 = 0x1_0000_0000;

export class ReplayWindow {
  readonly size: number;
  readonly #mask: number;
  readonly #bits: Uint32Array;
  // Highest accepted sequence, split in u32 halves so both bigint and number
  // inputs use plain number arithmetic (no BigInt ops on the hot path).
  #topHi = 0;
  #topLo = 0;
  #empty = true;
  /**
   * Whether the last successful accept() moved the top, i.e. its sequence is
   * the highest ever accepted. The server moves a session's address only on
   * such a packet (docs/PROTOCOL.md 12.6): a late or withheld one never does.
   */
  advanced = false;
  // Scratch output of #split(); avoids allocating a tuple per packet.
  #hi = 0;
  #lo = 0;

  constructor(size: number = DEFAULT_REPLAY_WINDOW) {
    // A power of two (dividing 2^32) makes `lo & mask` equal `seq mod size`.
    if (!Number.isInteger(size) || size < 32 || size > MAX_REPLAY_WINDOW || (size & (size - 1)) !== 0) {
      throw new RangeError(`replay window size must be a power of two in [32, ${MAX_REPLAY_WINDOW}], got ${size}`);
    }
    this.size = size;
    this.#mask = size - 1;
    this.#bits = new Uint32Array(size / 32);
  }

  /** Highest accepted sequence, or null before the first accept. */
  get highest(): bigint | null {
    return this.#empty ? null : (BigInt(this.#topHi) << 32n) | BigInt(this.#topLo);
  }

  /** True if `sequence` is a valid u64 that is neither too old nor already accepted. Does not mutate. */
  check(sequence: bigint | number): boolean {
    if (!this.#split(sequence)) return false;
    if (this.#empty) return true;
    const behind = this.#behind();
    if (behind < 0) return true; // ahead of everything seen
    if (behind >= this.size) return false; // fell off the back of the window
    const idx = this.#lo & this.#mask;
    return (this.#bits[idx >>> 5]! & (1 << (idx & 31))) === 0;
  }

  /**
   * Records `sequence` as seen if check() would pass; returns whether it did.
   * Call only after the packet authenticated.
   */
  accept(sequence: bigint | number): boolean {
    this.advanced = false;
    if (!this.check(sequence)) return false; // also leaves #hi/#lo = sequence
    const hi = this.#hi;
    const lo = this.#lo;
    const bits = this.#bits;
    if (this.#empty) {
      this.#empty = false;
      this.advanced = true;
      this.#topHi = hi;
      this.#topLo = lo;
    } else {
      const behind = this.#behind();
      if (behind < 0) {
        this.advanced = true;
        const ahead = -behind;
        if (ahead >= this.size) {
          bits.fill(0);
        } else {
          // Slots between old top and the new one belong to sequences never
          // seen; they still hold bits from `size` sequences ago. Amortised
          // one iteration per sequence number.
          let s = this.#topLo;
          for (let i = 0; i < ahead; i++) {
            s = (s + 1) & this.#mask;
            bits[s >>> 5]! &= ~(1 << (s & 31));
          }
        }
        this.#topHi = hi;
        this.#topLo = lo;
      }
    }
    const idx = lo & this.#mask;
    bits[idx >>> 5]! |= 1 << (idx & 31);
    return true;
  }

  /** check() + accept() in one; only for sequences that already authenticated. */
  checkAndUpdate(sequence: bigint | number): boolean {
    return this.accept(sequence);
  }

  reset(): void {
    this.#bits.fill(0);
    this.#empty = true;
    this.advanced = false;
    this.#topHi = 0;
    this.#topLo = 0;
  }

  // top - seq. Exact while |difference| < 2^53; beyond that it may round,
  // but only its sign and "far beyond size" matter, and both survive.
  #behind(): number {
    return (this.#topHi - this.#hi) * TWO_32 + (this.#topLo - this.#lo);
  }

  #split(sequence: bigint | number): boolean {
    if (typeof sequence === 'number') {
      if (!Number.isSafeInteger(sequence) || sequence < 0) return false;
      this.#hi = Math.floor(sequence / TWO_32);
      this.#lo = sequence >>> 0;
      return true;
    }
    if (typeof sequence !== 'bigint' || sequence < 0n || sequence > 0xffff_ffff_ffff_ffffn) return false;
    this.#hi = Number(sequence >> 32n);
    this.#lo = Number(sequence & 0xffff_ffffn);
    return true;
  }
}
