// Counters the server keeps for monitoring that no other module keeps: how
// connections ended (by disconnect code: a kick shows as KICKED), sessions
// started, failed and throttled logins. Each is one increment on a path that
// runs once per connection or login, never per packet; metrics.ts reads them
// when scraped.
import type { ServerConfig } from '../config/server-config.js';
import { ProtocolError } from '../protocol/errors.js';
import { LoginGuard, type Attempt, type RegistrationSlot } from '../server/login-guard.js';

export class OpsCounters {
  /** Sessions that logged in (or registered) since start. */
  sessionsStarted = 0;
  /** Connections ended, by the code they were disconnected with ("CLOSED": the peer went away). */
  readonly closed = new Map<string, number>();
  /** Password (or invite/bootstrap token, old password) guesses that failed. */
  loginFailures = 0;
  /** Attempts refused by the login throttle, by scope. */
  readonly loginThrottled = { ip: 0, account: 0 };
  /** Open registrations refused by the per-address quota. */
  registrationsThrottled = 0;

  connectionClosed(code: string): void {
    this.closed.set(code, (this.closed.get(code) ?? 0) + 1);
  }

  /** Counts an AUTH_THROTTLED / REGISTRATION_THROTTLED on its way out. */
  noteRefusal(err: unknown): void {
    if (!(err instanceof ProtocolError)) return;
    if (err.code === 'AUTH_THROTTLED') {
      if (err.details?.['scope'] === 'account') this.loginThrottled.account++;
      else this.loginThrottled.ip++;
    } else if (err.code === 'REGISTRATION_THROTTLED') this.registrationsThrottled++;
  }
}

/**
 * The login guard with counting added around it: the guard itself stays a
 * pure policy (login-guard.ts), and the counts come from what it answers.
 */
export class CountingLoginGuard extends LoginGuard {
  constructor(
    config: Pick<ServerConfig, 'loginThrottle' | 'limits'>,
    private readonly counts: OpsCounters,
  ) {
    super(config);
  }

  override begin(ip: string, accountKey: string | null, knownAddress: () => boolean, now = Date.now()): Attempt {
    let attempt: Attempt;
    try {
      attempt = super.begin(ip, accountKey, knownAddress, now);
    } catch (err) {
      this.counts.noteRefusal(err);
      throw err;
    }
    let settled = false;
    return {
      succeed: () => {
        settled = true;
        attempt.succeed();
      },
      fail: () => {
        // An attempt settles once (login-guard.ts): count the first fail only.
        if (!settled) this.counts.loginFailures++;
        settled = true;
        attempt.fail();
      },
      release: () => {
        settled = true;
        attempt.release();
      },
    };
  }

  override assertNotLocked(ip: string, now = Date.now()): void {
    try {
      super.assertNotLocked(ip, now);
    } catch (err) {
      this.counts.noteRefusal(err);
      throw err;
    }
  }

  override beginRegistration(ip: string, now = Date.now()): RegistrationSlot {
    try {
      return super.beginRegistration(ip, now);
    } catch (err) {
      this.counts.noteRefusal(err);
      throw err;
    }
  }
}
