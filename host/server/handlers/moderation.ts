// Kick, ban, roles, invites. A moderator may only act on someone of a lower
// role; admins may act on anyone. Every action is logged with who did it.
import { randomBytes } from 'node:crypto';
import { ProtocolError } from '../../protocol/errors.js';
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

export function kick(ctx: ServerContext, conn: AuthedConnection, m: ClientMessage<'user.kick'>): object {
  requirePermission(conn, 'kick');
  const target = ctx.hub.session(m.sessionId);
  if (!target) throw new ProtocolError('NOT_FOUND', `no session ${m.sessionId}`);
  if (!mayActOn(conn.session.role, target.session.role)) throw new ProtocolError('FORBIDDEN', 'you may not kick someone of your role or above');
  conn.log.info({ target: target.session.username, sessionId: m.sessionId, reason: m.reason, by: conn.session.username }, 'user kicked');
  target.disconnect('KICKED', `kicked by ${conn.session.username}${m.reason ? `: ${m.reason}` : ''}`, { reason: m.reason });
  return {};
}

export function serverMute(ctx: ServerContext, conn: AuthedConnection, m: ClientMessage<'user.serverMute'>): object {
  requirePermission(conn, 'serverMute');
  const target = ctx.hub.session(m.sessionId);
  if (!target) throw new ProtocolError('NOT_FOUND', `no session ${m.sessionId}`);
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
  let userId: number | null = m.userId ?? null;
  let ip: string | null = m.ip === undefined ? null : normalizeIp(m.ip);
  if (m.sessionId !== undefined) {
    const target = ctx.hub.session(m.sessionId);
    if (!target) throw new ProtocolError('NOT_FOUND', `no session ${m.sessionId}`);
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
  // An address ban must not let a moderator throw out someone they may not ban by name.
  const shielded = ctx.hub.online.find((o) => o.ip === ip && o !== conn && !mayActOn(conn.session.role, o.session.role));
  if (ip !== null && shielded) throw new ProtocolError('FORBIDDEN', `that address is used by ${shielded.session.username}, whom you may not ban`);
  const expiresAt = m.durationSeconds === undefined ? null : Date.now() + m.durationSeconds * 1000;
  const ban = ctx.store.bans.add({ ip, userId, expiresAt, reason: m.reason, bannedBy: conn.session.userId, bannedByName: conn.session.username });
  conn.log.info({ banId: ban.id, userId, ip, expiresAt, reason: m.reason, by: conn.session.username }, 'ban added');
  const message = `banned by ${conn.session.username}${expiresAt === null ? '' : ` until ${new Date(expiresAt).toISOString()}`}${m.reason ? `: ${m.reason}` : ''}`;
  for (const other of ctx.hub.online) {
    if ((userId !== null && other.session.userId === userId) || (ip !== null && other.ip === ip)) {
      if (other === conn) continue;
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
