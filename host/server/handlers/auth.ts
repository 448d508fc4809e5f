// login, register, account.changePassword. Throttle → verify → ban check →
// session. The password is never logged, stored in clear or echoed back.
import { timingSafeEqual } from 'node:crypto';
import { ROOT_CHANNEL_ID } from '../../db/channels.js';
import { hashToken } from '../../db/invites.js';
import { usernameKey } from '../../db/users.js';
import { ProtocolError } from '../../protocol/errors.js';
import type { ClientMessage } from '../../protocol/client-messages.js';
import { PROTOCOL_VERSION, type WelcomeResult } from '../../protocol/server-messages.js';
import type { Connection } from '../connection.js';
import type { ServerContext } from '../context.js';
import { chatView } from '../hub.js';
import { hashPassword, passwordProblem, verifyPassword } from '../password.js';
import type { Role } from '../roles.js';

const ipKey = (ip: string) => `ip:${ip}`;
const accountKey = (name: string) => `user:${usernameKey(name)}`;

function checkThrottle(ctx: ServerContext, conn: Connection, username: string): void {
  const wait = Math.max(ctx.throttle.retryAfter(ipKey(conn.ip)), ctx.throttle.retryAfter(accountKey(username)));
  if (wait > 0) {
    conn.log.warn({ user: username, retryAfterMs: wait }, 'login throttled');
    throw new ProtocolError('AUTH_THROTTLED', `too many failed logins; retry in ${Math.ceil(wait / 1000)} s`, { retryAfterMs: wait });
  }
}

function banError(ban: { reason: string; expiresAt: number | null }): ProtocolError {
  const until = ban.expiresAt === null ? 'permanently' : `until ${new Date(ban.expiresAt).toISOString()}`;
  return new ProtocolError('BANNED', `banned ${until}: ${ban.reason || 'no reason given'}`, {
    reason: ban.reason,
    expiresAt: ban.expiresAt,
  });
}

function startSession(ctx: ServerContext, conn: Connection, user: { id: number; username: string; role: Role }): WelcomeResult {
  if (conn.closed) throw new ProtocolError('INTERNAL', 'connection closed during login');
  for (const old of ctx.hub.sessionsOfUser(user.id)) old.disconnect('SESSION_REPLACED');
  const session = {
    sessionId: ctx.hub.allocateSessionId(),
    userId: user.id,
    username: user.username,
    role: user.role,
    channelId: ROOT_CHANNEL_ID,
    selfMute: false,
    selfDeaf: false,
    serverMute: false,
    connectedAt: Date.now(),
  };
  conn.session = session;
  ctx.store.users.touch(user.id);
  const authed = conn as Connection & { session: typeof session };
  conn.onClose((code) => {
    ctx.store.users.touch(user.id);
    ctx.hub.remove(authed, code === 'CLOSED' ? 'disconnected' : code.toLowerCase());
  });
  const voice = ctx.voice?.attach(authed);
  ctx.hub.add(authed);
  const welcome: WelcomeResult = {
    server: { name: ctx.config.serverName, version: ctx.version, welcomeText: ctx.config.welcomeText, protocol: PROTOCOL_VERSION },
    ...ctx.hub.snapshotFor(session),
    ...(voice ? { voice } : {}),
  };
  // History arrives right after the welcome reply (queued behind it).
  setImmediate(() =>
    conn.send({
      type: 'chat.history',
      channelId: ROOT_CHANNEL_ID,
      messages: ctx.store.chat.recent(ROOT_CHANNEL_ID, ctx.config.limits.historyOnJoin).map(chatView),
    }),
  );
  return welcome;
}

export async function login(ctx: ServerContext, conn: Connection, m: ClientMessage<'login'>): Promise<WelcomeResult> {
  if (conn.session) throw new ProtocolError('ALREADY_AUTHENTICATED');
  checkThrottle(ctx, conn, m.username);
  const user = ctx.store.users.findByName(m.username);
  const ok = await verifyPassword(user?.passwordHash ?? null, m.password);
  if (!ok || !user) {
    ctx.throttle.recordFailure(ipKey(conn.ip));
    ctx.throttle.recordFailure(accountKey(m.username));
    conn.log.warn({ user: m.username, known: Boolean(user) }, 'login failed');
    throw new ProtocolError('AUTH_FAILED');
  }
  // Only the account's counter is cleared: one valid login must not reset an
  // address that is guessing at other accounts.
  ctx.throttle.clear(accountKey(m.username));
  const ban = ctx.store.bans.activeForUser(user.id) ?? ctx.store.bans.activeForIp(conn.ip);
  if (ban) {
    conn.log.warn({ user: user.username, banId: ban.id }, 'banned user refused');
    const err = banError(ban);
    setImmediate(() => conn.disconnect('BANNED', err.message, { reason: ban.reason, expiresAt: ban.expiresAt }));
    throw err;
  }
  conn.log.info({ user: user.username, userId: user.id }, 'login');
  return startSession(ctx, conn, user);
}

