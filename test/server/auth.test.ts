import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { connect, createUser, expectError, loginAs, PASSWORD, sleep, startServer, type TestServer } from '../helpers/server.js';

const test = suite<{ t: TestServer }>('auth');

test.before.each(async (ctx) => {
  ctx.t = await startServer({ loginThrottle: { maxFailures: 3, lockoutMs: 400, windowMs: 60_000, maxLockoutMs: 2000 } });
});
test.after.each(async (ctx) => {
  await ctx.t.stop();
});

test('login succeeds with the right password and returns the state', async ({ t }) => {
  await createUser(t, 'Alice');
  const c = await connect(t);
  const w = await c.login('alice', PASSWORD); // names are case-insensitive
  assert.is(w.self.username, 'Alice');
  assert.is(w.self.role, 'member');
  assert.ok(w.channels.some((ch) => ch.id === 1 && ch.parentId === null));
  assert.ok(w.users.some((u) => u.sessionId === w.self.sessionId && u.channelId === 1));
  assert.is(w.server.protocol, 1);
  c.close();
});

test('wrong password and unknown user both fail with AUTH_FAILED', async ({ t }) => {
  await createUser(t, 'bob');
  const c = await connect(t);
  await expectError(c.login('bob', 'wrong password!'), 'AUTH_FAILED');
  await expectError(c.login('nobody', PASSWORD), 'AUTH_FAILED');
  // the connection stays usable
  const w = await c.login('bob', PASSWORD);
  assert.is(w.self.username, 'bob');
  await expectError(c.login('bob', PASSWORD), 'ALREADY_AUTHENTICATED');
  c.close();
});

test('failed logins are throttled per account, and the lock expires', async ({ t }) => {
  await createUser(t, 'carol');
  const c = await connect(t);
  for (let i = 0; i < 3; i++) await expectError(c.login('carol', `bad-${i}-password`), 'AUTH_FAILED');
  const e = await expectError(c.login('carol', PASSWORD), 'AUTH_THROTTLED');
  assert.ok(Number(e.details?.retryAfterMs) > 0, 'retryAfterMs given');
  await sleep(450);
  const w = await c.login('carol', PASSWORD);
  assert.is(w.self.username, 'carol');
  c.close();
});

test('failed logins are throttled per IP across accounts', async ({ t }) => {
  await createUser(t, 'dave');
  const c = await connect(t);
  for (const name of ['x1', 'x2', 'x3']) await expectError(c.login(name, 'whatever-password'), 'AUTH_FAILED');
  // a different account from the same address is locked out too, even with the right password
  await expectError(c.login('dave', PASSWORD), 'AUTH_THROTTLED');
  c.close();
});

test('stored hash is argon2id; the plaintext is in no file of the data directory', async ({ t }) => {
  const secret = 'Unique-Pa55word-Marker-93721';
  const c = await connect(t);
  await c.register('erin', secret);
  c.close();
  const hash = t.server.store.db.prepare<[string], { password_hash: string }>('SELECT password_hash FROM users WHERE username = ?').get('erin')!.password_hash;
  assert.match(hash, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
  // a failed login with a different secret must not leak either
  const c2 = await connect(t);
  await expectError(c2.login('erin', 'Other-Secret-Marker-55'), 'AUTH_FAILED');
  c2.close();
  await sleep(100);
  t.server.store.db.pragma('wal_checkpoint(TRUNCATE)');
  const files = [join(t.dataDir, 'hearth.db'), ...readdirSync(join(t.dataDir, 'logs')).map((f) => join(t.dataDir, 'logs', f))];
  let scanned = 0;
  for (const f of files) {
    const bytes = readFileSync(f);
    scanned += bytes.length;
    assert.not.ok(bytes.includes(secret), `plaintext password found in ${f}`);
    assert.not.ok(bytes.includes('Other-Secret-Marker-55'), `failed-login password found in ${f}`);
  }
  assert.ok(scanned > 1000, 'files were actually scanned');
});

test('registration: open by default, weak passwords and duplicate names refused', async ({ t }) => {
  const c = await connect(t);
  await expectError(c.register('frank', 'short'), 'WEAK_PASSWORD');
  await createUser(t, 'Grace');
  await expectError(c.register('GRACE', PASSWORD), 'USERNAME_TAKEN');
  await expectError(c.register('bad name!', PASSWORD), 'INVALID_MESSAGE');
  const w = await c.register('frank', PASSWORD);
  assert.is(w.self.role, 'member');
  c.close();
});

test('the one-time bootstrap token creates the first admin, once', async ({ t }) => {
  assert.type(t.bootstrapToken, 'string');
  const c = await connect(t);
  await expectError(c.register('root', PASSWORD, { bootstrapToken: 'not-the-token' }), 'INVITE_INVALID');
  const w = await c.register('root', PASSWORD, { bootstrapToken: t.bootstrapToken! });
  assert.is(w.self.role, 'admin');
  const c2 = await connect(t);
  await expectError(c2.register('root2', PASSWORD, { bootstrapToken: t.bootstrapToken! }), 'INVITE_INVALID');
  c.close();
  c2.close();
});

test.run();

const policies = suite('registration policies');

policies('closed: only admin-created accounts', async () => {
  const t = await startServer({ registration: 'closed' });
  try {
    const c = await connect(t);
    await expectError(c.register('henry', PASSWORD), 'REGISTRATION_CLOSED');
    c.close();
  } finally {
    await t.stop();
  }
});

policies('invite: needs a valid invite created by an admin; invites are used up', async () => {
  const t = await startServer({ registration: 'invite' });
  try {
    const admin = await loginAs(t, 'admin', 'admin');
    const member = await loginAs(t, 'mem', 'member');
    await expectError(member.request('invite.create', {}), 'FORBIDDEN');
    const { invite } = await admin.request<{ invite: string }>('invite.create', { uses: 1, role: 'member' });
    const c = await connect(t);
    await expectError(c.register('ivan', PASSWORD), 'INVITE_INVALID');
    await expectError(c.register('ivan', PASSWORD, { invite: 'forged' }), 'INVITE_INVALID');
    const w = await c.register('ivan', PASSWORD, { invite });
    assert.is(w.self.username, 'ivan');
    const c2 = await connect(t);
    await expectError(c2.register('judy', PASSWORD, { invite }), 'INVITE_INVALID');
    for (const x of [admin, member, c, c2]) x.close();
  } finally {
    await t.stop();
  }
});

policies.run();
