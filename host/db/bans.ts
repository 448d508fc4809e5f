// Bans by user, by IP, or both. Expiry is checked at read time (`now`), so an
// expired ban stops applying without any sweeper; expired rows stay as history.
import type { Db } from './database.js';

export interface BanRecord {
  id: number;
  ip: string | null;
  userId: number | null;
  username: string | null;
  expiresAt: number | null;
  reason: string;
  bannedBy: number | null;
  bannedByName: string;
  createdAt: number;
}

interface Row {
  id: number;
  ip: string | null;
  user_id: number | null;
  username: string | null;
  expires_at: number | null;
  reason: string;
  banned_by: number | null;
  banned_by_name: string;
  created_at: number;
}

const toRecord = (r: Row): BanRecord => ({
  id: r.id,
  ip: r.ip,
  userId: r.user_id,
  username: r.username,
  expiresAt: r.expires_at,
  reason: r.reason,
  bannedBy: r.banned_by,
  bannedByName: r.banned_by_name,
  createdAt: r.created_at,
});

const SELECT = 'SELECT b.*, u.username AS username FROM bans b LEFT JOIN users u ON u.id = b.user_id';
const ACTIVE = '(b.expires_at IS NULL OR b.expires_at > ?)';

export class BansRepo {
  private readonly insertStmt;
  private readonly deleteStmt;
  private readonly activeStmt;
  private readonly allStmt;
  private readonly byIpStmt;
  private readonly byUserStmt;
  private readonly byIdStmt;

  constructor(db: Db) {
    this.insertStmt = db.prepare<[string | null, number | null, number | null, string, number | null, string, number]>(
      `INSERT INTO bans (ip, user_id, expires_at, reason, banned_by, banned_by_name, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    );
    this.deleteStmt = db.prepare<[number]>('DELETE FROM bans WHERE id = ?');
    this.activeStmt = db.prepare<[number], Row>(`${SELECT} WHERE ${ACTIVE} ORDER BY b.id`);
    this.allStmt = db.prepare<[], Row>(`${SELECT} ORDER BY b.id`);
    this.byIpStmt = db.prepare<[string, number], Row>(`${SELECT} WHERE b.ip = ? AND ${ACTIVE} ORDER BY b.expires_at IS NULL DESC, b.expires_at DESC LIMIT 1`);
    this.byUserStmt = db.prepare<[number, number], Row>(`${SELECT} WHERE b.user_id = ? AND ${ACTIVE} ORDER BY b.expires_at IS NULL DESC, b.expires_at DESC LIMIT 1`);
    this.byIdStmt = db.prepare<[number], Row>(`${SELECT} WHERE b.id = ?`);
  }

  add(ban: { ip: string | null; userId: number | null; expiresAt: number | null; reason: string; bannedBy: number | null; bannedByName: string }, now = Date.now()): BanRecord {
    const info = this.insertStmt.run(ban.ip, ban.userId, ban.expiresAt, ban.reason, ban.bannedBy, ban.bannedByName, now);
    return this.get(Number(info.lastInsertRowid))!;
  }

  get(id: number): BanRecord | null {
    const r = this.byIdStmt.get(id);
    return r ? toRecord(r) : null;
  }

  remove(id: number): boolean {
    return this.deleteStmt.run(id).changes === 1;
  }

  listActive(now = Date.now()): BanRecord[] {
    return this.activeStmt.all(now).map(toRecord);
  }

  listAll(): BanRecord[] {
    return this.allStmt.all().map(toRecord);
  }

  /** The longest-lasting active ban on this IP, if any. */
  activeForIp(ip: string, now = Date.now()): BanRecord | null {
    const r = this.byIpStmt.get(ip, now);
    return r ? toRecord(r) : null;
  }

  activeForUser(userId: number, now = Date.now()): BanRecord | null {
    const r = this.byUserStmt.get(userId, now);
    return r ? toRecord(r) : null;
  }
}
