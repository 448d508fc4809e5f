// `hearth plugin new` / `hearth plugin build` (host/cli/plugin-dev.ts): each
// template kind is created in a temporary directory, built with the SDK and
// loaded into a PluginHost, and one of its hooks is called. The example in
// examples/greeter-bot is built (from a copy) the same way. Build errors
// (compiler diagnostics, a hook the wasm does not export) are reported.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { pluginBuild, PluginDevError, pluginNew, PLUGIN_KINDS } from '../../host/cli/plugin-dev.js';
import { PluginError } from '../../host/plugins/errors.js';
import { sha256Hex } from '../../host/plugins/manifest.js';
import { PluginHost, type PluginAction } from '../../host/plugins/runtime.js';
import { captureLogger, repoRoot, sleep } from './helpers.js';

const test = suite('plugins: plugin new / build');

const T0 = 1_700_000_000_000;
const ann = { id: 1, name: 'ann' };
const state = {
  channels: [
    { id: 1, name: 'Lobby', parentId: null },
    { id: 2, name: 'Games', parentId: 1 },
    { id: 4, name: 'Chess', parentId: 2 },
    { id: 3, name: 'Quiet', parentId: 1 },
  ],
  users: [
    { id: 1, name: 'ann', channelId: 1 },
    { id: 2, name: 'bob', channelId: 4, muted: true },
    { id: 3, name: 'cy', channelId: 1 },
  ],
};

/** The error a promise rejects with (fails when it resolves). */
async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  return assert.unreachable('expected a rejection') as never;
}

let tmp = '';
const lines: string[] = [];
const sink = { write: (s: string) => lines.push(s) };

test.before(() => {
  tmp = mkdtempSync(join(tmpdir(), 'hearth-plugin-dev-'));
});
test.after(() => {
  rmSync(tmp, { recursive: true, force: true });
});

/** Builds `dir` and loads it with every requested capability granted. */
async function buildAndLoad(dir: string, config: Record<string, unknown> = {}) {
  const built = await pluginBuild(dir, sink);
  const log = captureLogger();
  const host = new PluginHost({ logger: log.logger });
  const actions: PluginAction[] = [];
  host.on('action', (a: PluginAction) => actions.push(a));
  const manifestPath = join(dir, 'manifest.json');
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { capabilities: string[]; wasm: { sha256: string } };
  assert.is(manifest.wasm.sha256, built.sha256, 'sha256 written into manifest.json');
  assert.is(sha256Hex(readFileSync(built.wasmPath)), built.sha256, 'of the wasm written next to it');
  const info = await host.loadFile(manifestPath, { grants: manifest.capabilities, config });
  return { host, actions, info, built };
}

