// C guests (sdk/c): examples/c-filter, compiled with clang for
// wasm32-unknown-unknown by scripts/build-guests-native.mjs (the same
// `hearth plugin build` users run), installed into a real server and fed real
// chat; `hearth plugin new --lang c` templates built and run in a PluginHost;
// `hearth plugin hash` / `manifest` for a wasm built outside Hearth's build.
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { pluginBuild, PluginDevError, pluginNew } from '../../host/cli/plugin-dev.js';
import { pluginHash, pluginManifest } from '../../host/cli/plugin-manifest-tool.js';
import { Wasm } from '../../host/cli/wasm-api.js';
import type { ChatMessageView, ServerMessage } from '../../host/protocol/server-messages.js';
import { PluginHost, type PluginAction } from '../../host/plugins/runtime.js';
import { parseManifest, sha256Hex } from '../../host/plugins/manifest.js';
import { installPlugin, readPluginSource } from '../../host/server/plugins/installed.js';
import { eventually, expectError, loginAs, startServer } from '../helpers/server.js';
import { captureLogger } from './helpers.js';
import { relaxedCopy, relaxLimits, requireNativeGuest, requireToolchain } from './native-guests.js';

const test = suite('plugins: C guests');
const sink = { write: () => true };
let tmp = '';
test.before(() => {
  tmp = mkdtempSync(join(tmpdir(), 'hearth-guest-c-'));
});
test.after(() => rmSync(tmp, { recursive: true, force: true }));

test('examples/c-filter in a real server: blocks a configured word, lets the rest through, answers /cfilter', async () => {
  const dir = await requireNativeGuest('c-filter', 'c');
  const wasm = readFileSync(join(dir, 'c-filter.wasm'));
  const imports = Wasm.Module.imports(new Wasm.Module(wasm));
  assert.ok(imports.every((i) => i.module === 'extism:host/env' || i.module === 'extism:host/user'), 'imports Extism and Hearth only (no env.memcpy)');
  const t = await startServer({ plugins: { pollMs: 200 } });
  const a = await loginAs(t, 'amy');
  const b = await loginAs(t, 'ben');
  try {
    const files = await readPluginSource(relaxedCopy('c-filter'));
    await installPlugin(t.dataDir, t.server.store, files, files.manifest.capabilities, { words: ['BadWord', 'frobnicate'] });
    await t.server.plugins!.sync();
    assert.is(t.server.plugins!.list().find((p) => p.id === 'c-filter')?.state, 'running');
    const seen: ChatMessageView[] = [];
    b.on('chat.message', (m: Extract<ServerMessage, { type: 'chat.message' }>) => seen.push(m.message));
    await a.request('chat.send', { channelId: 1, text: 'a perfectly fine message' });
    const blocked = await expectError(a.request('chat.send', { channelId: 1, text: 'this has a BADWORD in it' }), 'BLOCKED');
    assert.match(blocked.message, /filtered word/);
    await expectError(a.request('chat.send', { channelId: 1, text: 'do not frobnicate' }), 'BLOCKED');
    const r = await a.request<{ reply: string }>('chat.send', { channelId: 1, text: '/cfilter' });
    assert.is(r.reply, '2 messages blocked', 'counted in storage');
    await eventually(() => seen.some((m) => m.text === '2 messages blocked'), 3000, 'the bot reply');
    assert.ok(seen.some((m) => m.text === 'a perfectly fine message'));
    assert.not.ok(seen.some((m) => /badword|frobnicate/i.test(m.text)), 'blocked messages reached nobody');
  } finally {
    a.close();
    b.close();
    await t.stop();
  }
});

