// Admin commands that work directly on a server's data directory (SQLite in
// WAL mode, so they are safe while the server runs; the server reads bans and
// accounts from the database at every connect and login).
import { join } from 'node:path';
import { createLogger, type HostLogger } from '../log/logger.js';
import { Store } from '../db/store.js';
import { hashPassword, passwordProblem } from '../server/password.js';
import { isRole, ROLES, type Role } from '../server/roles.js';
import { ChannelTree } from '../server/channel-tree.js';
import { ROOT_CHANNEL_ID } from '../db/channels.js';
import { USERNAME_RE } from '../protocol/client-messages.js';
import { escapeField, out, table } from './output.js';
import { codePointLabel, forbiddenCharacter } from '../protocol/human-text.js';
import { isIP } from 'node:net';
import { normalizeIp } from '../server/ip.js';

export class CliError extends Error {}

export async function withStore<T>(dataDir: string, fn: (store: Store, log: HostLogger['logger']) => Promise<T> | T): Promise<T> {
  const hl = await createLogger({ dir: join(dataDir, 'logs'), pretty: false });
  const log = hl.logger.child({ component: 'admin-cli' });
  const store = Store.open(dataDir, log);
  try {
    return await fn(store, log);
  } finally {
    store.close();
    await hl.close();
  }
}

function parseRole(role: string): Role {
  if (!isRole(role)) throw new CliError(`unknown role "${role}" (roles: ${ROLES.join(', ')})`);
  return role;
}

const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString().replace(/\.\d+Z$/, 'Z'));

export async function userAdd(dataDir: string, username: string, role: string, password: string): Promise<void> {
  const r = parseRole(role);
  if (!USERNAME_RE.test(username)) throw new CliError('user names are 2-32 letters, digits, "_", "." or "-"');
  const problem = passwordProblem(password);
  if (problem) throw new CliError(problem);
  const hash = await hashPassword(password);
  await withStore(dataDir, (store, log) => {
    const lookalike = store.users.findConfusable(username);
    if (lookalike && !store.users.findByName(username)) {
      throw new CliError(`user name "${username}" looks like the existing "${escapeField(lookalike.username)}" (Unicode confusables)`);
    }
    const user = store.users.create(username, hash, r);
    if (!user) throw new CliError(`user "${username}" already exists`);
    log.info({ userId: user.id, user: username, role: r }, 'account created by admin CLI');
    out(`created user ${username} (id ${user.id}, role ${r})`);
  });
}

export async function userPasswd(dataDir: string, username: string, password: string): Promise<void> {
  const problem = passwordProblem(password);
  if (problem) throw new CliError(problem);
  const hash = await hashPassword(password);
  await withStore(dataDir, (store, log) => {
    const user = store.users.findByName(username);
    if (!user) throw new CliError(`no user "${username}"`);
    store.users.setPasswordHash(user.id, hash);
    log.info({ userId: user.id }, 'password reset by admin CLI');
    out(`password of ${user.username} changed`);
  });
}

export async function userRole(dataDir: string, username: string, role: string): Promise<void> {
  const r = parseRole(role);
  await withStore(dataDir, (store, log) => {
    const user = store.users.findByName(username);
    if (!user) throw new CliError(`no user "${username}"`);
    if (user.role === 'admin' && r !== 'admin' && store.users.countWithRole('admin') <= 1) {
      throw new CliError('refusing to demote the last admin');
    }
    store.users.setRole(user.id, r);
    log.info({ userId: user.id, from: user.role, to: r }, 'role changed by admin CLI');
    out(`${user.username}: ${user.role} -> ${r} (takes effect at next login)`);
  });
}

export async function userList(dataDir: string): Promise<void> {
  await withStore(dataDir, (store) => {
    const rows = store.users.list().map((u) => ({ id: u.id, username: u.username, role: u.role, created: iso(u.createdAt), 'last seen': iso(u.lastSeenAt) }));
    out(table(rows, ['id', 'username', 'role', 'created', 'last seen']));
  });
}

