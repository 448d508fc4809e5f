// Kick, ban, roles, invites. A moderator may only act on someone of a lower
// role; admins may act on anyone. Every action is logged with who did it.
// A session the actor cannot see (in a channel above their role) answers
// exactly as one that does not exist (docs/PROTOCOL.md §7).
import { randomBytes } from 'node:crypto';
import { ProtocolError } from '../../protocol/errors.js';
import { requireHumanText } from '../../protocol/human-text.js';
import type { ClientMessage } from '../../protocol/client-messages.js';
import type { BanView } from '../../protocol/server-messages.js';
import type { BanRecord } from '../../db/bans.js';
import { requirePermission, type AuthedConnection, type ServerContext } from '../context.js';
import { roleRank, type Role } from '../roles.js';
import { normalizeIp } from '../ip.js';

export const banView = (b: BanRecord): BanView => ({
  id: b.id,
  userId: b.userId,
  username: b.username,
  ip: b.ip,
  reason: b.reason,
  expiresAt: b.expiresAt,
  bannedByName: b.bannedByName,
  createdAt: b.createdAt,
});

function mayActOn(actor: Role, target: Role): boolean {
  return actor === 'admin' || roleRank(actor) > roleRank(target);
}

/**
 * The online session `sessionId` if the actor can see it. A session in a
 * channel the actor's role cannot see gets the same NOT_FOUND, same message, as
 * a session id that was never issued: otherwise the rank rule's FORBIDDEN would
 * tell a moderator that someone (an admin) is online in a hidden channel.
 */
function visibleSession(ctx: ServerContext, conn: AuthedConnection, sessionId: number): AuthedConnection {
  const target = ctx.hub.session(sessionId);
  if (!target || !ctx.hub.tree.canAccess(conn.session.role, target.session.channelId)) {
    throw new ProtocolError('NOT_FOUND', `no session ${sessionId}`);
  }
  return target;
}

export function kick(ctx: ServerContext, conn: AuthedConnection, m: ClientMessage<'user.kick'>): object {
  requirePermission(conn, 'kick');
  requireHumanText(m.reason, 'reason', 'line');
  const target = visibleSession(ctx, conn, m.sessionId);
  if (!mayActOn(conn.session.role, target.session.role)) throw new ProtocolError('FORBIDDEN', 'you may not kick someone of your role or above');
  conn.log.info({ target: target.session.username, sessionId: m.sessionId, reason: m.reason, by: conn.session.username }, 'user kicked');
  target.disconnect('KICKED', `kicked by ${conn.session.username}${m.reason ? `: ${m.reason}` : ''}`, { reason: m.reason });
  return {};
}

export function serverMute(ctx: ServerContext, conn: AuthedConnection, m: ClientMessage<'user.serverMute'>): object {
  requirePermission(conn, 'serverMute');
  const target = visibleSession(ctx, conn, m.sessionId);
  if (target !== conn && !mayActOn(conn.session.role, target.session.role)) {
    throw new ProtocolError('FORBIDDEN', 'you may not mute someone of your role or above');
  }
  target.session.serverMute = m.muted;
  conn.log.info({ target: target.session.username, sessionId: m.sessionId, muted: m.muted, by: conn.session.username }, 'server mute changed');
  ctx.hub.updated(target);
  return {};
}

