// Moderation under load (issue 11, item 3), in a real server:
//   - the wordfilter with 500 words in block mode and 19,000-character
//     messages, fail-closed: no message with a word is delivered (and clean
//     ones are);
//   - fail-closed with a filter that never answers: the message is refused
//     with FILTER_UNAVAILABLE, nobody receives it, and while the filter is
//     disabled every message is refused;
//   - fail-open: a late filter's message is delivered but logged as
//     unfiltered, and calls bypassed as "busy" count as overruns;
//   - a command whose owner hangs or faulted is refused with
//     COMMAND_UNAVAILABLE and its text (arguments included) is never posted.
// The test guest test/plugins/guests/slowchat hangs on "#hang" (chat) and on
// "/secret hang" (command).
import { copyFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { ControlClient } from '../../host/client/control/control-client.js';
import type { ChatMessageView, ServerMessage } from '../../host/protocol/server-messages.js';
import { installPlugin, readPluginSource } from '../../host/server/plugins/installed.js';
import { sha256Hex } from '../../host/plugins/manifest.js';
import type { ServerConfigInput } from '../../host/config/server-config.js';
import { eventually, expectError, loginAs, startServer, tempDir, type TestServer } from '../helpers/server.js';
import { repoRoot } from './helpers.js';

const test = suite('plugins: moderation under load, fail-closed filters, command leaks');

const LIMITS = { chatMaxChars: 20_000, chatMessagesPerWindow: 100_000, maxFrameBytes: 256 * 1024 };

async function server(plugins: NonNullable<ServerConfigInput['plugins']>): Promise<{ t: TestServer; a: ControlClient; b: ControlClient; seen: ChatMessageView[] }> {
  const t = await startServer({ plugins: { pollMs: 200, ...plugins }, limits: LIMITS });
  const a = await loginAs(t, 'amy');
  const b = await loginAs(t, 'ben');
  const seen: ChatMessageView[] = [];
  b.on('chat.message', (m: Extract<ServerMessage, { type: 'chat.message' }>) => seen.push(m.message));
  return { t, a, b, seen };
}

async function installSlowchat(t: TestServer, limits: Record<string, number>): Promise<void> {
  const dir = tempDir('hearth-slowchat-');
  const wasm = join(repoRoot, 'test', 'plugins', 'guests', 'build', 'slowchat.wasm');
  copyFileSync(wasm, join(dir, 'slowchat.wasm'));
  const manifest = {
    manifestVersion: 1,
    id: 'slowchat',
    name: 'Slow chat',
    version: '0.0.1',
    wasm: { file: 'slowchat.wasm', sha256: sha256Hex(readFileSync(wasm)) },
    hooks: ['on_chat', 'on_command'],
    commands: ['secret'],
    capabilities: ['chat.intercept'],
    limits: { memoryMiB: 4, callMs: 30, killMs: 400, overrunLimit: 3, storageKiB: 0, ...limits },
  };
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
  await installPlugin(t.dataDir, t.server.store, await readPluginSource(join(dir, 'manifest.json')), ['chat.intercept']);
  await t.server.plugins!.sync();
}

/** Deterministic words of 6-12 letters (the filter's config allows 500). */
function wordList(n: number): string[] {
  let x = 12345;
  const rnd = () => ((x = (x * 1103515245 + 12345) >>> 0) >>> 8) / 0x1000000;
  const words = new Set<string>();
  while (words.size < n) {
    const len = 6 + Math.floor(rnd() * 7);
    let w = '';
    for (let i = 0; i < len; i++) w += String.fromCharCode(97 + Math.floor(rnd() * 26));
    words.add(w);
  }
  return [...words];
}

/** ~19,000 characters of ordinary text, with `word` (if any) at `at` (0..1 of the way in). */
function longMessage(i: number, word: string | null, at: number): string {
  const filler = `message ${i}: the quick brown fox jumps over the lazy dog and keeps on running `;
  let text = '';
  while (text.length < 19_000) text += filler;
  text = text.slice(0, 19_000);
  if (word === null) return text;
  const pos = Math.floor(at * (text.length - word.length - 2));
  return `${text.slice(0, pos)} ${word} ${text.slice(pos + word.length + 2)}`;
}

function logLines(dataDir: string): Record<string, unknown>[] {
  const dir = join(dataDir, 'logs');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.log'))
    .flatMap((f) => readFileSync(join(dir, f), 'utf8').split('\n').filter(Boolean))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

test('fail-closed wordfilter, 500 words, 19,000-character messages from 4 senders: none with a word is delivered, clean ones are', async () => {
  const { t, a, b, seen } = await server({ failClosed: ['wordfilter'] });
  const c = await loginAs(t, 'cal');
  const d = await loginAs(t, 'dee');
  try {
    const words = wordList(500);
    const files = await readPluginSource(join(repoRoot, 'manifests', 'wordfilter.json'));
    await installPlugin(t.dataDir, t.server.store, files, files.manifest.capabilities, { words, mode: 'block', greet: false, announce: false, muteAfter: 0, kickAfter: 0 });
    await t.server.plugins!.sync();
    const senders = [a, b, c, d];
    const dirty: Promise<unknown>[] = [];
    const clean: Promise<unknown>[] = [];
    for (let i = 0; i < 60; i++) {
      const sender = senders[i % senders.length]!;
      const word = words[(i * 37) % words.length]!;
      // Mixed case and anywhere in the message: the filter folds case.
      const text = longMessage(i, i % 2 ? word.toUpperCase() : word, (i % 10) / 9);
      dirty.push(expectError(sender.request('chat.send', { channelId: 1, text }), 'BLOCKED'));
      if (i % 6 === 0) clean.push(sender.request('chat.send', { channelId: 1, text: longMessage(1000 + i, null, 0) }));
    }
    await Promise.all(dirty);
    await Promise.all(clean);
    const lowerWords = new Set(words);
    const leaked = seen.filter((m) => m.text.toLowerCase().split(/\s+/).some((w) => lowerWords.has(w)));
    assert.is(leaked.length, 0, 'no message containing a filtered word was delivered');
    await eventually(() => seen.filter((m) => /^message 10\d\d:/.test(m.text)).length === clean.length, 3000, 'clean messages delivered');
    const wf = t.server.plugins!.list().find((p) => p.id === 'wordfilter')!;
    assert.is(wf.state, 'running');
  } finally {
    for (const x of [a, b, c, d]) x.close();
    await t.stop();
  }
});

test('fail-closed: a filter that does not answer before killMs refuses the message (FILTER_UNAVAILABLE), and keeps refusing while disabled', async () => {
  const { t, a, b, seen } = await server({ failClosed: true });
  try {
    await installSlowchat(t, {});
    const r = await expectError(a.request('chat.send', { channelId: 1, text: 'this one hangs the filter #hang' }), 'FILTER_UNAVAILABLE');
    assert.match(r.message, /slowchat/);
    await eventually(() => t.server.plugins!.list().find((p) => p.id === 'slowchat')?.state === 'disabled', 3000, 'slowchat disabled');
    await expectError(a.request('chat.send', { channelId: 1, text: 'an innocent message' }), 'FILTER_UNAVAILABLE');
    // a message that reaches nobody: b is still served (a ping round trip), and saw nothing
    await b.request('ping');
    assert.equal(seen.map((m) => m.text), [], 'nothing was delivered');
  } finally {
    a.close();
    b.close();
    await t.stop();
  }
});

test('fail-open: a late filter lets the message through but logs it as unfiltered; busy calls count as overruns', async () => {
  const { t, a, b, seen } = await server({});
  try {
    // killMs far away: the plugin must be disabled by its overruns (late + busy), not by the kill.
    await installSlowchat(t, { killMs: 20_000, overrunLimit: 3 });
    // The first 20 calls after a start are exempt from the overrun count (a cold thread).
    for (let i = 0; i < 21; i++) await a.request('chat.send', { channelId: 1, text: `warm ${i}` });
    await a.request('chat.send', { channelId: 1, text: 'late one #hang' });
    await a.request('chat.send', { channelId: 1, text: 'busy one' });
    await a.request('chat.send', { channelId: 1, text: 'busy two' });
    await eventually(() => seen.some((m) => m.text === 'busy two'), 3000, 'messages delivered (fail-open)');
    const p = await eventually(() => t.server.plugins!.list().find((x) => x.id === 'slowchat' && x.state === 'disabled'), 3000, 'slowchat disabled');
    assert.is(p.lastFault?.kind, 'overruns', 'disabled by overruns: the busy calls counted');
    assert.ok(seen.some((m) => m.text === 'late one #hang'));
  } finally {
    a.close();
    b.close();
    await t.stop({ keepData: true });
  }
  const unfiltered = logLines(t.dataDir).filter((l) => typeof l.msg === 'string' && /unfiltered \(fail-open\)/.test(l.msg));
  assert.ok(unfiltered.length >= 2, `each unfiltered message is logged (${unfiltered.length} lines)`);
  assert.ok(!JSON.stringify(unfiltered).includes('late one #hang'), 'the log names the message, not its text');
});

test('a command whose owner hangs or faulted: COMMAND_UNAVAILABLE, and its text (arguments included) is never posted', async () => {
  const { t, a, b, seen } = await server({});
  try {
    await installSlowchat(t, {});
    const ok = await a.request<{ command: boolean; reply: string }>('chat.send', { channelId: 1, text: '/secret hello' });
    assert.is(ok.reply, 'ok');
    const r = await expectError(a.request('chat.send', { channelId: 1, text: '/secret hang password123' }), 'COMMAND_UNAVAILABLE');
    assert.match(r.message, /slowchat/);
    await eventually(() => t.server.plugins!.list().find((p) => p.id === 'slowchat')?.state === 'disabled', 3000, 'slowchat killed');
    await expectError(a.request('chat.send', { channelId: 1, text: '/secret again password456' }), 'COMMAND_UNAVAILABLE');
    await b.request('ping');
    assert.not.ok(seen.some((m) => /password\d+/.test(m.text)), 'no command text was posted');
  } finally {
    a.close();
    b.close();
    await t.stop();
  }
});

test.run();
