// A small deterministic pseudo-random number generator for guests.
//
// Guests have no clock and no entropy source of their own (the host denies
// WASI and passes time in). A plugin that needs "random" numbers seeds this
// generator from host input, typically the event's `ts` and the user's id:
// the same event always gives the same numbers, which also makes plugins
// testable. It is SplitMix64 (Steele, Lea, Flood 2014): fast, 64-bit state,
// good statistical quality; NOT suitable for anything secret.

const GOLDEN: u64 = 0x9e3779b97f4a7c15;

/** FNV-1a over the UTF-16 code units of a string (used to fold a salt into a seed). */
export function hashString(s: string): u64 {
  let h: u64 = 0xcbf29ce484222325;
  for (let i = 0; i < s.length; i++) {
    h ^= <u64>s.charCodeAt(i);
    h *= 0x100000001b3;
  }
  return h;
}

function mix(z: u64): u64 {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
  z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
  return z ^ (z >> 31);
}

export class Rng {
  private state: u64;

  constructor(seed: u64) {
    this.state = seed;
  }

  /**
   * A generator seeded from an event: its timestamp (ms since the epoch, as
   * the host passes it), the user's id and an optional salt (e.g. the command
   * name, so two features do not draw the same numbers).
   */
  static fromEvent(ts: f64, userId: i64, salt: string = ""): Rng {
    const t: u64 = ts > 0 ? <u64>ts : 0;
    return new Rng(mix(t ^ mix(<u64>userId + GOLDEN)) ^ hashString(salt));
  }

  /** The next 64 random bits. */
  next(): u64 {
    this.state += GOLDEN;
    return mix(this.state);
  }

  /** A uniform integer in [lo, hi] (inclusive), without modulo bias. */
  int(lo: i32, hi: i32): i32 {
    if (hi <= lo) return lo;
    const span = <u64>(<i64>hi - <i64>lo + 1);
    // Values below 2^64 mod span would make the low results more likely: draw again.
    const reject = (0 - span) % span;
    let x = this.next();
    while (x < reject) x = this.next();
    return <i32>(<i64>lo + <i64>(x % span));
  }

  /** A uniform float in [0, 1). */
  float(): f64 {
    return <f64>(this.next() >> 11) / 9007199254740992.0;
  }
}