function consumeBootstrap(ctx: ServerContext, token: string): boolean {
  // An admin created meanwhile (e.g. with the admin CLI) retires the token.
  if (!ctx.bootstrapTokenHash || ctx.store.users.countWithRole('admin') > 0) return false;
  const a = Buffer.from(hashToken(token), 'hex');
  const b = Buffer.from(ctx.bootstrapTokenHash, 'hex');
  if (a.length !== b.length || !timingSafeEqual(a, b)) return false;
  ctx.store.settings.delete('bootstrap_token_hash');
  return true;
}

export async function register(ctx: ServerContext, conn: Connection, m: ClientMessage<'register'>): Promise<WelcomeResult> {
  if (conn.session) throw new ProtocolError('ALREADY_AUTHENTICATED');
  checkThrottle(ctx, conn, m.username);
  const problem = passwordProblem(m.password);
  if (problem) throw new ProtocolError('WEAK_PASSWORD', problem);
  if (ctx.store.users.findByName(m.username)) throw new ProtocolError('USERNAME_TAKEN');

  if (m.bootstrapToken === undefined && ctx.config.registration === 'closed') {
    throw new ProtocolError('REGISTRATION_CLOSED', 'accounts on this server are created by an admin');
  }
  const needsInvite = m.bootstrapToken === undefined && (ctx.config.registration === 'invite' || m.invite !== undefined);
  if (needsInvite && m.invite === undefined) throw new ProtocolError('INVITE_INVALID', 'this server needs an invite to register');
  const hash = await hashPassword(m.password);
  // Token or invite is used up in the same transaction that creates the
  // account: losing a race for the name does not waste it.
  let bootstrap = false;
  const user = ctx.store.transaction(() => {
    let role: Role = ctx.config.defaultRole;
    if (m.bootstrapToken !== undefined) {
      if (!consumeBootstrap(ctx, m.bootstrapToken)) {
        ctx.throttle.recordFailure(ipKey(conn.ip));
        throw new ProtocolError('INVITE_INVALID', 'bootstrap token is wrong or already used');
      }
      role = 'admin';
      bootstrap = true;
    } else if (needsInvite) {
      const granted = ctx.store.invites.consume(m.invite!);
      if (!granted) {
        ctx.throttle.recordFailure(ipKey(conn.ip));
        throw new ProtocolError('INVITE_INVALID');
      }
      role = granted;
    }
    const created = ctx.store.users.create(m.username, hash, role);
    if (!created) throw new ProtocolError('USERNAME_TAKEN');
    return created;
  });
  const role = user.role;
  if (bootstrap) ctx.bootstrapTokenHash = null;
  conn.log.info({ user: user.username, userId: user.id, role, bootstrap }, 'account registered');
  return startSession(ctx, conn, user);
}

export async function changePassword(ctx: ServerContext, conn: Connection, m: ClientMessage<'account.changePassword'>): Promise<object> {
  const s = conn.session!;
  checkThrottle(ctx, conn, s.username);
  const user = ctx.store.users.findByName(s.username);
  if (!user || !(await verifyPassword(user.passwordHash, m.oldPassword))) {
    ctx.throttle.recordFailure(accountKey(s.username));
    ctx.throttle.recordFailure(ipKey(conn.ip));
    throw new ProtocolError('AUTH_FAILED', 'old password is wrong');
  }
  const problem = passwordProblem(m.newPassword);
  if (problem) throw new ProtocolError('WEAK_PASSWORD', problem);
  ctx.store.users.setPasswordHash(user.id, await hashPassword(m.newPassword));
  conn.log.info({ userId: user.id }, 'password changed');
  return {};
}
