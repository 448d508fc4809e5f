// The channel tree as stored. Tree rules (cycles, root, visibility) live in
// server/channel-tree.ts; this file only reads and writes rows.
import type { Db } from './database.js';
import type { Role } from '../protocol/roles.js';
import type { ChannelView } from '../protocol/server-messages.js';

export const ROOT_CHANNEL_ID = 1;

/** A stored channel has exactly the shape the protocol shows (docs/PROTOCOL.md §4). */
export type ChannelRecord = ChannelView;

interface Row {
  id: number;
  parent_id: number | null;
  name: string;
  is_voice: number;
  required_role: Role;
  position: number;
  description: string;
}

const toRecord = (r: Row): ChannelRecord => ({
  id: r.id,
  parentId: r.parent_id,
  name: r.name,
  isVoice: r.is_voice === 1,
  requiredRole: r.required_role,
  position: r.position,
  description: r.description,
});

export class ChannelsRepo {
  private readonly allStmt;
  private readonly insertStmt;
  private readonly updateStmt;
  private readonly deleteStmt;
  private readonly setPositionStmt;

  constructor(private readonly db: Db) {
    this.allStmt = db.prepare<[], Row>('SELECT * FROM channels ORDER BY parent_id, position, id');
    this.insertStmt = db.prepare<[number, string, number, Role, number, string, number]>(
      `INSERT INTO channels (parent_id, name, is_voice, required_role, position, description, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    );
    this.updateStmt = db.prepare<[number | null, string, number, Role, number, string, number]>(
      `UPDATE channels SET parent_id = ?, name = ?, is_voice = ?, required_role = ?, position = ?, description = ?
       WHERE id = ?`,
    );
    this.deleteStmt = db.prepare<[number]>('DELETE FROM channels WHERE id = ?');
    this.setPositionStmt = db.prepare<[number, number]>('UPDATE channels SET position = ? WHERE id = ?');
  }

  all(): ChannelRecord[] {
    return this.allStmt.all().map(toRecord);
  }

  create(c: Omit<ChannelRecord, 'id'> & { parentId: number }, now = Date.now()): ChannelRecord {
    const info = this.insertStmt.run(c.parentId, c.name, c.isVoice ? 1 : 0, c.requiredRole, c.position, c.description, now);
    return { ...c, id: Number(info.lastInsertRowid) };
  }

  update(c: ChannelRecord): void {
    this.updateStmt.run(c.parentId, c.name, c.isVoice ? 1 : 0, c.requiredRole, c.position, c.description, c.id);
  }

  /** Deletes a channel; ON DELETE CASCADE removes its subtree and their chat. */
  remove(id: number): void {
    this.deleteStmt.run(id);
  }

  /** Rewrites sibling positions as 0..n-1 in the given order, atomically. */
  setPositions(orderedIds: readonly number[]): void {
    this.db.transaction(() => orderedIds.forEach((id, i) => this.setPositionStmt.run(i, id)))();
  }

  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }
}
