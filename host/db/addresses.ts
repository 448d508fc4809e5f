// Addresses each account has logged in from. The login guard lets a login from
// one of them past the account's slow rate, so a stranger guessing at an account
// cannot lock its owner out of the addresses the owner really uses. Only the
// `keep` most recently used addresses per account are kept.
import type { Db } from './database.js';

export class AddressesRepo {
  private readonly knownStmt;
  private readonly upsertStmt;
  private readonly trimStmt;
  private readonly listStmt;

  constructor(db: Db) {
    this.knownStmt = db.prepare<[number, string], { n: number }>('SELECT 1 AS n FROM user_addresses WHERE user_id = ? AND ip = ?');
    this.upsertStmt = db.prepare<[number, string, number, number]>(
      'INSERT INTO user_addresses (user_id, ip, first_seen_at, last_seen_at) VALUES (?, ?, ?, ?) ON CONFLICT (user_id, ip) DO UPDATE SET last_seen_at = excluded.last_seen_at',
    );
    // Everything but the `keep` newest rows of the account.
    this.trimStmt = db.prepare<[number, number, number]>(
      'DELETE FROM user_addresses WHERE user_id = ? AND ip NOT IN (SELECT ip FROM user_addresses WHERE user_id = ? ORDER BY last_seen_at DESC, ip LIMIT ?)',
    );
    this.listStmt = db.prepare<[number], { ip: string }>('SELECT ip FROM user_addresses WHERE user_id = ? ORDER BY last_seen_at DESC, ip');
  }

  isKnown(userId: number, ip: string): boolean {
    return this.knownStmt.get(userId, ip) !== undefined;
  }

  /** Records a successful login from `ip` and forgets the oldest beyond `keep`. */
  remember(userId: number, ip: string, keep: number, now = Date.now()): void {
    this.upsertStmt.run(userId, ip, now, now);
    this.trimStmt.run(userId, userId, keep);
  }

  list(userId: number): string[] {
    return this.listStmt.all(userId).map((r) => r.ip);
  }
}
