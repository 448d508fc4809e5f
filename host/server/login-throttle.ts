// The counting primitives behind the login guard (login-guard.ts). Each one
// *reserves* synchronously, before the caller awaits anything: argon2 takes
// tens of milliseconds, and a limit that is only checked before the hash and
// counted after it lets every attempt of a parallel burst through.

/** Settings of the per-key exponential backoff (the IP throttle). */
export interface BackoffSettings {
  maxFailures: number;
  windowMs: number;
  lockoutMs: number;
  maxLockoutMs: number;
}

interface BackoffEntry {
  failures: number[];
  lockedUntil: number;
  inFlight: number;
}

/**
 * Per key: `maxFailures` failures inside `windowMs` are free; the n-th failure
 * with n ≥ maxFailures locks the key for min(maxLockoutMs, lockoutMs × 2^(n − maxFailures)).
 * Attempts in flight count as failures until they resolve, so at most
 * `maxFailures` attempts can be outstanding before the first lockout, and only
 * one at a time after it.
 */
export class BackoffThrottle {
  private readonly entries = new Map<string, BackoffEntry>();

  constructor(private readonly s: BackoffSettings) {}

  /** Milliseconds until `key` may try again; 0 if it may now. Reserves nothing. */
  retryAfter(key: string, now = Date.now()): number {
    const e = this.entries.get(key);
    if (!e) return 0;
    this.prune(e, now);
    if (e.lockedUntil > now) return e.lockedUntil - now;
    const pending = e.failures.length + e.inFlight;
    // Past the free allowance only one attempt may be outstanding: the next
    // may start when it has resolved (and its lockout, if it failed, has run).
    if (pending >= this.s.maxFailures && e.inFlight > 0) return Math.min(this.s.lockoutMs, 1000);
    return 0;
  }

  /** Takes a slot for an attempt that retryAfter() allowed. */
  reserve(key: string, now = Date.now()): void {
    const e = this.entries.get(key) ?? { failures: [], lockedUntil: 0, inFlight: 0 };
    this.prune(e, now);
    e.inFlight++;
    this.entries.set(key, e);
  }

  /** The reserved attempt failed: it becomes a failure (and may lock the key). */
  fail(key: string, now = Date.now()): void {
    const e = this.entries.get(key) ?? { failures: [], lockedUntil: 0, inFlight: 1 };
    e.inFlight = Math.max(0, e.inFlight - 1);
    this.prune(e, now);
    e.failures.push(now);
    const over = e.failures.length - this.s.maxFailures;
    if (over >= 0) e.lockedUntil = Math.max(e.lockedUntil, now + Math.min(this.s.maxLockoutMs, this.s.lockoutMs * 2 ** Math.min(over, 30)));
    this.entries.set(key, e);
  }

  /** The reserved attempt did not fail (or was never made): give the slot back. */
  release(key: string): void {
    const e = this.entries.get(key);
    if (e) e.inFlight = Math.max(0, e.inFlight - 1);
  }

  sweep(now = Date.now()): void {
    for (const [key, e] of this.entries) {
      this.prune(e, now);
      if (e.inFlight === 0 && e.lockedUntil <= now && e.failures.length === 0) this.entries.delete(key);
    }
  }

  get size(): number {
    return this.entries.size;
  }

  private prune(e: BackoffEntry, now: number): void {
    if (e.failures.length > 0 && now - e.failures[0]! >= this.s.windowMs) e.failures = e.failures.filter((t) => now - t < this.s.windowMs);
  }
}

interface RateEntry {
  tokens: number;
  last: number;
}

/**
 * Per key: a token bucket of `burst` tokens refilled by one every `refillMs`.
 * A token is taken when an attempt starts and given back when it succeeds,
 * so only failures (and attempts still in flight) use up the rate.
 */
export class SlowRate {
  private readonly entries = new Map<string, RateEntry>();

  constructor(private readonly burst: number, private readonly refillMs: number) {}

  /** Takes a token: 0 on success, else the milliseconds until one is back. */
  take(key: string, now = Date.now()): number {
    const e = this.refill(key, now);
    if (e.tokens >= 1) {
      e.tokens -= 1;
      this.entries.set(key, e);
      return 0;
    }
    return Math.max(1, Math.ceil((1 - e.tokens) * this.refillMs));
  }

  give(key: string, now = Date.now()): void {
    const e = this.refill(key, now);
    e.tokens = Math.min(this.burst, e.tokens + 1);
    this.entries.set(key, e);
  }

  sweep(now = Date.now()): void {
    for (const [key, e] of this.entries) if (e.tokens + ((now - e.last) / this.refillMs) >= this.burst) this.entries.delete(key);
  }

  get size(): number {
    return this.entries.size;
  }

  private refill(key: string, now: number): RateEntry {
    const e = this.entries.get(key);
    if (!e) return { tokens: this.burst, last: now };
    e.tokens = Math.min(this.burst, e.tokens + (now - e.last) / this.refillMs);
    e.last = now;
    return e;
  }
}

/**
 * Per key: at most `max` events inside a sliding `windowMs`. An event is
 * reserved before the work and either kept (commit) or given back (cancel).
 */
export class WindowQuota {
  private readonly entries = new Map<string, number[]>();

  constructor(private readonly max: number, private readonly windowMs: number) {}

  /** Reserves one event: 0 on success, else the milliseconds until one is free. */
  reserve(key: string, now = Date.now()): { retryAfterMs: number; stamp: number } {
    const times = (this.entries.get(key) ?? []).filter((t) => now - t < this.windowMs);
    if (times.length >= this.max) {
      this.entries.set(key, times);
      return { retryAfterMs: Math.max(1, times[0]! + this.windowMs - now), stamp: 0 };
    }
    times.push(now);
    this.entries.set(key, times);
    return { retryAfterMs: 0, stamp: now };
  }

  cancel(key: string, stamp: number): void {
    const times = this.entries.get(key);
    const i = times?.indexOf(stamp) ?? -1;
    if (times && i >= 0) times.splice(i, 1);
  }

  sweep(now = Date.now()): void {
    for (const [key, times] of this.entries) if (times.every((t) => now - t >= this.windowMs)) this.entries.delete(key);
  }
}
