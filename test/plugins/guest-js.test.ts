// JavaScript guests (sdk/js: QuickJS compiled to wasm32-wasi, pre-initialised
// with wizer): examples/js-bot built by scripts/build-guests-native.mjs (the
// same `hearth plugin build` users run) and run in a real server; the
// `--lang js` templates built and run in a PluginHost; what a JS author sees
// when the plugin does not parse, throws, or loops.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { pluginBuild, PluginDevError, pluginNew } from '../../host/cli/plugin-dev.js';
import { Wasm } from '../../host/cli/wasm-api.js';
import type { ChatMessageView, ServerMessage } from '../../host/protocol/server-messages.js';
import { PluginHost, type PluginAction } from '../../host/plugins/runtime.js';
import { installPlugin, readPluginSource } from '../../host/server/plugins/installed.js';
import { eventually, loginAs, startServer } from '../helpers/server.js';
import { captureLogger, nextFault } from './helpers.js';
import { relaxedCopy, relaxLimits, requireNativeGuest, requireToolchain } from './native-guests.js';

const test = suite('plugins: JavaScript guests');
const sink = { write: () => true };
let tmp = '';
test.before(() => {
  tmp = mkdtempSync(join(tmpdir(), 'hearth-guest-js-'));
});
test.after(() => rmSync(tmp, { recursive: true, force: true }));

test('examples/js-bot in a real server: greets on join, answers /hello, /count (storage) and /who (state)', async () => {
  const dir = await requireNativeGuest('js-bot', 'js');
  const imports = Wasm.Module.imports(new Wasm.Module(readFileSync(join(dir, 'js-bot.wasm'))));
  assert.ok(imports.every((i) => i.module.startsWith('extism:host/')), `only Extism imports (WASI is stubbed inside): ${imports.map((i) => i.module).join(',')}`);
  const t = await startServer({ plugins: { pollMs: 200 } });
  const a = await loginAs(t, 'amy');
  try {
    const files = await readPluginSource(relaxedCopy('js-bot'));
    await installPlugin(t.dataDir, t.server.store, files, files.manifest.capabilities, { greeting: 'Hi there' });
    await t.server.plugins!.sync();
    assert.is(t.server.plugins!.list().find((p) => p.id === 'js-bot')?.state, 'running');
    const seen: ChatMessageView[] = [];
    a.on('chat.message', (m: Extract<ServerMessage, { type: 'chat.message' }>) => seen.push(m.message));
    const b = await loginAs(t, 'ben');
    try {
      await eventually(() => seen.some((m) => m.text === 'Hi there, ben!' && m.senderId === null), 3000, 'greeting for ben');
      const hello = await a.request<{ reply: string }>('chat.send', { channelId: 1, text: '/hello' });
      assert.is(hello.reply, 'Hello, amy!');
      assert.is((await a.request<{ reply: string }>('chat.send', { channelId: 1, text: '/count' })).reply, 'count: 1');
      assert.is((await a.request<{ reply: string }>('chat.send', { channelId: 1, text: '/count' })).reply, 'count: 2');
      const who = await a.request<{ reply: string }>('chat.send', { channelId: 1, text: '/who' });
      assert.is(who.reply, '2 online: amy, ben');
    } finally {
      b.close();
    }
  } finally {
    a.close();
    await t.stop();
  }
});