export function addBan(ctx: ServerContext, conn: AuthedConnection, m: ClientMessage<'ban.add'>): object {
  requirePermission(conn, 'ban');
  if (m.sessionId !== undefined && (m.userId !== undefined || m.ip !== undefined)) {
    throw new ProtocolError('INVALID_MESSAGE', 'give either sessionId, or userId and/or ip');
  }
  requireHumanText(m.reason, 'reason', 'line');
  let userId: number | null = m.userId ?? null;
  let ip: string | null = m.ip === undefined ? null : normalizeIp(m.ip);
  if (m.sessionId !== undefined) {
    const target = visibleSession(ctx, conn, m.sessionId);
    userId = target.session.userId;
    ip = target.ip;
  }
  if (userId === null && ip === null) throw new ProtocolError('INVALID_MESSAGE', 'ban.add needs sessionId, userId or ip');
  if (userId !== null) {
    const user = ctx.store.users.findById(userId);
    if (!user) throw new ProtocolError('NOT_FOUND', `no user ${userId}`);
    if (!mayActOn(conn.session.role, user.role)) throw new ProtocolError('FORBIDDEN', 'you may not ban someone of your role or above');
  }
  if (ip !== null && ip === conn.ip && conn.session.role !== 'admin') {
    throw new ProtocolError('FORBIDDEN', 'refusing to ban your own address');
  }
  // Who else is online on that address is not the issuer's to know (they see
  // no addresses), so the answer is the same whoever is there. An address ban
  // still never throws out someone the issuer may not ban by name: such
  // sessions stay connected (see the loop below), and the server log says so.
  const shielded = ip === null ? [] : ctx.hub.online.filter((o) => o.ip === ip && o !== conn && !mayActOn(conn.session.role, o.session.role));
  const expiresAt = m.durationSeconds === undefined ? null : Date.now() + m.durationSeconds * 1000;
  const ban = ctx.store.bans.add({ ip, userId, expiresAt, reason: m.reason, bannedBy: conn.session.userId, bannedByName: conn.session.username });
  conn.log.info({ banId: ban.id, userId, ip, expiresAt, reason: m.reason, by: conn.session.username }, 'ban added');
  const message = `banned by ${conn.session.username}${expiresAt === null ? '' : ` until ${new Date(expiresAt).toISOString()}`}${m.reason ? `: ${m.reason}` : ''}`;
  if (shielded.length > 0) {
    conn.log.warn({ banId: ban.id, ip, kept: shielded.map((o) => o.session.username), by: conn.session.username }, 'address ban leaves sessions the issuer may not ban connected');
  }
  for (const other of ctx.hub.online) {
    if ((userId !== null && other.session.userId === userId) || (ip !== null && other.ip === ip)) {
      if (other === conn || shielded.includes(other)) continue;
      other.disconnect('BANNED', message, { reason: m.reason, expiresAt });
    }
  }
  return { ban: banView(ban) };
}

export function listBans(ctx: ServerContext, conn: AuthedConnection, m: ClientMessage<'ban.list'>): object {
  requirePermission(conn, 'ban');
  return { bans: (m.includeExpired ? ctx.store.bans.listAll() : ctx.store.bans.listActive()).map(banView) };
}

export function removeBan(ctx: ServerContext, conn: AuthedConnection, m: ClientMessage<'ban.remove'>): object {
  requirePermission(conn, 'ban');
  if (!ctx.store.bans.remove(m.banId)) throw new ProtocolError('NOT_FOUND', `no ban ${m.banId}`);
  conn.log.info({ banId: m.banId, by: conn.session.username }, 'ban lifted');
  return {};
}

export function listUsers(ctx: ServerContext, conn: AuthedConnection): object {
  requirePermission(conn, 'listUsers');
  return { users: ctx.store.users.list() };
}

export function setRole(ctx: ServerContext, conn: AuthedConnection, m: ClientMessage<'user.setRole'>): object {
  requirePermission(conn, 'setRole');
  const user = ctx.store.users.findById(m.userId);
  if (!user) throw new ProtocolError('NOT_FOUND', `no user ${m.userId}`);
  if (user.role === 'admin' && m.role !== 'admin' && ctx.store.users.countWithRole('admin') <= 1) {
    throw new ProtocolError('FORBIDDEN', 'refusing to demote the last admin');
  }
  ctx.store.users.setRole(user.id, m.role);
  conn.log.info({ userId: user.id, user: user.username, from: user.role, to: m.role, by: conn.session.username }, 'role changed');
  for (const s of ctx.hub.sessionsOfUser(user.id)) s.session.role = m.role;
  ctx.hub.resync();
  return { user: { ...user, role: m.role } };
}

export function createInvite(ctx: ServerContext, conn: AuthedConnection, m: ClientMessage<'invite.create'>): object {
  requirePermission(conn, 'createInvite');
  const token = randomBytes(18).toString('base64url');
  const expiresAt = m.durationSeconds === undefined ? null : Date.now() + m.durationSeconds * 1000;
  ctx.store.invites.create(token, m.role, conn.session.userId, expiresAt, m.uses);
  conn.log.info({ role: m.role, uses: m.uses, expiresAt, by: conn.session.username }, 'invite created');
  return { invite: token, role: m.role, uses: m.uses, expiresAt };
}
