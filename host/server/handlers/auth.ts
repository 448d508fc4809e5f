// login, register, account.changePassword. Guard (reserve an attempt) →
// verify → settle the attempt → ban check → session. The password is never
// logged, stored in clear or echoed back.
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
import { requireFreeUsername } from '../account-names.js';
import { hashPassword, passwordProblem, verifyPassword } from '../password.js';
import type { Role } from '../roles.js';
import type { Attempt, RegistrationSlot } from '../login-guard.js';

/** Reserves an attempt (login-guard.ts) before any hashing; logs and rethrows AUTH_THROTTLED. */
function beginAttempt(ctx: ServerContext, conn: Connection, username: string | null, knownAddress: () => boolean): Attempt {
  try {
    return ctx.guard.begin(conn.ip, username === null ? null : usernameKey(username), knownAddress);
  } catch (err) {
    if (err instanceof ProtocolError) conn.log.warn({ user: username, ...err.details }, 'login throttled');
    throw err;
  }
}

const NO_GUESS: Attempt = { succeed() {}, fail() {}, release() {} };

/** Runs the (slow) password check under a reserved attempt; the attempt is settled whatever happens. */
async function checked(attempt: Attempt, verify: () => Promise<boolean>): Promise<boolean> {
  let ok: boolean;
  try {
    ok = await verify();
  } catch (err) {
    attempt.release();
    throw err;
  }
  if (ok) attempt.succeed();
  else attempt.fail();
  return ok;
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
  if (!conn.claimSessionSlot()) {
    conn.log.warn({ user: user.username }, 'login refused: sessions full');
    setImmediate(() => conn.disconnect('SERVER_FULL', 'server is full'));
    throw new ProtocolError('SERVER_FULL', 'server is full');
  }
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
  // From now on this address passes the account's slow rate (login-guard.ts).
  ctx.store.addresses.remember(user.id, conn.ip, ctx.config.loginThrottle.knownAddressesPerUser);
  const authed = conn as Connection & { session: typeof session };
  conn.onClose((code) => {
    ctx.store.users.touch(user.id);
    ctx.hub.remove(authed, code === 'CLOSED' ? 'disconnected' : code.toLowerCase());
  });
  const voice = ctx.voice?.attach(authed);
  judgeVoiceFrames(ctx, conn);
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

/**
 * The voice lane drops a datagram that does not authenticate without a word.
 * The connection needs to know, to cut a stream of garbage over TLS: the lane's
 * `authenticated` counter moves exactly when a datagram passed (key, replay
 * window), so the wrapper reads it around the synchronous call. A hook that
 * answers for itself (returns a boolean) is trusted instead.
 */
function judgeVoiceFrames(ctx: ServerContext, conn: Connection): void {
  const lane = ctx.voice;
  const deliver = conn.onVoiceFrame;
  if (!lane || !deliver) return;
  conn.onVoiceFrame = (body) => {
    const before = lane.stats.authenticated;
    const verdict = deliver(body);
    return typeof verdict === 'boolean' ? verdict : lane.stats.authenticated > before;
  };
}

export async function login(ctx: ServerContext, conn: Connection, m: ClientMessage<'login'>): Promise<WelcomeResult> {
  if (conn.session) throw new ProtocolError('ALREADY_AUTHENTICATED');
  // Looked up only once the IP has passed the guard (a locked-out address costs no query).
  const found: { user: ReturnType<typeof ctx.store.users.findByName>; known: boolean; done: boolean } = { user: null, known: false, done: false };
  const lookUp = () => {
    if (!found.done) {
      found.user = ctx.store.users.findByName(m.username);
      found.known = found.user !== null && ctx.store.addresses.isKnown(found.user.id, conn.ip);
      found.done = true;
    }
    return found.known;
  };
  const attempt = beginAttempt(ctx, conn, m.username, lookUp);
  lookUp();
  const user = found.user;
  const ok = await checked(attempt, () => verifyPassword(user?.passwordHash ?? null, m.password));
  if (!ok || !user) {
    conn.log.warn({ user: m.username, known: Boolean(user), knownAddress: found.known }, 'login failed');
    throw new ProtocolError('AUTH_FAILED');
  }
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
  // With an invite or bootstrap token this is a guess at that secret: an IP
  // attempt, reserved like a login's. Without one, nothing is guessed; only a
  // locked-out address is turned away (the registration quota does the rest).
  const guessing = m.invite !== undefined || m.bootstrapToken !== undefined;
  const attempt = guessing ? beginAttempt(ctx, conn, null, () => false) : NO_GUESS;
  if (!guessing) ctx.guard.assertNotLocked(conn.ip);
  const held: { quota: RegistrationSlot | null } = { quota: null };
  try {
    const welcome = await registerAccount(ctx, conn, m, attempt, held);
    held.quota?.commit();
    return welcome;
  } catch (err) {
    // A refused registration (name taken, bad invite, ...) does not use up the quota.
    held.quota?.cancel();
    throw err;
  } finally {
    // No-op when a wrong token already counted it as a failure.
    attempt.release();
  }
}

async function registerAccount(
  ctx: ServerContext,
  conn: Connection,
  m: ClientMessage<'register'>,
  attempt: Attempt,
  held: { quota: RegistrationSlot | null },
): Promise<WelcomeResult> {
  const problem = passwordProblem(m.password);
  if (problem) throw new ProtocolError('WEAK_PASSWORD', problem);
  requireFreeUsername(ctx.store, m.username);

  if (m.bootstrapToken === undefined && ctx.config.registration === 'closed') {
    throw new ProtocolError('REGISTRATION_CLOSED', 'accounts on this server are created by an admin');
  }
  const needsInvite = m.bootstrapToken === undefined && (ctx.config.registration === 'invite' || m.invite !== undefined);
  if (needsInvite && m.invite === undefined) throw new ProtocolError('INVITE_INVALID', 'this server needs an invite to register');
  // Invites and the bootstrap token are bounded by their own uses; an open
  // registration only by this per-IP quota, reserved before the hash.
  if (m.bootstrapToken === undefined && m.invite === undefined) held.quota = ctx.guard.beginRegistration(conn.ip);
  const hash = await hashPassword(m.password);
  // Token or invite is used up in the same transaction that creates the
  // account: losing a race for the name does not waste it.
  let bootstrap = false;
  const user = ctx.store.transaction(() => {
    let role: Role = ctx.config.defaultRole;
    if (m.bootstrapToken !== undefined) {
      if (!consumeBootstrap(ctx, m.bootstrapToken)) {
        attempt.fail();
        throw new ProtocolError('INVITE_INVALID', 'bootstrap token is wrong or already used');
      }
      role = 'admin';
      bootstrap = true;
    } else if (needsInvite) {
      const granted = ctx.store.invites.consume(m.invite!);
      if (!granted) {
        attempt.fail();
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
  // The session logged in from this address, so it is a known one: only the IP throttle applies.
  const attempt = beginAttempt(ctx, conn, s.username, () => true);
  const user = ctx.store.users.findByName(s.username);
  if (!user || !(await checked(attempt, () => verifyPassword(user.passwordHash, m.oldPassword)))) {
    attempt.release();
    throw new ProtocolError('AUTH_FAILED', 'old password is wrong');
  }
  const problem = passwordProblem(m.newPassword);
  if (problem) throw new ProtocolError('WEAK_PASSWORD', problem);
  ctx.store.users.setPasswordHash(user.id, await hashPassword(m.newPassword));
  conn.log.info({ userId: user.id }, 'password changed');
  return {};
}
