// Accounts. The uniqueness key is NFKC + lower case, so spellings that differ
// only in case or compatibility form cannot register twice; on top of it, a
// name that shares a UTS #39 skeleton key (host/protocol/confusables.ts) with an
// existing account's is refused, so "bоss" (Cyrillic о) cannot join next to "boss".
import type { Db } from './database.js';
import type { Role } from '../protocol/roles.js';
import { CONFUSABLES_UNICODE_VERSION, nameKeys } from '../protocol/confusables.js';

export interface UserRecord {
  id: number;
  username: string;
  role: Role;
  createdAt: number;
  lastSeenAt: number | null;
}

interface Row {
  id: number;
  username: string;
  role: Role;
  created_at: number;
  last_seen_at: number | null;
  password_hash: string;
}

export function usernameKey(username: string): string {
  return username.normalize('NFKC').toLowerCase();
}

const toRecord = (r: Row): UserRecord => ({
  id: r.id,
  username: r.username,
  role: r.role,
  createdAt: r.created_at,
  lastSeenAt: r.last_seen_at,
});

export class UsersRepo {
  private readonly insertStmt;
  private readonly byKey;
  private readonly byId;
  private readonly setRoleStmt;
  private readonly setHashStmt;
  private readonly touchStmt;
  private readonly listStmt;
  private readonly countRoleStmt;
  private readonly countStmt;
  private readonly deleteStmt;
  private readonly bySkeleton;
  private readonly staleSkeletonsStmt;
  private readonly allNamesStmt;
  private readonly setSkeletonStmt;

  constructor(private readonly db: Db) {
    this.insertStmt = db.prepare<[string, string, string, string, string, Role, number]>(
      `INSERT INTO users (username, username_key, username_skeleton, username_skeleton_folded, password_hash, role, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    );
    // Any key of the new name against either stored key (both indexed).
    this.bySkeleton = db.prepare<[string, string, string, string], Row>(
      'SELECT * FROM users WHERE username_skeleton IN (?, ?) OR username_skeleton_folded IN (?, ?) ORDER BY id LIMIT 1',
    );
    this.staleSkeletonsStmt = db.prepare<[], { id: number; username: string }>(
      'SELECT id, username FROM users WHERE username_skeleton IS NULL OR username_skeleton_folded IS NULL',
    );
    this.allNamesStmt = db.prepare<[], { id: number; username: string }>('SELECT id, username FROM users');
    this.setSkeletonStmt = db.prepare<[string, string, number]>('UPDATE users SET username_skeleton = ?, username_skeleton_folded = ? WHERE id = ?');
    this.byKey = db.prepare<[string], Row>('SELECT * FROM users WHERE username_key = ?');
    this.byId = db.prepare<[number], Row>('SELECT * FROM users WHERE id = ?');
    this.setRoleStmt = db.prepare<[Role, number]>('UPDATE users SET role = ? WHERE id = ?');
    this.setHashStmt = db.prepare<[string, number]>('UPDATE users SET password_hash = ? WHERE id = ?');
    this.touchStmt = db.prepare<[number, number]>('UPDATE users SET last_seen_at = ? WHERE id = ?');
    this.listStmt = db.prepare<[], Row>('SELECT * FROM users ORDER BY username_key');
    this.countRoleStmt = db.prepare<[Role], { n: number }>('SELECT COUNT(*) AS n FROM users WHERE role = ?');
    this.countStmt = db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM users');
    this.deleteStmt = db.prepare<[number]>('DELETE FROM users WHERE id = ?');
  }

  /**
   * Returns the new user, or null when the name is taken or looks like a taken
   * one. The look-alike check and the insert are one transaction, so two
   * registrations racing with "boss" and "bоss" cannot both win.
   */
  create(username: string, passwordHash: string, role: Role, now = Date.now()): UserRecord | null {
    const [shown, folded] = nameKeys(username);
    return this.db.transaction(() => {
      if (this.bySkeleton.get(shown, folded, shown, folded)) return null;
      try {
        const info = this.insertStmt.run(username, usernameKey(username), shown, folded, passwordHash, role, now);
        return { id: Number(info.lastInsertRowid), username, role, createdAt: now, lastSeenAt: null };
      } catch (err) {
        if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') return null;
        throw err;
      }
    })();
  }

  /** An account whose name looks like `username` (a shared skeleton key), the oldest if several. */
  findConfusable(username: string): UserRecord | null {
    const [shown, folded] = nameKeys(username);
    const r = this.bySkeleton.get(shown, folded, shown, folded);
    return r ? toRecord(r) : null;
  }

  /**
   * Fills in missing look-alike keys (accounts from before migration 4, or rows
   * written by hand) and recomputes all of them when the confusables data is
   * of another Unicode version than the one they were computed with. Runs at
   * open; about 5 µs per account.
   */
  refreshNameKeys(computedWithVersion: string | null): { updated: number; version: string } {
    const rows = computedWithVersion === CONFUSABLES_UNICODE_VERSION ? this.staleSkeletonsStmt.all() : this.allNamesStmt.all();
    if (rows.length > 0) {
      this.db.transaction(() => {
        for (const r of rows) this.setSkeletonStmt.run(...nameKeys(r.username), r.id);
      })();
    }
    return { updated: rows.length, version: CONFUSABLES_UNICODE_VERSION };
  }

  findByName(username: string): (UserRecord & { passwordHash: string }) | null {
    const r = this.byKey.get(usernameKey(username));
    return r ? { ...toRecord(r), passwordHash: r.password_hash } : null;
  }

  findById(id: number): UserRecord | null {
    const r = this.byId.get(id);
    return r ? toRecord(r) : null;
  }

  setRole(id: number, role: Role): boolean {
    return this.setRoleStmt.run(role, id).changes === 1;
  }

  setPasswordHash(id: number, hash: string): boolean {
    return this.setHashStmt.run(hash, id).changes === 1;
  }

  touch(id: number, now = Date.now()): void {
    this.touchStmt.run(now, id);
  }

  list(): UserRecord[] {
    return this.listStmt.all().map(toRecord);
  }

  countWithRole(role: Role): number {
    return this.countRoleStmt.get(role)!.n;
  }

  count(): number {
    return this.countStmt.get()!.n;
  }

  remove(id: number): boolean {
    return this.deleteStmt.run(id).changes === 1;
  }
}
