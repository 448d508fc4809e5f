// Failed-login throttling, kept per IP and per account. After `maxFailures`
// failures inside `windowMs`, the key is locked for `lockoutMs`, doubling with
// each further failure up to `maxLockoutMs`. Checked before any password
// hashing, so a locked-out attacker costs the server no argon2 time.
export interface ThrottleSettings {
  maxFailures: number;
  windowMs: number;
  lockoutMs: number;
  maxLockoutMs: number;
}

interface Entry {
  failures: number[];
  lockedUntil: number;
}

export class LoginThrottle {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly s: ThrottleSettings) {}

  /** Milliseconds until this key may try again, 0 if it may now. */
  retryAfter(key: string, now = Date.now()): number {
    const e = this.entries.get(key);
    return e && e.lockedUntil > now ? e.lockedUntil - now : 0;
  }

  recordFailure(key: string, now = Date.now()): void {
    const e = this.entries.get(key) ?? { failures: [], lockedUntil: 0 };
    e.failures = e.failures.filter((t) => now - t < this.s.windowMs);
    e.failures.push(now);
    const over = e.failures.length - this.s.maxFailures;
    if (over >= 0) {
      e.lockedUntil = now + Math.min(this.s.maxLockoutMs, this.s.lockoutMs * 2 ** Math.min(over, 30));
    }
    this.entries.set(key, e);
  }

  clear(key: string): void {
    this.entries.delete(key);
  }

  /** Drops entries that can no longer matter; called periodically. */
  sweep(now = Date.now()): void {
    for (const [key, e] of this.entries) {
      if (e.lockedUntil <= now && e.failures.every((t) => now - t >= this.s.windowMs)) this.entries.delete(key);
    }
  }

  get size(): number {
    return this.entries.size;
  }
}
