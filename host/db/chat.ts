// Chat history: channel messages (kept per channel, pruned to a bound) and
// direct messages.
import type { Db } from './database.js';
import type { ChatMessageView } from '../protocol/server-messages.js';

/** A stored message has exactly the shape the protocol shows. */
export type ChatRecord = ChatMessageView;

interface Row {
  id: number;
  channel_id: number | null;
  recipient_id: number | null;
  sender_id: number | null;
  sender_name: string;
  text: string;
  created_at: number;
  bot: string | null;
}

const toRecord = (r: Row): ChatRecord => ({
  id: r.id,
  channelId: r.channel_id,
  recipientId: r.recipient_id,
  senderId: r.sender_id,
  senderName: r.sender_name,
  text: r.text,
  createdAt: r.created_at,
  ...(r.bot !== null ? { bot: r.bot } : {}),
});

export class ChatRepo {
  private readonly insertStmt;
  private readonly recentStmt;
  private readonly pruneStmt;

  constructor(db: Db) {
    this.insertStmt = db.prepare<[number | null, number | null, number | null, string, string, number, string | null]>(
      `INSERT INTO chat_messages (channel_id, recipient_id, sender_id, sender_name, text, created_at, bot)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    );
    // Newest `limit` messages before `beforeId`, returned oldest first.
    this.recentStmt = db.prepare<[number, number, number], Row>(
      `SELECT * FROM (SELECT * FROM chat_messages WHERE channel_id = ? AND id < ? ORDER BY id DESC LIMIT ?) ORDER BY id`,
    );
    this.pruneStmt = db.prepare<[number, number, number]>(
      `DELETE FROM chat_messages WHERE channel_id = ? AND id <= (
         SELECT id FROM chat_messages WHERE channel_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?)`,
    );
  }

  /** `bot`: the id of the plugin whose bot posts it (senderId is then null). */
  addChannelMessage(channelId: number, senderId: number | null, senderName: string, text: string, now = Date.now(), bot: string | null = null): ChatRecord {
    const info = this.insertStmt.run(channelId, null, senderId, senderName, text, now, bot);
    return { id: Number(info.lastInsertRowid), channelId, recipientId: null, senderId, senderName, text, createdAt: now, ...(bot !== null ? { bot } : {}) };
  }

  addDirectMessage(recipientId: number, senderId: number, senderName: string, text: string, now = Date.now()): ChatRecord {
    const info = this.insertStmt.run(null, recipientId, senderId, senderName, text, now, null);
    return { id: Number(info.lastInsertRowid), channelId: null, recipientId, senderId, senderName, text, createdAt: now };
  }

  recent(channelId: number, limit: number, beforeId = Number.MAX_SAFE_INTEGER): ChatRecord[] {
    return this.recentStmt.all(channelId, beforeId, limit).map(toRecord);
  }

  /** Keeps only the newest `keep` messages of a channel. */
  prune(channelId: number, keep: number): number {
    return this.pruneStmt.run(channelId, channelId, keep).changes;
  }
}