test('hearth plugin new --lang js: the bot, moderation and effect templates build and run', async () => {
  await requireToolchain('js');
  const host = new PluginHost({ logger: captureLogger().logger });
  const actions: PluginAction[] = [];
  host.on('action', (a: PluginAction) => actions.push(a));
  try {
    for (const kind of ['bot', 'moderation', 'effect'] as const) {
      const dir = await pluginNew(`js-${kind}`, kind, tmp, sink, 'js');
      relaxLimits(join(dir, 'manifest.json'));
      await pluginBuild(dir, sink);
      const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { capabilities: string[] };
      await host.loadFile(join(dir, 'manifest.json'), { grants: m.capabilities, config: kind === 'moderation' ? { words: ['darn'], muteAfter: 2 } : kind === 'effect' ? { gain: 2 } : {} });
    }
    assert.equal(await host.command({ command: 'hello', args: '', user: { id: 7, name: 'zoë' }, channelId: 1, ts: 1 }), { pluginId: 'js-bot', reply: 'Hello, zoë!' });
    await host.join({ user: { id: 7, name: 'zoë' }, channelId: 1, ts: 1 });
    await host.join({ user: { id: 7, name: 'zoë' }, channelId: 1, ts: 2 });
    assert.equal(actions.flatMap((a) => (a.effect.kind === 'chat.send' ? [a.effect.text] : [])), ['Welcome, zoë!', 'Welcome back, zoë! Visit #2.']);
    assert.equal(await host.chat({ channelId: 1, user: { id: 9, name: 'x' }, text: 'hello there', ts: 1 }), { action: 'allow' });
    assert.is((await host.chat({ channelId: 1, user: { id: 9, name: 'x' }, text: 'well DARN it', ts: 2 })).action, 'block');
    await host.chat({ channelId: 1, user: { id: 9, name: 'x' }, text: 'darn again', ts: 3 });
    assert.ok(actions.some((a) => a.effect.kind === 'moderation' && a.effect.action === 'mute' && a.effect.userId === 9), 'muted at the second strike');
    const out = await host.callAudio('js-effect', new Float32Array(960).fill(0.1));
    assert.is(out.status, 'ok');
    if (out.status === 'ok') assert.ok(Math.abs(out.value[0]! - 0.2) < 1e-6, 'gain 2 applied');
  } finally {
    await host.close();
  }
});

test('a JS plugin that does not parse or throws at load fails the build with its message; one that throws or loops in a hook is disabled', async () => {
  await requireToolchain('js');
  const dir = await pluginNew('js-bad', 'bot', tmp, sink, 'js');
  writeFileSync(join(dir, 'plugin.js'), 'function on_join(ev) {\n  return {;\n}\n');
  const e1 = await pluginBuild(dir, sink).then(() => null, (e: Error) => e);
  assert.instance(e1, PluginDevError);
  assert.match(e1!.message, /does not parse/);
  writeFileSync(join(dir, 'plugin.js'), 'throw new Error("top-level boom");\nfunction on_join() {}\nfunction on_command() {}\n');
  const e2 = await pluginBuild(dir, sink).then(() => null, (e: Error) => e);
  assert.match(e2?.message ?? '', /top-level boom/);
  writeFileSync(
    join(dir, 'plugin.js'),
    'function on_join() {}\nfunction on_command(ev) {\n  if (ev.args === "loop") for (;;) {}\n  if (ev.args === "bomb") { const a = []; for (;;) a.push(new Array(1e5).fill(1)); }\n  throw new TypeError("hook boom " + ev.args);\n}\n',
  );
  relaxLimits(join(dir, 'manifest.json'), { killMs: 2000 });
  await pluginBuild(dir, sink);
  const host = new PluginHost({ logger: captureLogger().logger });
  try {
    const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { capabilities: string[] };
    const load = () => host.loadFile(join(dir, 'manifest.json'), { grants: m.capabilities });
    await load();
    const ev = (args: string) => ({ command: 'hello', args, user: { id: 1, name: 'a' }, channelId: 1, ts: 1 });
    const thrown = nextFault(host, 'js-bad');
    assert.is(await host.command(ev('x')), null);
    const f1 = await thrown;
    assert.is(f1.kind, 'guest_error');
    assert.match(f1.message, /TypeError: hook boom x/);
    await host.enable('js-bad');
    const looped = nextFault(host, 'js-bad');
    await host.command(ev('loop'));
    assert.is((await looped).kind, 'timeout', 'an endless loop is killed at killMs');
    await host.enable('js-bad');
    const bombed = nextFault(host, 'js-bad');
    await host.command(ev('bomb'));
    const f3 = await bombed;
    assert.ok(['memory', 'trap', 'guest_error'].includes(f3.kind), `a memory bomb is contained (${f3.kind}: ${f3.message.slice(0, 80)})`);
  } finally {
    await host.close();
  }
});

test.run();
