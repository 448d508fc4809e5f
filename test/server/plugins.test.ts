// Plugins inside a real server: installed into the data directory with
// explicit grants, loaded from real compiled wasm, fed real chat and presence.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ControlClient } from '../../host/client/control/control-client.js';
import type { ChatMessageView, ServerMessage } from '../../host/protocol/server-messages.js';
import { installPlugin, readPluginSource } from '../../host/server/plugins/installed.js';
import { sha256Hex } from '../../host/plugins/manifest.js';
import type { PluginStatus } from '../../host/server/plugins/plugin-manager.js';
import { eventually, expectError, loginAs, sleep, startServer, tempDir, type TestServer } from '../helpers/server.js';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

async function installShipped(t: TestServer, id: string, grants: string[], config: Record<string, unknown> = {}): Promise<void> {
  const files = await readPluginSource(join(repoRoot, 'manifests', `${id}.json`));
  await installPlugin(t.dataDir, t.server.store, files, grants, config);
  await t.server.plugins!.sync();
}

/** Writes a manifest for one of the hostile test guests and installs it. */
async function installTestGuest(
  t: TestServer,
  guest: string,
  hooks: string[],
  limits: Record<string, number> = {},
  extra: { capabilities?: string[]; grants?: string[]; commands?: string[] } = {},
): Promise<void> {
  const dir = tempDir('hearth-guest-');
  const wasmPath = join(repoRoot, 'test', 'plugins', 'guests', 'build', `${guest}.wasm`);
  copyFileSync(wasmPath, join(dir, `${guest}.wasm`));
  const manifest = {
    manifestVersion: 1,
    id: guest,
    name: `hostile ${guest}`,
    version: '0.0.1',
    wasm: { file: `${guest}.wasm`, sha256: sha256Hex(readFileSync(wasmPath)) },
    hooks,
    capabilities: extra.capabilities ?? ['chat.intercept'],
    commands: extra.commands ?? [],
    limits: { memoryMiB: 4, callMs: 30, killMs: 300, overrunLimit: 3, storageKiB: 16, ...limits },
  };
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
  await installPlugin(t.dataDir, t.server.store, await readPluginSource(join(dir, 'manifest.json')), extra.grants ?? ['chat.intercept']);
  await t.server.plugins!.sync();
}

const chatFrom = (c: ControlClient, pred: (m: ChatMessageView) => boolean) =>
  c.waitFor((m) => m.type === 'chat.message' && pred(m.message)) as Promise<Extract<ServerMessage, { type: 'chat.message' }>>;

const test = suite<{ t: TestServer; admin: ControlClient; a: ControlClient; b: ControlClient }>('plugins in the server');

test.before.each(async (ctx) => {
  ctx.t = await startServer({ plugins: { pollMs: 200, timerMs: 100 } });
  ctx.admin = await loginAs(ctx.t, 'admin', 'admin');
  ctx.a = await loginAs(ctx.t, 'amy');
  ctx.b = await loginAs(ctx.t, 'ben');
});
test.after.each(async (ctx) => {
  for (const c of [ctx.admin, ctx.a, ctx.b]) c.close();
  await ctx.t.stop();
});

test('a command owned by a plugin is answered by its bot; the command itself is not posted', async ({ t, a, b }) => {
  await installShipped(t, 'noop', ['chat.intercept']);
  const seen: ChatMessageView[] = [];
  b.on('chat.message', (m: Extract<ServerMessage, { type: 'chat.message' }>) => seen.push(m.message));
  const reply = chatFrom(b, (m) => m.senderId === null);
  const r = await a.request<{ command: boolean; reply: string }>('chat.send', { channelId: 1, text: '/ping' });
  assert.ok(r.command);
  const m = (await reply).message;
  assert.match(m.text, /pong/);
  assert.is(m.senderName, 'No-op', 'posted as the plugin bot');
  assert.not.ok(seen.some((x) => x.text === '/ping'), 'the command text was not broadcast');
  // an unknown command is ordinary chat
  const plain = chatFrom(b, (x) => x.text === '/nosuchcommand hello');
  await a.request('chat.send', { channelId: 1, text: '/nosuchcommand hello' });
  await plain;
});

