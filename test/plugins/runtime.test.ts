// The host API with capabilities granted: the wordfilter bot (chat
// interception, storage in SQLite, state, chat injection, config, log) and the
// lifecycle of plugins (list, disable, enable, unload).
import Database from 'better-sqlite3';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { PluginAction } from '../../host/plugins/runtime.js';
import { PluginHost } from '../../host/plugins/runtime.js';
import { SqliteKvStore } from '../../host/plugins/storage.js';
import { captureLogger, guestWasm, neighbourAnswers, shippedManifest, user } from './helpers.js';

const test = suite('plugins: runtime and host API');

const state = {
  channels: [{ id: 1, name: 'Lobby', parentId: null }],
  users: [
    { id: 1, name: 'ann', channelId: 1 },
    { id: 2, name: 'bob', channelId: 1 },
    { id: 3, name: 'cy', channelId: 1 },
  ],
};
const chat = (text: string) => ({ channelId: 1, user, text, ts: Date.now() });

async function loadWordfilter(host: PluginHost, config: Record<string, unknown>, grants?: string[]) {
  const m = shippedManifest('wordfilter');
  return host.load({ manifest: m, wasm: guestWasm('wordfilter'), grants: grants ?? m.capabilities, config });
}

test('wordfilter: rewrite and block, counted in SQLite storage that survives a reload', async () => {
  const db = new Database(':memory:');
  const log = captureLogger();
  const host = new PluginHost({ logger: log.logger, kv: new SqliteKvStore(db) });
  try {
    await loadWordfilter(host, { words: ['darn', 'heck'] });
    assert.equal(await host.chat(chat('what a lovely day')), { action: 'allow' });
    assert.equal(await host.chat(chat('Darn it, what the HECK')), { action: 'rewrite', text: '**** it, what the ****', by: ['wordfilter'] });
    assert.equal(await host.chat(chat('heck')), { action: 'rewrite', text: '****', by: ['wordfilter'] });
    assert.equal(await host.command({ command: 'filterstats', args: '', user, channelId: 1, ts: 0 }), { pluginId: 'wordfilter', reply: '2 messages filtered' });
    const row = db.prepare("SELECT value FROM plugin_kv WHERE plugin_id = 'wordfilter' AND key = 'filtered'").get() as { value: string };
    assert.is(row.value, '2', 'persisted in SQLite');
    assert.ok(log.lines.some((l) => l.plugin === 'wordfilter' && l.source === 'guest' && /filtered message #2/.test(l.msg)), 'guest log line');

    // A new instance (other config) starts from the stored data.
    await host.unload('wordfilter');
    await loadWordfilter(host, { words: ['heck'], mode: 'block' });
    assert.equal(await host.chat(chat('oh heck')), { action: 'block', by: 'wordfilter', reason: 'message contains a filtered word' });
    assert.equal(await host.command({ command: 'filterstats', args: '', user, channelId: 1, ts: 0 }), { pluginId: 'wordfilter', reply: '3 messages filtered' });
  } finally {
    await host.close();
    db.close();
  }
});

test('on_join reads the published state and injects a chat message (an action event)', async () => {
  const log = captureLogger();
  const host = new PluginHost({ logger: log.logger });
  const actions: PluginAction[] = [];
  host.on('action', (a: PluginAction) => actions.push(a));
  try {
    await loadWordfilter(host, {});
    host.publishState(state);
    await host.join({ user: { id: 3, name: 'cy' }, channelId: 1, ts: Date.now() });
    assert.equal(actions, [{ pluginId: 'wordfilter', effect: { kind: 'chat.send', text: 'Welcome, cy! 3 online.', channelId: 1 } }]);
    host.publishState({ ...state, users: state.users.slice(0, 1) });
    await host.join({ user: { id: 1, name: 'ann' }, channelId: 1, ts: Date.now() });
    assert.is(actions[1]!.effect.kind === 'chat.send' && actions[1]!.effect.text, 'Welcome, ann! 1 online.', 'sees the newest snapshot');
  } finally {
    await host.close();
  }
});

test('hooks whose capability was not granted are never called', async () => {
  const host = new PluginHost({ logger: captureLogger().logger });
  const actions: PluginAction[] = [];
  host.on('action', (a: PluginAction) => actions.push(a));
  try {
    // Everything but chat.intercept and state.read: on_chat and on_join stay off.
    const info = await loadWordfilter(host, { words: ['darn'] }, ['chat.inject', 'storage', 'log', 'config.read']);
    assert.equal(info.hooks, ['on_command']);
    assert.equal(await host.chat(chat('darn')), { action: 'allow' });
    await host.join({ user, channelId: 1, ts: 0 });
    assert.equal(actions, []);
    assert.is(host.info('wordfilter').stats.calls, 0);
  } finally {
    await host.close();
  }
});

test('lifecycle: list, disable, enable, unload; duplicate ids refused', async () => {
  const host = new PluginHost({ logger: captureLogger().logger });
  try {
    const m = shippedManifest('noop');
    await host.load({ manifest: m, wasm: guestWasm('noop'), grants: m.capabilities });
    const dup = await host.load({ manifest: m, wasm: guestWasm('noop'), grants: [] }).then(() => null, (e: unknown) => e);
    assert.match(String(dup), /already loaded/);
    assert.equal(host.list().map((p) => [p.id, p.state]), [['noop', 'running']]);
    await host.disable('noop');
    assert.is(host.info('noop').state, 'disabled');
    assert.not.ok(await neighbourAnswers(host), 'a disabled plugin is not called');
    await host.enable('noop');
    assert.ok(await neighbourAnswers(host));
    assert.is(host.info('noop').fault, null);
    await host.unload('noop');
    assert.equal(host.list(), []);
  } finally {
    await host.close();
  }
});

test.run();
