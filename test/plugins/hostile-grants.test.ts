// Hostile sweep, issue 11 items 5 and 6 in a live server: grants belong to
// the wasm's sha256 (a replaced wasm gets none until an admin approves it;
// the per-plugin development mode re-grants automatically), bot messages are
// marked and a bot may not take an account's name, and a wasm.file in a
// subdirectory installs. On the code before this change: the replaced wasm
// ran with the old grants, bot messages had no mark, a bot could be "ann",
// and "sub/x.wasm" failed the install with a raw ENOENT.
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { pluginApprove, pluginDevRegrant, pluginList } from '../../host/cli/plugin-admin.js';
import type { ControlClient } from '../../host/client/control/control-client.js';
import type { ServerMessage } from '../../host/protocol/server-messages.js';
import { installPlugin, readPluginSource } from '../../host/server/plugins/installed.js';
import { eventually, loginAs, startServer, type TestServer } from '../helpers/server.js';
import { repoRoot, guestWasm } from './helpers.js';
import { guest, install, stdoutOf } from './server-helpers.js';

const test = suite<{ t: TestServer; a: ControlClient }>('plugins: grants per wasm, bots, install paths');

test.before.each(async (ctx) => {
  ctx.t = await startServer({ plugins: { pollMs: 100, timerMs: 1000 } });
  ctx.a = await loginAs(ctx.t, 'ann');
});
test.after.each(async (ctx) => {
  ctx.a.close();
  await ctx.t.stop();
});

/** Puts another plugin's wasm and manifest in place of `id`'s, as someone with access to the data directory could. */
function replaceWith(t: TestServer, id: string, other: string, patch: Record<string, unknown> = {}): void {
  const dir = join(t.dataDir, 'plugins', id);
  const raw = JSON.parse(readFileSync(join(repoRoot, 'manifests', `${other}.json`), 'utf8')) as { wasm: { file: string } };
  copyFileSync(join(repoRoot, 'guests', other, 'build', raw.wasm.file), join(dir, raw.wasm.file));
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ ...raw, id, ...patch }));
}

const status = (t: TestServer, id: string) => t.server.plugins!.list().find((p) => p.id === id);

test('a replaced wasm gets no grant and does not run until an admin approves it; approve shows what changed', async ({ t }) => {
  await installPlugin(t.dataDir, t.server.store, await readPluginSource(join(repoRoot, 'manifests', 'noop.json')), ['chat.intercept']);
  await t.server.plugins!.sync();
  assert.is(status(t, 'noop')?.state, 'running');
  replaceWith(t, 'noop', 'wordfilter', { name: 'Sneaky' });
  await eventually(() => t.server.store.plugins.get('noop')?.runtimeState === 'awaiting-approval', 15_000, 'awaiting approval');
  assert.is(status(t, 'noop'), undefined, 'the new wasm is not loaded');
  assert.equal(t.server.store.plugins.get('noop')!.grants, ['chat.intercept'], 'the grants are untouched (and belong to the old wasm)');
  assert.match(await stdoutOf(() => pluginList(t.dataDir)), /noop .*awaiting approval: new wasm \(hearth plugin approve noop\)/);

  const shown = await stdoutOf(() => pluginApprove(t.dataDir, 'noop', { grant: 'chat.intercept,config.read' }));
  assert.match(shown, /NOT the one its grants were approved for/);
  assert.match(shown, /changed: version: /);
  assert.match(shown, /changed: capabilities added: .*config\.read/);
  assert.match(shown, /changed: name: No-op -> Sneaky/);
  assert.match(shown, /approved noop .*granted: chat\.intercept, config\.read/);
  await eventually(() => status(t, 'noop')?.state === 'running', 15_000, 'loaded once approved');
  assert.equal(status(t, 'noop')!.grants.sort(), ['chat.intercept', 'config.read']);
});

test('development mode (per plugin, off by default) re-grants a new wasm its earlier grants, nothing more', async ({ t }) => {
  await installPlugin(t.dataDir, t.server.store, await readPluginSource(join(repoRoot, 'manifests', 'noop.json')), ['chat.intercept']);
  await t.server.plugins!.sync();
  assert.match(await stdoutOf(() => pluginDevRegrant(t.dataDir, 'noop', 'on')), /re-granted its earlier grants automatically/);
  replaceWith(t, 'noop', 'wordfilter', { name: 'Dev build' });
  await eventually(() => status(t, 'noop')?.name === 'Dev build', 15_000, 'the new wasm loaded');
  assert.equal(status(t, 'noop')!.grants, ['chat.intercept'], 'earlier grants only; what it newly asks for is not granted');
  assert.is(t.server.store.plugins.get('noop')!.grantedSha256, JSON.parse(readFileSync(join(t.dataDir, 'plugins', 'noop', 'manifest.json'), 'utf8')).wasm.sha256);
});

test('bot messages carry the bot mark; a bot may not take an account name', async ({ t, a }) => {
  await installPlugin(t.dataDir, t.server.store, await readPluginSource(join(repoRoot, 'manifests', 'noop.json')), ['chat.intercept']);
  await t.server.plugins!.sync();
  const got = a.waitFor((m) => m.type === 'chat.message' && m.message.senderId === null) as Promise<Extract<ServerMessage, { type: 'chat.message' }>>;
  await a.request('chat.send', { channelId: 1, text: '/ping' });
  const m = (await got).message;
  assert.is(m.bot, 'noop', 'marked as the bot of plugin noop');
  assert.is(t.server.store.chat.recent(1, 10).find((x) => x.id === m.id)?.bot, 'noop', 'stored with the mark');

  await install(t, guest('probe', { id: 'impostor', name: 'ann', hooks: ['on_command'], commands: ['call'], capabilities: ['chat.inject'] }));
  const rec = await eventually(() => {
    const r = t.server.store.plugins.get('impostor');
    return r?.runtimeState === 'failed' ? r : null;
  }, 15_000, 'the impostor refused');
  assert.is(rec.lastFault?.kind, 'load:BOT_NAME_TAKEN');
  assert.match(rec.lastFault!.message, /bot name "ann" is \(or looks like\) the name of an account/);
  // A look-alike is refused too (Cyrillic "а").
  await install(t, guest('probe', { id: 'impostor2', name: '\u0430nn', hooks: ['on_command'], commands: ['call'], capabilities: ['chat.inject'] }));
  await eventually(() => t.server.store.plugins.get('impostor2')?.lastFault?.kind === 'load:BOT_NAME_TAKEN', 15_000, 'the look-alike refused');
});

test('a wasm.file in a subdirectory installs and loads', async ({ t }) => {
  await install(t, { id: 'subdir', wasm: guestWasm('noop'), file: 'sub/x.wasm', hooks: ['on_command'], commands: ['ping'] });
  await eventually(() => status(t, 'subdir')?.state === 'running', 15_000, 'loaded from sub/x.wasm');
});

test.run();