test('on_chat can block a message: the sender gets BLOCKED and nobody receives it', async ({ t, a, b }) => {
  await installShipped(t, 'wordfilter', ['chat.intercept', 'storage', 'log', 'config.read'], { words: ['darn'], mode: 'block' });
  const seen: string[] = [];
  b.on('chat.message', (m: Extract<ServerMessage, { type: 'chat.message' }>) => seen.push(m.message.text));
  const e = await expectError(a.request('chat.send', { channelId: 1, text: 'darn it' }), 'BLOCKED');
  assert.is(e.details?.plugin, 'wordfilter');
  const ok = chatFrom(b, (m) => m.text === 'all fine');
  await a.request('chat.send', { channelId: 1, text: 'all fine' });
  await ok;
  assert.not.ok(seen.includes('darn it'));
  const stored = t.server.store.chat.recent(1, 50).map((m) => m.text);
  assert.not.ok(stored.includes('darn it'), 'a blocked message is not stored');
});

test('messages arriving together are each filtered (calls to one plugin queue, none is skipped)', async ({ t, a, b }) => {
  await installShipped(t, 'wordfilter', ['chat.intercept', 'config.read'], { words: ['darn'], mode: 'block' });
  const results = await Promise.allSettled([
    a.request('chat.send', { channelId: 1, text: 'darn one' }),
    b.request('chat.send', { channelId: 1, text: 'darn two' }),
    a.request('chat.send', { channelId: 1, text: 'darn three' }),
  ]);
  const stats = t.server.plugins!.list().find((p) => p.id === 'wordfilter')!.stats;
  for (const r of results) {
    assert.is(r.status, 'rejected', JSON.stringify(stats));
    assert.is((r as PromiseRejectedResult).reason.code, 'BLOCKED');
  }
  assert.is(t.server.plugins!.list().find((p) => p.id === 'wordfilter')!.stats.busy, 0);
});

test('an ungranted capability keeps its hook off: without chat.intercept the filter sees nothing', async ({ t, a, b }) => {
  await installShipped(t, 'wordfilter', ['storage'], { words: ['darn'], mode: 'block' });
  const got = chatFrom(b, (m) => m.text === 'darn it');
  await a.request('chat.send', { channelId: 1, text: 'darn it' });
  await got;
  const info = t.server.plugins!.list().find((p) => p.id === 'wordfilter')!;
  assert.equal(info.grants, ['storage']);
});

test('a plugin that loops forever in on_chat: messages still flow, the plugin is disabled and reported', async ({ t, admin, a, b }) => {
  await installTestGuest(t, 'loop', ['on_chat']);
  for (let i = 0; i < 5; i++) {
    const got = chatFrom(b, (m) => m.text === `hello ${i}`);
    await a.request('chat.send', { channelId: 1, text: `hello ${i}` });
    await got;
  }
  await eventually(() => t.server.plugins!.list().find((p) => p.id === 'loop')?.state === 'disabled', 5000, 'loop plugin disabled');
  const { plugins } = await admin.request<{ plugins: PluginStatus[] }>('plugin.list');
  const loop = plugins.find((p) => p.id === 'loop')!;
  assert.ok(loop.lastFault, 'fault reported');
  await expectError(a.request('plugin.list'), 'FORBIDDEN');
  // a second client is still served
  const r = await b.request<{ serverTime: number }>('ping');
  assert.type(r.serverTime, 'number');
});

test('a plugin that traps is disabled; the message goes through unfiltered', async ({ t, a, b }) => {
  await installTestGuest(t, 'trap', ['on_chat']);
  const got = chatFrom(b, (m) => m.text === 'still here');
  await a.request('chat.send', { channelId: 1, text: 'still here' });
  await got;
  await eventually(() => t.server.plugins!.list().find((p) => p.id === 'trap')?.lastFault?.kind === 'trap', 3000, 'trap reported');
});

test('disable and enable in the database unload and reload the plugin; removal unloads it', async ({ t, a }) => {
  await installShipped(t, 'noop', ['chat.intercept']);
  assert.ok(t.server.plugins!.list().some((p) => p.id === 'noop'));
  t.server.store.plugins.setEnabled('noop', false);
  await eventually(() => !t.server.plugins!.list().some((p) => p.id === 'noop'), 3000, 'unloaded by the poller');
  const plain = await a.request<{ command?: boolean }>('chat.send', { channelId: 1, text: '/ping' });
  assert.not.ok(plain.command, 'no plugin answers while disabled');
  t.server.store.plugins.setEnabled('noop', true);
  await eventually(() => t.server.plugins!.list().some((p) => p.id === 'noop' && p.state === 'running'), 3000, 'reloaded');
});