test('new: creates index.ts, manifest.json (id = name) and README.md; refuses bad names and existing directories', async () => {
  const dir = await pluginNew('my-bot', 'bot', tmp, sink);
  assert.is(dir, join(tmp, 'my-bot'));
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Record<string, unknown>;
  assert.is(manifest.id, 'my-bot');
  assert.is(manifest.name, 'My Bot');
  assert.equal(manifest.wasm, { file: 'my-bot.wasm', sha256: '0'.repeat(64) });
  assert.match(readFileSync(join(dir, 'index.ts'), 'utf8'), /from "hearth-sdk"/);
  const readme = readFileSync(join(dir, 'README.md'), 'utf8');
  assert.match(readme, /npx hearth plugin build my-bot/);
  assert.match(readme, /npx hearth plugin install my-bot\/manifest\.json --grant-requested/);
  assert.not.match(readme + readFileSync(join(dir, 'index.ts'), 'utf8'), /\{\{/, 'every placeholder filled');
  assert.ok(lines.some((l) => l.includes('created')), 'progress goes to the output');

  assert.match((await rejection(pluginNew('my-bot', 'bot', tmp, sink))).message, /already exists/);
  assert.match((await rejection(pluginNew('My Bot', 'bot', tmp, sink))).message, /invalid plugin name/);
  assert.match((await rejection(pluginNew('x', 'bot', tmp, sink))).message, /invalid plugin name/);
  assert.match((await rejection(pluginNew('ok-name', 'widget' as never, tmp, sink))).message, /unknown kind/);
  assert.equal([...PLUGIN_KINDS], ['bot', 'moderation', 'effect', 'layout']);
});

test('bot: builds, greets on join (chat.send), answers /hello', async () => {
  const { host, actions } = await buildAndLoad(join(tmp, 'my-bot'));
  try {
    await host.join({ user: ann, channelId: 2, ts: T0 });
    await host.join({ user: ann, channelId: 1, ts: T0 + 1 });
    assert.equal(actions, [
      { pluginId: 'my-bot', effect: { kind: 'chat.send', text: 'Welcome, ann!', channelId: 2 } },
      { pluginId: 'my-bot', effect: { kind: 'chat.send', text: 'Welcome back, ann! Visit #2.', channelId: 1 } },
    ]);
    assert.equal(await host.command({ command: 'hello', args: '', user: ann, channelId: 1, ts: T0 }), { pluginId: 'my-bot', reply: 'Hello, ann!' });
  } finally {
    await host.close();
  }
});

test('moderation: builds, blocks configured words, mutes at muteAfter', async () => {
  const dir = await pluginNew('my-filter', 'moderation', tmp, sink);
  const { host, actions } = await buildAndLoad(dir, { words: ['spam'], muteAfter: 2 });
  try {
    const say = (text: string) => host.chat({ channelId: 1, user: ann, text, ts: T0 });
    assert.equal(await say('hello'), { action: 'allow' });
    assert.equal(await say('buy SPAM now'), { action: 'block', by: 'my-filter', reason: 'message contains a filtered word' });
    assert.equal(actions, []);
    await say('spam');
    assert.equal(actions.map((a) => a.effect), [{ kind: 'moderation', action: 'mute', userId: 1, reason: '2 filtered messages' }]);
  } finally {
    await host.close();
  }
});

test('effect: builds, applies gain and the soft limiter to a 960-sample frame (binary hook)', async () => {
  const dir = await pluginNew('my-effect', 'effect', tmp, sink);
  const { host, info } = await buildAndLoad(dir, { gain: 2 });
  try {
    assert.equal(info.hooks, ['on_audio_raw']);
    const frame = new Float32Array(960);
    for (let i = 0; i < 960; i++) frame[i] = ((i % 11) - 5) / 10; // -0.5 .. 0.5
    // A call over the manifest's callMs comes back 'late' (the frame is bypassed, by
    // design); on a busy 2-core CI machine the first calls of a fresh sandbox can be. What
    // this test is about is the effect's output, so it takes the first of a few calls that
    // finished in time. While a late call is still running in the sandbox, the next one
    // comes back 'busy', so it waits a little before it asks again.
    let out = await host.callAudio('my-effect', frame);
    for (let i = 0; i < 10 && (out.status === 'late' || out.status === 'busy'); i++) {
      await sleep(50);
      out = await host.callAudio('my-effect', frame);
    }
    assert.is(out.status, 'ok');
    const samples = out.status === 'ok' ? out.value : new Float32Array(0);
    assert.is(samples.length, 960);
    for (let i = 0; i < 960; i++) {
      const x = frame[i]! * 2;
      const a = Math.abs(x);
      const want = a <= 0.5 ? x : Math.sign(x) * (0.5 + 0.5 * Math.tanh((a - 0.5) * 2));
      assert.ok(Math.abs(samples[i]! - want) < 1e-5, `sample ${i}: ${samples[i]} vs ${want}`);
      assert.ok(Math.abs(samples[i]!) < 1, 'limited below full scale');
    }
  } finally {
    await host.close();
  }
});

// The layout template (on_layout, for the desktop client) is tested in test/ui/layout-template.test.ts.

test('the example examples/greeter-bot builds and works', async () => {
  const dir = join(tmp, 'greeter-bot');
  cpSync(join(repoRoot, 'examples', 'greeter-bot'), dir, { recursive: true, filter: (p) => !p.endsWith('.wasm') });
  const { host, actions } = await buildAndLoad(dir);
  try {
    host.publishState(state);
    await host.join({ user: ann, channelId: 2, ts: T0 });
    await host.join({ user: ann, channelId: 2, ts: T0 + 1 });
    assert.equal(actions.map((a) => a.effect.kind === 'chat.send' && a.effect.text), ['Welcome to Games, ann!', 'Welcome back to Games, ann! Visit #2.']);
    const flips = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const r = await host.command({ command: 'coin', args: '', user: ann, channelId: 1, ts: T0 + i });
      assert.match(r?.reply ?? '', /^ann flips a coin: (heads|tails)$/);
      flips.add(r!.reply);
    }
    assert.is(flips.size, 2, 'both sides come up');
  } finally {
    await host.close();
  }
});

test('build errors: compiler diagnostics with the line; a declared hook the wasm does not export; a bad manifest', async () => {
  const dir = await pluginNew('broken', 'bot', tmp, sink);
  const source = readFileSync(join(dir, 'index.ts'), 'utf8');
  writeFileSync(join(dir, 'index.ts'), source.replace('const visits = ', 'const visits: string = '));
  const err = await rejection(pluginBuild(dir, sink));
  assert.instance(err, PluginDevError, 'a user error: the CLI prints its message, not a stack');
  assert.match(err.message, /does not compile/);
  assert.match(err.message, /index\.ts\(\d+,\d+\)/, 'names the file and line');

  writeFileSync(join(dir, 'index.ts'), source.replace('export function on_command', 'function on_command'));
  const missing = await rejection(pluginBuild(dir, sink));
  assert.instance(missing, PluginError);
  assert.is((missing as PluginError).code, 'MISSING_EXPORT');

  writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ ...JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')), hooks: ['on_chat'] }));
  assert.match((await rejection(pluginBuild(dir, sink))).message, /on_chat needs capability "chat.intercept"/);
});

test.run();
