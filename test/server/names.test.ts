// Issue 10, attack 8: look-alike names. "bоss" (Cyrillic о) must not register
// next to "boss", nor "Lоbby" be created next to "Lobby": names whose UTS #39
// skeleton (Unicode's confusables.txt) matches are refused. Real server over
// TLS on 127.0.0.1, real SQLite file.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { confusable, CONFUSABLES_UNICODE_VERSION, nameKeys, skeleton } from '../../host/protocol/confusables.js';
import type { ChannelView } from '../../host/protocol/server-messages.js';
import { connect, createUser, expectError, loginAs, PASSWORD, startServer, type TestServer } from '../helpers/server.js';

const test = suite<{ t: TestServer }>('look-alike names');

test.before.each(async (ctx) => {
  ctx.t = await startServer();
});
test.after.each(async (ctx) => {
  await ctx.t.stop();
});

test('skeleton() follows UTS #39 with the Unicode data, case-insensitively for names', () => {
  assert.is(CONFUSABLES_UNICODE_VERSION, '17.0.0');
  assert.is(skeleton('b\u043Ess'), 'boss', 'Cyrillic о → o');
  assert.is(skeleton('\u0440\u0430\u0443\u0440\u0430\u04CF'), skeleton('paypal'), 'all-Cyrillic "раураӏ"');
  assert.is(skeleton('rn'), skeleton('m'), '"rn" and "m" (a multi-character prototype)');
  assert.is(skeleton('bo\u00ADss'), 'boss', 'default-ignorable code points are dropped');
  assert.ok(confusable('paypal', 'PayPaI'), 'capital I looks like l');
  assert.ok(confusable('boss', 'B0SS'), 'digit zero looks like O, and case does not count');
  assert.ok(confusable('Alice', 'ΑLICE'), 'Greek capital alpha');
  assert.not.ok(confusable('alice', 'alicia'));
  assert.not.ok(confusable('bob', 'rob'));
  assert.equal(nameKeys('Boss'), nameKeys('boss'));
  assert.ok(confusable('PayPal', 'PayPaI'));
});

test('register: a look-alike of an existing name is USERNAME_TAKEN; an unlike name registers', async ({ t }) => {
  await createUser(t, 'boss');
  const c = await connect(t);
  for (const lookalike of ['b\u043Ess', '\u0392\u039FSS', 'B0SS']) {
    const e = await expectError(c.register(lookalike, PASSWORD), 'USERNAME_TAKEN');
    assert.match(e.message, /looks like/);
    assert.not.match(e.message, /boss/, 'the existing name is not echoed');
  }
  const w = await c.register('bass', PASSWORD);
  assert.is(w.self.username, 'bass');
  assert.is(t.server.store.users.count(), 2);
  c.close();
});

test('register: two look-alikes racing each other, exactly one wins', async ({ t }) => {
  const [c1, c2] = await Promise.all([connect(t), connect(t)]);
  const results = await Promise.allSettled([c1.register('alice', PASSWORD), c2.register('\u0430lice', PASSWORD)]);
  assert.is(results.filter((r) => r.status === 'fulfilled').length, 1, JSON.stringify(results.map((r) => r.status)));
  const lost = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
  assert.is((lost.reason as { code?: string }).code, 'USERNAME_TAKEN');
  assert.is(t.server.store.users.count(), 1);
  c1.close();
  c2.close();
});

test('accounts written before the look-alike key existed (or by hand) get their key at open', async (ctx) => {
  await ctx.t.stop({ keepData: true });
  // Straight into SQLite, as an old version or a hand edit would: no username_skeleton.
  const db = new Database(join(ctx.t.dataDir, 'hearth.db'));
  db.prepare("INSERT INTO users (username, username_key, password_hash, role, created_at) VALUES ('boss', 'boss', 'x', 'member', 0)").run();
  db.close();
  ctx.t = await startServer({}, ctx.t.dataDir); // the after hook stops this one and removes the directory
  assert.is(ctx.t.server.store.users.findConfusable('BOSS')?.username, 'boss');
  const c = await connect(ctx.t);
  await expectError(c.register('b\u043Ess', PASSWORD), 'USERNAME_TAKEN');
  c.close();
});

test('channels: a look-alike of a sibling is NAME_TAKEN (create, rename, move); elsewhere it is fine', async ({ t }) => {
  const mod = await loginAs(t, 'mod', 'moderator');
  const lobby = (await mod.request<{ channel: ChannelView }>('channel.create', { parentId: 1, name: 'Lobby' })).channel;
  const other = (await mod.request<{ channel: ChannelView }>('channel.create', { parentId: 1, name: 'Other' })).channel;
  const e = await expectError(mod.request('channel.create', { parentId: 1, name: 'L\u043Ebby' }), 'NAME_TAKEN');
  assert.match(e.message, /looks like "Lobby"/);
  await expectError(mod.request('channel.create', { parentId: 1, name: 'LOBBY' }), 'NAME_TAKEN');
  await expectError(mod.request('channel.edit', { channelId: other.id, name: 'L0bby' }), 'NAME_TAKEN');
  // Under another parent the same look-alike is a different place: allowed.
  const inner = (await mod.request<{ channel: ChannelView }>('channel.create', { parentId: other.id, name: 'L\u043Ebby' })).channel;
  // ...but it cannot be moved next to "Lobby".
  await expectError(mod.request('channel.move', { channelId: inner.id, parentId: 1 }), 'NAME_TAKEN');
  // Renaming a channel to a look-alike of its own old name is fine.
  await mod.request('channel.edit', { channelId: lobby.id, name: 'LOBBY' });
  mod.close();
});

test.run();