test('a changed wasm on disk gets no grant and is not loaded until approved (issue 11; test/plugins/hostile-grants.test.ts has the approval)', async ({ t }) => {
  await installShipped(t, 'noop', ['chat.intercept']);
  // Replace the installed files with another plugin's wasm that asks for more, under the same id.
  const src = await readPluginSource(join(repoRoot, 'manifests', 'wordfilter.json'));
  const dir = join(t.dataDir, 'plugins', 'noop');
  mkdirSync(dir, { recursive: true });
  copyFileSync(src.wasmPath, join(dir, src.manifest.wasm.file));
  const raw = JSON.parse(readFileSync(src.manifestPath, 'utf8')) as Record<string, unknown>;
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ ...raw, id: 'noop', name: 'Sneaky' }));
  await eventually(() => t.server.store.plugins.get('noop')?.runtimeState === 'awaiting-approval', 3000, 'held back: awaiting approval');
  assert.not.ok(t.server.plugins!.list().some((p) => p.id === 'noop'), 'the changed wasm does not run');
  assert.equal(t.server.store.plugins.get('noop')!.grants, ['chat.intercept'], 'the grants stay with the earlier wasm');
  void sleep;
});

test('hostile guests in a live server: memory bomb, malformed output, WASI import, network, ungranted host calls; the server keeps serving', async ({ t, admin, a, b }) => {
  const status = (id: string) => t.server.plugins!.list().find((p) => p.id === id);
  const stillServed = async (label: string) => {
    const got = chatFrom(b, (m) => m.text === `after ${label}`);
    await a.request('chat.send', { channelId: 1, text: `after ${label}` });
    await got;
    assert.type((await b.request<{ serverTime: number }>('ping')).serverTime, 'number');
  };

  // Memory bomb in on_chat: the message still goes through, the plugin is stopped at its cap.
  await installTestGuest(t, 'bomb', ['on_chat'], { memoryMiB: 4, callMs: 200, killMs: 2000 });
  const bombMsg = chatFrom(b, (m) => m.text === 'boom');
  await a.request('chat.send', { channelId: 1, text: 'boom' });
  await bombMsg;
  await eventually(() => status('bomb')?.lastFault, 5000, 'bomb reported');
  assert.ok(['memory', 'trap', 'timeout'].includes(status('bomb')!.lastFault!.kind), status('bomb')!.lastFault!.kind);
  await stillServed('bomb');

  // Malformed JSON output.
  await installTestGuest(t, 'badjson', ['on_chat']);
  await stillServed('badjson-1');
  await eventually(() => status('badjson')?.lastFault?.kind === 'bad_output', 3000, 'bad output reported');

  // A guest that imports WASI is refused at load; the server records why.
  await installTestGuest(t, 'wasi', ['on_command'], {}, { capabilities: [], grants: [], commands: ['open'] });
  const { plugins } = await admin.request<{ plugins: PluginStatus[] }>('plugin.list');
  assert.not.ok(plugins.some((p) => p.id === 'wasi' && p.state === 'running'), 'WASI guest not running');
  await stillServed('wasi');

  // Network: the guest's http_request is denied and nothing reaches a local HTTP server.
  const http = await import('node:http');
  let hits = 0;
  const web = http.createServer((_q, r) => {
    hits++;
    r.end('secret');
  });
  await new Promise<void>((r) => web.listen(0, '127.0.0.1', r));
  try {
    await installTestGuest(t, 'network', ['on_command'], {}, { capabilities: [], grants: [], commands: ['fetch'] });
    const port = (web.address() as { port: number }).port;
    const r = await a.request<{ reply: string }>('chat.send', { channelId: 1, text: `/fetch http://127.0.0.1:${port}/steal` });
    assert.match(r.reply, /NETWORK_DENIED/);
    assert.is(hits, 0, 'no request left the host');
  } finally {
    web.close();
  }

  // Host functions it asked for but was not granted answer CAPABILITY_DENIED.
  await installTestGuest(t, 'denied', ['on_command'], {}, { capabilities: ['log', 'storage', 'chat.inject', 'moderation', 'state.read', 'config.read'], grants: ['log'], commands: ['probe'] });
  const probe = await a.request<{ reply: string }>('chat.send', { channelId: 1, text: '/probe' });
  const replies = JSON.parse(probe.reply) as Array<{ error?: string }>;
  assert.is(replies.filter((x) => x.error === 'CAPABILITY_DENIED').length, 6, probe.reply);
  await stillServed('all');
});

test.run();
