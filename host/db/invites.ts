// Invite tokens for the invite-only registration policy. Only a SHA-256 of the
// token is stored: a leaked database does not leak usable invites.
import { createHash } from 'node:crypto';
import type { Db } from './database.js';
import type { Role } from '../protocol/roles.js';

export const hashToken = (token: string): string => createHash('sha256').update(token).digest('hex');

export class InvitesRepo {
  private readonly insertStmt;
  private readonly consumeStmt;

  constructor(db: Db) {
    this.insertStmt = db.prepare<[string, Role, number | null, number, number | null, number]>(
      'INSERT INTO invites (token_hash, role, created_by, created_at, expires_at, uses_left) VALUES (?, ?, ?, ?, ?, ?)',
    );
    // One statement: decrement only a valid invite, and report its role.
    this.consumeStmt = db.prepare<[string, number], { role: Role }>(
      `UPDATE invites SET uses_left = uses_left - 1
       WHERE token_hash = ? AND uses_left > 0 AND (expires_at IS NULL OR expires_at > ?)
       RETURNING role`,
    );
  }

  create(token: string, role: Role, createdBy: number | null, expiresAt: number | null, uses: number, now = Date.now()): void {
    this.insertStmt.run(hashToken(token), role, createdBy, now, expiresAt, uses);
  }

  /** Uses up one use of the invite; returns the role it grants, or null if invalid/expired/used. */
  consume(token: string, now = Date.now()): Role | null {
    return this.consumeStmt.get(hashToken(token), now)?.role ?? null;
  }
}