test('hearth plugin new --lang c: the bot, moderation and effect templates build and run', async () => {
  await requireToolchain('c');
  const log = captureLogger();
  const host = new PluginHost({ logger: log.logger });
  const actions: PluginAction[] = [];
  host.on('action', (a: PluginAction) => actions.push(a));
  try {
    for (const kind of ['bot', 'moderation', 'effect'] as const) {
      const dir = await pluginNew(`c-${kind}`, kind, tmp, sink, 'c');
      relaxLimits(join(dir, 'manifest.json'));
      const built = await pluginBuild(dir, sink);
      const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { capabilities: string[]; wasm: { sha256: string } };
      assert.is(m.wasm.sha256, built.sha256);
      await host.loadFile(join(dir, 'manifest.json'), { grants: m.capabilities, config: kind === 'moderation' ? { words: ['darn'], muteAfter: 2 } : kind === 'effect' ? { gain: 2 } : {} });
    }
    const hello = await host.command({ command: 'hello', args: '', user: { id: 7, name: 'zoë' }, channelId: 1, ts: 1 });
    assert.equal(hello, { pluginId: 'c-bot', reply: 'Hello, zoë!' }, 'UTF-8 names survive the JSON round trip');
    await host.join({ user: { id: 7, name: 'zoë' }, channelId: 1, ts: 1 });
    await host.join({ user: { id: 7, name: 'zoë' }, channelId: 1, ts: 2 });
    const said = actions.flatMap((a) => (a.effect.kind === 'chat.send' ? [a.effect.text] : []));
    assert.equal(said, ['Welcome, zoë!', 'Welcome back, zoë! Visit #2.']);
    assert.equal(await host.chat({ channelId: 1, user: { id: 9, name: 'x' }, text: 'hello there', ts: 1 }), { action: 'allow' });
    const d1 = await host.chat({ channelId: 1, user: { id: 9, name: 'x' }, text: 'well DARN it', ts: 2 });
    assert.is(d1.action, 'block');
    await host.chat({ channelId: 1, user: { id: 9, name: 'x' }, text: 'darn again', ts: 3 });
    assert.ok(actions.some((a) => a.effect.kind === 'moderation' && a.effect.action === 'mute' && a.effect.userId === 9), 'muted at the second strike');
    const frame = new Float32Array(960).map((_, i) => (i % 2 ? 0.1 : -0.1));
    const out = await host.callAudio('c-effect', frame);
    assert.is(out.status, 'ok');
    if (out.status === 'ok') assert.ok(Math.abs(out.value[0]! + 0.2) < 1e-6 && Math.abs(out.value[1]! - 0.2) < 1e-6, 'gain 2 applied');
  } finally {
    await host.close();
  }
});

test('a C compile error is reported with clang diagnostics', async () => {
  await requireToolchain('c');
  const dir = await pluginNew('c-broken', 'bot', tmp, sink, 'c');
  writeFileSync(join(dir, 'index.c'), '#include "hearth.h"\nHEARTH_HOOK(on_join) { return undeclared_thing; }\n');
  try {
    await pluginBuild(dir, sink);
    assert.unreachable('the build should fail');
  } catch (err) {
    assert.instance(err, PluginDevError);
    assert.match((err as Error).message, /undeclared_thing/);
  }
});

test('hearth plugin hash / manifest: a manifest and sha256 for a wasm built by another toolchain', async () => {
  const dir = await requireNativeGuest('c-filter', 'c');
  const other = join(tmp, 'other-toolchain');
  mkdirSync(join(other, 'out'), { recursive: true });
  copyFileSync(join(dir, 'c-filter.wasm'), join(other, 'out', 'my-filter.wasm'));
  const lines: string[] = [];
  const out = { write: (s: string) => lines.push(s) };
  const sha = await pluginHash(join(other, 'out', 'my-filter.wasm'), out);
  assert.is(sha, sha256Hex(readFileSync(join(dir, 'c-filter.wasm'))));
  assert.match(lines.join(''), new RegExp(`^${sha}  `));
  const path = await pluginManifest(join(other, 'out', 'my-filter.wasm'), { out: join(other, 'manifest.json'), commands: ['cfilter'] }, out);
  const m = parseManifest(JSON.parse(readFileSync(path, 'utf8')), path);
  assert.is(m.id, 'my-filter');
  assert.equal(m.wasm, { file: 'out/my-filter.wasm', sha256: sha });
  assert.equal(m.hooks, ['on_chat', 'on_command'], 'hooks from the exports');
  assert.equal(m.capabilities, ['chat.intercept', 'storage', 'log', 'config.read'], 'capabilities from the hooks and the imported host functions');
  // It loads as written.
  const host = new PluginHost({ logger: captureLogger().logger });
  try {
    await host.loadFile(path, { grants: m.capabilities });
    assert.equal(await host.chat({ channelId: 1, user: { id: 1, name: 'a' }, text: 'fine', ts: 1 }), { action: 'allow' });
  } finally {
    await host.close();
  }
  // Updating: only wasm.file/sha256 change; what the author wrote stays.
  const edited = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  edited.description = 'mine';
  writeFileSync(path, JSON.stringify(edited));
  writeFileSync(join(other, 'out', 'my-filter.wasm'), Buffer.concat([readFileSync(join(dir, 'c-filter.wasm')), Buffer.from([0, 3, 1, 120, 0])])); // a custom section: new hash
  await pluginManifest(join(other, 'out', 'my-filter.wasm'), { out: path }, out);
  const updated = JSON.parse(readFileSync(path, 'utf8')) as { description: string; wasm: { sha256: string } };
  assert.is(updated.description, 'mine');
  assert.is(updated.wasm.sha256, sha256Hex(readFileSync(join(other, 'out', 'my-filter.wasm'))));
  assert.is.not(updated.wasm.sha256, sha);
});

test.run();