/** "30m", "12h", "7d", "3600" (seconds) → milliseconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+)\s*([smhdw]?)$/.exec(text.trim());
  if (!m) throw new CliError(`bad duration "${text}" (examples: 90s, 30m, 12h, 7d, 2w)`);
  const unit = { '': 1, s: 1, m: 60, h: 3600, d: 86400, w: 604800 }[m[2] as '' | 's' | 'm' | 'h' | 'd' | 'w'];
  return Number(m[1]) * unit * 1000;
}

export async function banAdd(dataDir: string, opts: { user?: string; ip?: string; reason: string; duration?: string }): Promise<void> {
  if (!opts.user && !opts.ip) throw new CliError('give --user and/or --ip');
  if (opts.ip !== undefined && isIP(opts.ip) === 0) throw new CliError(`"${opts.ip}" is not an IP address`);
  const ip = opts.ip === undefined ? null : normalizeIp(opts.ip);
  const ms = opts.duration ? parseDuration(opts.duration) : null;
  if (ms !== null && ms <= 0) throw new CliError('a ban duration must be longer than zero');
  // The same rule as for a reason sent by a client (host/protocol/human-text.ts).
  const bad = forbiddenCharacter(opts.reason, 'line');
  if (bad !== null) throw new CliError(`a ban reason may not contain control, bidi or invisible format characters (found ${codePointLabel(bad)})`);
  const expiresAt = ms === null ? null : Date.now() + ms;
  await withStore(dataDir, (store, log) => {
    let userId: number | null = null;
    if (opts.user) {
      const u = store.users.findByName(opts.user);
      if (!u) throw new CliError(`no user "${opts.user}"`);
      userId = u.id;
    }
    const ban = store.bans.add({ ip, userId, expiresAt, reason: opts.reason, bannedBy: null, bannedByName: 'admin-cli' });
    log.info({ banId: ban.id, userId, ip: opts.ip, expiresAt }, 'ban added by admin CLI');
    out(`ban ${ban.id} added${expiresAt ? `, expires ${iso(expiresAt)}` : ' (permanent)'}`);
  });
}

export async function banList(dataDir: string, all: boolean): Promise<void> {
  await withStore(dataDir, (store) => {
    const now = Date.now();
    const bans = all ? store.bans.listAll() : store.bans.listActive(now);
    const rows = bans.map((b) => ({
      id: b.id,
      user: b.username,
      ip: b.ip,
      expires: b.expiresAt === null ? 'never' : iso(b.expiresAt),
      active: b.expiresAt === null || b.expiresAt > now ? 'yes' : 'expired',
      by: b.bannedByName,
      reason: b.reason,
    }));
    out(table(rows, ['id', 'user', 'ip', 'expires', 'active', 'by', 'reason']));
  });
}

export async function banRemove(dataDir: string, id: number): Promise<void> {
  await withStore(dataDir, (store, log) => {
    if (!store.bans.remove(id)) throw new CliError(`no ban ${id}`);
    log.info({ banId: id }, 'ban lifted by admin CLI');
    out(`ban ${id} lifted`);
  });
}

export async function channelList(dataDir: string): Promise<void> {
  await withStore(dataDir, (store) => {
    const tree = new ChannelTree(store.channels.all());
    const lines: string[] = [];
    const walk = (id: number, depth: number) => {
      const c = tree.get(id)!;
      const flags = [c.isVoice ? 'voice' : 'text', c.requiredRole !== 'guest' ? `${c.requiredRole}+` : ''].filter(Boolean).join(', ');
      lines.push(`${'  '.repeat(depth)}${escapeField(c.name)}  [id ${c.id}; ${flags}]`);
      for (const child of tree.childrenOf(id)) walk(child.id, depth + 1);
    };
    walk(ROOT_CHANNEL_ID, 0);
    out(lines.join('\n'));
  });
}
