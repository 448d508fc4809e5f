// The shipped bot in a live server, across a restart: greets people who join,
// answers /roll, /who and /seen, and remembers visits in SQLite.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ControlClient } from '../../host/client/control/control-client.js';
import type { ChatMessageView, ServerMessage } from '../../host/protocol/server-messages.js';
import { installPlugin, readPluginSource } from '../../host/server/plugins/installed.js';
import { connect, createUser, loginAs, PASSWORD, startServer, tempDir } from '../helpers/server.js';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const botMessage = (c: ControlClient, pred: (m: ChatMessageView) => boolean) =>
  c.waitFor((m) => m.type === 'chat.message' && m.message.senderId === null && pred(m.message), 5000) as Promise<Extract<ServerMessage, { type: 'chat.message' }>>;

test('hearthbot greets, rolls, lists who is online, and remembers visits across a server restart', async () => {
  const dir = tempDir();
  let t = await startServer({ plugins: { pollMs: 200 } }, dir);
  const files = await readPluginSource(join(repoRoot, 'manifests', 'hearthbot.json'));
  await installPlugin(dir, t.server.store, files, ['state.read', 'chat.inject', 'storage', 'config.read'], { greetCooldownMs: 0 });
  await t.server.plugins!.sync();

  const watcher = await loginAs(t, 'watcher');
  await createUser(t, 'zoe');
  const greeted = botMessage(watcher, (m) => /Welcome, zoe!/.test(m.text));
  const zoe = await connect(t);
  await zoe.login('zoe', PASSWORD);
  const g = (await greeted).message;
  assert.is(g.senderName, files.manifest.name);

  const r = await zoe.request<{ reply: string }>('chat.send', { channelId: 1, text: '/roll 3d6' });
  const m = /zoe rolls 3d6: (\d+) \+ (\d+) \+ (\d+) = (\d+)/.exec(r.reply);
  assert.ok(m, r.reply);
  const dice = m!.slice(1, 4).map(Number);
  assert.ok(dice.every((d) => d >= 1 && d <= 6), r.reply);
  assert.is(Number(m![4]), dice.reduce((x, y) => x + y, 0), 'the sum is right');
  const bad = await zoe.request<{ reply: string }>('chat.send', { channelId: 1, text: '/roll 0d1' });
  assert.match(bad.reply, /Usage/);

  const who = await zoe.request<{ reply: string }>('chat.send', { channelId: 1, text: '/who' });
  assert.match(who.reply, /zoe/);
  assert.match(who.reply, /watcher/);
  zoe.close();
  watcher.close();
  await t.stop({ keepData: true });

  // Restart: the visit count and /seen come back from SQLite.
  t = await startServer({ plugins: { pollMs: 200 } }, dir);
  try {
    const w2 = await loginAs(t, 'watcher');
    const back = botMessage(w2, (x) => /Welcome back, zoe! You have joined 2 times/.test(x.text));
    const z2 = await connect(t);
    await z2.login('zoe', PASSWORD);
    await back;
    const seen = await w2.request<{ reply: string }>('chat.send', { channelId: 1, text: '/seen zoe' });
    assert.match(seen.reply, /zoe/);
    z2.close();
    w2.close();
  } finally {
    await t.stop();
  }
});

test.run();
