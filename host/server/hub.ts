// The server's live state (who is online, where, with which flags; the channel
// tree) and its publication to clients. Every change goes through here so
// visibility rules are applied in one place: a client only ever hears about
// channels its role may see and users inside them.
import type { Logger } from '../log/logger.js';
import type { Store } from '../db/store.js';
import type { ChannelRecord } from '../db/channels.js';
import type { ChatRecord } from '../db/chat.js';
import type { ChannelView, ChatMessageView, ServerMessage, StateSnapshot, UserView } from '../protocol/server-messages.js';
import { ChannelTree } from './channel-tree.js';
import type { Connection, SessionInfo } from './connection.js';

export const channelView = (c: ChannelRecord): ChannelView => ({
  id: c.id,
  parentId: c.parentId,
  name: c.name,
  isVoice: c.isVoice,
  requiredRole: c.requiredRole,
  position: c.position,
  description: c.description,
});

export const userView = (s: SessionInfo): UserView => ({
  sessionId: s.sessionId,
  userId: s.userId,
  username: s.username,
  role: s.role,
  channelId: s.channelId,
  selfMute: s.selfMute,
  selfDeaf: s.selfDeaf,
  serverMute: s.serverMute,
  ...(s.voiceToken !== undefined ? { voiceToken: s.voiceToken } : {}),
});

export const chatView = (m: ChatRecord): ChatMessageView => ({ ...m });

type Authed = Connection & { session: SessionInfo };

export class Hub {
  tree: ChannelTree;
  private readonly sessions = new Map<number, Authed>();
  private nextSessionId = 1;
  /** Listeners for presence changes (the voice lane follows channel moves and mutes). */
  readonly presenceListeners: Array<(s: SessionInfo, event: 'join' | 'update' | 'leave') => void> = [];

  constructor(private readonly store: Store, private readonly log: Logger) {
    this.tree = new ChannelTree(store.channels.all());
  }

  reloadTree(): void {
    this.tree = new ChannelTree(this.store.channels.all());
  }

  allocateSessionId(): number {
    return this.nextSessionId++;
  }

  get online(): Authed[] {
    return [...this.sessions.values()];
  }

  session(sessionId: number): Authed | undefined {
    return this.sessions.get(sessionId);
  }

  sessionsOfUser(userId: number): Authed[] {
    return this.online.filter((c) => c.session.userId === userId);
  }

  inChannel(channelId: number): Authed[] {
    return this.online.filter((c) => c.session.channelId === channelId);
  }

  snapshotFor(s: SessionInfo): StateSnapshot {
    return {
      self: { sessionId: s.sessionId, userId: s.userId, username: s.username, role: s.role },
      channels: this.tree.visibleTo(s.role).map(channelView),
      users: this.online.filter((c) => this.tree.canAccess(s.role, c.session.channelId)).map((c) => userView(c.session)),
    };
  }

  add(conn: Authed): void {
    this.sessions.set(conn.session.sessionId, conn);
    this.log.info({ sessionId: conn.session.sessionId, user: conn.session.username, channelId: conn.session.channelId }, 'user online');
    this.publishPresence(conn.session, null);
    this.emitPresence(conn.session, 'join');
  }

  remove(conn: Authed, reason: string): void {
    if (!this.sessions.delete(conn.session.sessionId)) return;
    this.log.info({ sessionId: conn.session.sessionId, user: conn.session.username, reason }, 'user offline');
    const msg: ServerMessage = { type: 'user.remove', sessionId: conn.session.sessionId, reason };
    for (const other of this.online) {
      if (this.tree.canAccess(other.session.role, conn.session.channelId)) other.send(msg);
    }
    this.emitPresence(conn.session, 'leave');
  }

  /**
   * Tells every observer about a user's new presence. An observer who could see
   * the user's previous channel but not the new one gets a removal instead.
   */
  publishPresence(s: SessionInfo, previousChannelId: number | null): void {
    const upsert: ServerMessage = { type: 'user.upsert', user: userView(s) };
    for (const other of this.online) {
      const role = other.session.role;
      if (this.tree.canAccess(role, s.channelId)) other.send(upsert);
      else if (previousChannelId !== null && this.tree.canAccess(role, previousChannelId)) {
        other.send({ type: 'user.remove', sessionId: s.sessionId, reason: 'moved out of view' });
      }
    }
  }

  /** Moves a session to a channel and publishes it. */
  moveTo(conn: Authed, channelId: number): void {
    const prev = conn.session.channelId;
    if (prev === channelId) return;
    conn.session.channelId = channelId;
    this.log.info({ sessionId: conn.session.sessionId, user: conn.session.username, from: prev, to: channelId }, 'user moved');
    this.publishPresence(conn.session, prev);
    this.emitPresence(conn.session, 'update');
  }

  updated(conn: Authed): void {
    this.publishPresence(conn.session, null);
    this.emitPresence(conn.session, 'update');
  }

  /**
   * After the tree or a role changed: moves anybody who may no longer be where
   * they are to the nearest channel above them they may enter, then resends the
   * full state to everyone (visibility may have changed anywhere).
   */
  resync(): void {
    for (const conn of this.online) {
      const s = conn.session;
      if (!this.tree.get(s.channelId) || !this.tree.canAccess(s.role, s.channelId)) {
        const dest = this.tree.get(s.channelId) ? this.tree.nearestAccessible(s.role, s.channelId) : this.nearestExisting(s.channelId);
        const to = this.tree.canAccess(s.role, dest) ? dest : this.tree.nearestAccessible(s.role, dest);
        this.log.info({ sessionId: s.sessionId, from: s.channelId, to }, 'user relocated by channel change');
        s.channelId = to;
        this.emitPresence(s, 'update');
      }
    }
    for (const conn of this.online) conn.send({ type: 'state', ...this.snapshotFor(conn.session) });
  }

  /** Sends to everyone who can see `channelId`. */
  broadcastToViewers(channelId: number, msg: ServerMessage): void {
    for (const c of this.online) if (this.tree.canAccess(c.session.role, channelId)) c.send(msg);
  }

  private deletedParents = new Map<number, number>();

  /** Remembers where a deleted channel hung, so its occupants can fall back to the nearest survivor. */
  noteDeleted(ids: readonly number[], parentId: number): void {
    for (const id of ids) this.deletedParents.set(id, parentId);
  }

  private nearestExisting(id: number): number {
    let cur: number | undefined = id;
    for (let hops = 0; cur !== undefined && hops < 10_000; hops++) {
      if (this.tree.get(cur)) return cur;
      cur = this.deletedParents.get(cur);
    }
    return 1;
  }

  private emitPresence(s: SessionInfo, event: 'join' | 'update' | 'leave'): void {
    for (const fn of this.presenceListeners) {
      try {
        fn(s, event);
      } catch (err) {
        this.log.error({ err }, 'presence listener failed');
      }
    }
  }
}
