// Issue 10, attack 3: registration flood (355 accounts from one IP in 10.6 s).
// Open registrations are limited per IP per window (limits.registrationsPerIp,
// default 5 per hour), reserved before the hash so a parallel burst cannot
// exceed it; refused registrations and invite-based ones do not use it up.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createUser, PASSWORD, startServer } from '../helpers/server.js';
import { AbuseClient, type Answer } from '../helpers/abuse-client.js';

const test = suite('abuse: registration flood');

async function registerFrom(port: number, ip: string, username: string, extra: Record<string, unknown> = {}): Promise<Answer | null> {
  const c = await AbuseClient.connect(port, ip);
  try {
    return await c.request('register', { username, password: PASSWORD, ...extra });
  } finally {
    c.close();
  }
}

const outcome = (a: Answer | null) => (a === null ? 'closed' : a.type === 'reply' ? 'ok' : a.code);

test('one address registers 5 accounts per hour by default; the 6th gets REGISTRATION_THROTTLED; other addresses are not affected', async () => {
  const t = await startServer({ log: { level: 'warn' } });
  try {
    const got: string[] = [];
    for (let i = 0; i < 7; i++) got.push(outcome(await registerFrom(t.port, '127.0.7.1', `flood${i}`)));
    assert.equal(got, ['ok', 'ok', 'ok', 'ok', 'ok', 'REGISTRATION_THROTTLED', 'REGISTRATION_THROTTLED']);
    assert.is(t.server.config.limits.registrationsPerIp, 5);
    assert.is(t.server.config.limits.registrationWindowMs, 3_600_000);
    const r = await registerFrom(t.port, '127.0.7.1', 'flood-late');
    const wait = r?.type === 'error' ? Number(r.details?.retryAfterMs) : NaN;
    assert.ok(wait > 3_500_000 && wait <= 3_600_000, `retryAfterMs is the rest of the hour: ${wait}`);
    assert.is(t.server.store.users.findByName('flood5'), null);
    assert.is(outcome(await registerFrom(t.port, '127.0.7.2', 'neighbour')), 'ok');
  } finally {
    await t.stop();
  }
});

test('12 parallel registrations from one address: exactly 5 accounts are created', async () => {
  const t = await startServer({ log: { level: 'warn' } });
  try {
    const clients = await Promise.all(Array.from({ length: 12 }, () => AbuseClient.connect(t.port, '127.0.8.1')));
    const answers = await Promise.all(clients.map((c, i) => c.request('register', { username: `burst${i}`, password: PASSWORD })));
    const ok = answers.filter((a) => outcome(a) === 'ok').length;
    const throttled = answers.filter((a) => outcome(a) === 'REGISTRATION_THROTTLED').length;
    assert.is(ok, 5);
    assert.is(throttled, 7);
    assert.is(t.server.store.users.count(), 5);
    for (const c of clients) c.close();
  } finally {
    await t.stop();
  }
});

test('refused registrations do not use up the quota; invite registrations are bounded by the invite, not the quota', async () => {
  const t = await startServer({ log: { level: 'warn' }, limits: { registrationsPerIp: 2 } });
  try {
    await createUser(t, 'taken');
    for (let i = 0; i < 4; i++) assert.is(outcome(await registerFrom(t.port, '127.0.9.1', 'taken')), 'USERNAME_TAKEN');
    assert.is(outcome(await registerFrom(t.port, '127.0.9.1', 'first')), 'ok');
    assert.is(outcome(await registerFrom(t.port, '127.0.9.1', 'second')), 'ok');
    assert.is(outcome(await registerFrom(t.port, '127.0.9.1', 'third')), 'REGISTRATION_THROTTLED');
    t.server.store.invites.create('party-invite', 'member', null, null, 3);
    for (const name of ['guest1', 'guest2', 'guest3']) assert.is(outcome(await registerFrom(t.port, '127.0.9.1', name, { invite: 'party-invite' })), 'ok');
    assert.is(outcome(await registerFrom(t.port, '127.0.9.1', 'guest4', { invite: 'party-invite' })), 'INVITE_INVALID');
  } finally {
    await t.stop();
  }
});

test.run();
