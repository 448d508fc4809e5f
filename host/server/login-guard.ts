// What stands between a stranger and the argon2 check of a password, and
// between one address and an unlimited number of new accounts.
//
// - Per IP, first: exponential backoff after `maxFailures` failures. This is
//   what stops a guesser, and it only ever hurts the guesser's own address.
// - Per account, second, and only for addresses the account never logged in
//   from: a slow token bucket. A distributed guesser gets that rate against one
//   account in total, however many addresses it has; the owner logging in from
//   an address they used before is never held back by it, so guessing cannot
//   lock the owner out (the old per-account lockout could, for 15 minutes).
// - Both are reserved synchronously, before the hash: parallel attempts (many
//   connections firing at once) cannot get more attempts hashed than the limits.
// - Registrations without an invite or bootstrap token: `registrationsPerIp`
//   per `registrationWindowMs` per IP, reserved before the hash as well.
import { ProtocolError } from '../protocol/errors.js';
import type { ServerConfig } from '../config/server-config.js';
import { BackoffThrottle, SlowRate, WindowQuota } from './login-throttle.js';

/** One reserved password attempt; settle it exactly once. */
export interface Attempt {
  /** The password was right: nothing is counted against anyone. */
  succeed(): void;
  /** The password was wrong (or the secret guessed at was). */
  fail(): void;
  /** Not a guess after all (e.g. a policy refusal, an internal error): give the slots back. */
  release(): void;
}

/** One reserved registration; settle it exactly once. */
export interface RegistrationSlot {
  commit(): void;
  cancel(): void;
}

export class LoginGuard {
  private readonly ip: BackoffThrottle;
  private readonly account: SlowRate;
  private readonly registrations: WindowQuota;

  constructor(config: Pick<ServerConfig, 'loginThrottle' | 'limits'>) {
    const t = config.loginThrottle;
    this.ip = new BackoffThrottle(t);
    this.account = new SlowRate(t.accountBurst, t.accountRefillMs);
    this.registrations = new WindowQuota(config.limits.registrationsPerIp, config.limits.registrationWindowMs);
  }

  /**
   * Reserves an attempt for `ip` against `accountKey` (the name's uniqueness
   * key, whether or not such an account exists, so the answer does not tell).
   * `knownAddress()`: has the account logged in from `ip` before? Asked only
   * once the IP has passed, so a locked-out address costs no database lookup.
   * Throws AUTH_THROTTLED with details.retryAfterMs and details.scope.
   */
  begin(ip: string, accountKey: string | null, knownAddress: () => boolean, now = Date.now()): Attempt {
    const ipKey = `ip:${ip}`;
    const ipWait = this.ip.retryAfter(ipKey, now);
    if (ipWait > 0) throw throttled('ip', ipWait, `too many failed logins from your address; retry in ${seconds(ipWait)} s`);
    const accKey = accountKey !== null && !knownAddress() ? `user:${accountKey}` : null;
    if (accKey !== null) {
      const accWait = this.account.take(accKey, now);
      if (accWait > 0) {
        throw throttled('account', accWait, `too many failed logins for this account from new addresses; retry in ${seconds(accWait)} s (addresses it logged in from before are not held back)`);
      }
    }
    this.ip.reserve(ipKey, now);
    let settled = false;
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      fn();
    };
    return {
      succeed: () =>
        settle(() => {
          this.ip.release(ipKey);
          if (accKey !== null) this.account.give(accKey);
        }),
      fail: () => settle(() => this.ip.fail(ipKey)),
      release: () =>
        settle(() => {
          this.ip.release(ipKey);
          if (accKey !== null) this.account.give(accKey);
        }),
    };
  }

  /** Throws AUTH_THROTTLED while `ip` is locked out, without reserving anything (nothing is guessed). */
  assertNotLocked(ip: string, now = Date.now()): void {
    const wait = this.ip.retryAfter(`ip:${ip}`, now);
    if (wait > 0) throw throttled('ip', wait, `too many failed logins from your address; retry in ${seconds(wait)} s`);
  }

  /** Reserves one registration for `ip`; throws REGISTRATION_THROTTLED when its quota is used up. */
  beginRegistration(ip: string, now = Date.now()): RegistrationSlot {
    const key = `ip:${ip}`;
    const r = this.registrations.reserve(key, now);
    if (r.retryAfterMs > 0) {
      throw new ProtocolError('REGISTRATION_THROTTLED', `too many accounts registered from your address; retry in ${seconds(r.retryAfterMs)} s`, { retryAfterMs: r.retryAfterMs });
    }
    let settled = false;
    return {
      commit: () => {
        settled = true;
      },
      cancel: () => {
        if (settled) return;
        settled = true;
        this.registrations.cancel(key, r.stamp);
      },
    };
  }

  sweep(now = Date.now()): void {
    this.ip.sweep(now);
    this.account.sweep(now);
    this.registrations.sweep(now);
  }
}

const seconds = (ms: number) => Math.ceil(ms / 1000);

function throttled(scope: 'ip' | 'account', retryAfterMs: number, message: string): ProtocolError {
  return new ProtocolError('AUTH_THROTTLED', message, { retryAfterMs, scope });
}
