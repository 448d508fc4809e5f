// Issue 10, attack 2: login lockout abuse and its race. Parallel guesses are
// counted before the hash (exactly the limit gets checked); guessing from
// strangers' addresses cannot lock the owner out of an address they logged in
// from before; the per-IP throttle backs off exponentially.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createUser, PASSWORD, sleep, startServer, type TestServer } from '../helpers/server.js';
import { AbuseClient, type Answer } from '../helpers/abuse-client.js';

const test = suite('abuse: login guessing');

/** One wrong guess per connection, all sent at once; resolves with every answer. */
async function parallelGuesses(t: TestServer, ips: string[], perIp: number, username: string): Promise<{ answers: (Answer | null)[]; clients: AbuseClient[] }> {
  const clients = await Promise.all(ips.flatMap((ip) => Array.from({ length: perIp }, () => AbuseClient.connect(t.port, ip))));
  const answers = await Promise.all(clients.map((c, i) => c.login(username, `wrong guess ${i}`)));
  return { answers, clients };
}

const codes = (answers: (Answer | null)[]) => {
  const n: Record<string, number> = {};
  for (const a of answers) {
    const k = a === null ? 'closed' : a.type === 'reply' ? 'ok' : a.code;
    n[k] = (n[k] ?? 0) + 1;
  }
  return n;
};

test('20 parallel guesses from one address: exactly maxFailures (5) are checked, the rest throttled before hashing', async () => {
  const t = await startServer({ log: { level: 'warn' } });
  try {
    await createUser(t, 'victim');
    const { answers, clients } = await parallelGuesses(t, ['127.0.2.1'], 20, 'victim');
    const n = codes(answers);
    assert.is(n.AUTH_FAILED, t.server.config.loginThrottle.maxFailures, JSON.stringify(n));
    assert.is(n.AUTH_THROTTLED, 20 - t.server.config.loginThrottle.maxFailures, JSON.stringify(n));
    for (const c of clients) c.close();
  } finally {
    await t.stop();
  }
});

test('50 parallel guesses from 10 new addresses at one account: exactly accountBurst (10) are checked', async () => {
  const t = await startServer({ log: { level: 'warn' } });
  try {
    await createUser(t, 'victim');
    const ips = Array.from({ length: 10 }, (_, i) => `127.0.3.${i + 1}`);
    const { answers, clients } = await parallelGuesses(t, ips, 5, 'victim');
    const n = codes(answers);
    assert.is(n.AUTH_FAILED, t.server.config.loginThrottle.accountBurst, JSON.stringify(n));
    assert.is(n.AUTH_THROTTLED, 50 - t.server.config.loginThrottle.accountBurst, JSON.stringify(n));
    const refused = answers.find((a) => a?.type === 'error' && a.code === 'AUTH_THROTTLED');
    assert.is(refused?.type === 'error' ? refused.details?.scope : undefined, 'account');
    for (const c of clients) c.close();
  } finally {
    await t.stop();
  }
});

test('an attacker hammering the account from 10 addresses cannot lock the owner out of an address they used before', async () => {
  const t = await startServer({ log: { level: 'warn' } });
  try {
    const userId = await createUser(t, 'owner');
    const home = '127.0.4.200';
    // The owner has logged in from `home` before: the server remembers the address.
    const first = await AbuseClient.connect(t.port, home);
    assert.is((await first.login('owner', PASSWORD))?.type, 'reply');
    first.close();

    // Three rounds of 5 parallel guesses from each of 10 addresses.
    const ips = Array.from({ length: 10 }, (_, i) => `127.0.4.${i + 1}`);
    const all: (Answer | null)[] = [];
    for (let round = 0; round < 3; round++) {
      const { answers, clients } = await parallelGuesses(t, ips, 5, 'owner');
      all.push(...answers);
      for (const c of clients) c.close();
    }
    const n = codes(all);
    assert.ok((n.AUTH_THROTTLED ?? 0) >= 100, `attacker throttled: ${JSON.stringify(n)}`);
    assert.not.ok(n.ok, 'no guess succeeded');

    // The owner, from home, with the right password: in.
    const back = await AbuseClient.connect(t.port, home);
    const r = await back.login('owner', PASSWORD);
    assert.is(r?.type, 'reply', `owner from a known address: ${JSON.stringify(r)}`);
    back.close();
    assert.equal(t.server.store.addresses.list(userId), [home], 'the only address remembered is the owner\'s');
    // From an address the account never used, the account's slow rate applies
    // to the owner too (the attacker spent it): that is the trade-off.
    const away = await AbuseClient.connect(t.port, '127.0.4.201');
    const r2 = await away.login('owner', PASSWORD);
    assert.is(r2?.type === 'error' ? `${r2.code}/${String(r2.details?.scope)}` : r2?.type, 'AUTH_THROTTLED/account');
    away.close();
  } finally {
    await t.stop();
  }
});

test('the per-IP throttle backs off exponentially, and only for that address', async () => {
  const t = await startServer({ log: { level: 'warn' }, loginThrottle: { maxFailures: 2, lockoutMs: 150, maxLockoutMs: 10_000 } });
  try {
    await createUser(t, 'bystander');
    const c = await AbuseClient.connect(t.port, '127.0.5.1');
    let name = 0;
    const guess = () => c.login(`nobody${name++}`, 'wrong password');
    const waits: number[] = [];
    for (const r of [await guess(), await guess()]) assert.is(r?.type === 'error' && r.code, 'AUTH_FAILED');
    for (let round = 0; round < 3; round++) {
      const r = await guess();
      assert.is(r?.type === 'error' && r.code, 'AUTH_THROTTLED', `round ${round}`);
      const wait = Number(r?.type === 'error' ? r.details?.retryAfterMs : NaN);
      assert.is(r?.type === 'error' ? r.details?.scope : undefined, 'ip');
      waits.push(wait);
      await sleep(wait + 30);
      const after = await guess();
      assert.is(after?.type === 'error' && after.code, 'AUTH_FAILED', `after the wait of round ${round}`);
    }
    // 150, 300, 600 ms (each failure past the allowance doubles the lock).
    assert.ok(waits[1]! > waits[0]! * 1.5 && waits[2]! > waits[1]! * 1.5, `lockouts grow: ${waits.join(', ')}`);
    // Another address is not affected.
    const other = await AbuseClient.connect(t.port, '127.0.5.2');
    assert.is((await other.login('bystander', PASSWORD))?.type, 'reply');
    c.close();
    other.close();
  } finally {
    await t.stop();
  }
});

test('account.changePassword: wrong old passwords are throttled per IP', async () => {
  const t = await startServer({ log: { level: 'warn' }, loginThrottle: { maxFailures: 3 } });
  try {
    await createUser(t, 'owner');
    const c = await AbuseClient.connect(t.port, '127.0.6.1');
    assert.is((await c.login('owner', PASSWORD))?.type, 'reply');
    // One connection handles requests in order, so these are sequential; the limit still holds.
    const answers = await Promise.all(Array.from({ length: 6 }, (_, i) => c.request('account.changePassword', { oldPassword: `wrong ${i}`, newPassword: 'a new long password' })));
    const n = codes(answers);
    assert.is(n.AUTH_FAILED, 3, JSON.stringify(n));
    assert.is(n.AUTH_THROTTLED, 3, JSON.stringify(n));
    c.close();
  } finally {
    await t.stop();
  }
});

test.run();
