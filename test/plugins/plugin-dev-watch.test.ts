// `hearth plugin dev DIR` (host/cli/plugin-dev-watch.ts): one step from a
// saved source file to the new version answering on a local server. A C bot
// (the fastest compiler) is created from the template, served, edited, and
// answers with the edited text; a broken edit keeps the last good version
// running; fixing it reloads again.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { pluginDev } from '../../host/cli/plugin-dev-watch.js';
import { pluginNew } from '../../host/cli/plugin-dev.js';
import { loginAs, type TestServer } from '../helpers/server.js';
import { relaxLimits, requireToolchain } from './native-guests.js';

const test = suite('plugins: hearth plugin dev');

/** Resolves with the next 'reloaded' or 'failed' event. */
function next(session: NodeJS.EventEmitter): Promise<{ kind: 'reloaded' | 'failed'; message?: string }> {
  return new Promise((resolve) => {
    const done = (kind: 'reloaded' | 'failed') => (e: { message?: string }) => {
      session.off('reloaded', ok);
      session.off('failed', bad);
      resolve({ kind, ...(e.message ? { message: e.message } : {}) });
    };
    const ok = done('reloaded');
    const bad = done('failed');
    session.on('reloaded', ok);
    session.on('failed', bad);
  });
}

test('build, install and hot-reload on a local server in one step; a broken edit keeps the last good version', async () => {
  await requireToolchain('c');
  const tmp = mkdtempSync(join(tmpdir(), 'hearth-plugin-dev-'));
  const lines: string[] = [];
  const out = { write: (s: string) => lines.push(s) };
  try {
    const dir = await pluginNew('dev-bot', 'bot', tmp, out, 'c');
    relaxLimits(join(dir, 'manifest.json'));
    const session = await pluginDev(dir, { dataDir: join(tmp, 'data'), port: 0, debounceMs: 50 }, out);
    try {
      await session.idle();
      assert.ok(session.server, 'a local server runs');
      const t = { server: session.server!, dataDir: join(tmp, 'data'), port: session.port, fingerprint: session.fingerprint } as unknown as TestServer;
      const a = await loginAs(t, 'amy');
      try {
        assert.is((await a.request<{ reply: string }>('chat.send', { channelId: 1, text: '/hello' })).reply, 'Hello, amy!');
        const src = join(dir, 'index.c');
        let reloaded = next(session);
        writeFileSync(src, readFileSync(src, 'utf8').replace('"Hello, "', '"Howdy, "'));
        assert.is((await reloaded).kind, 'reloaded');
        assert.is((await a.request<{ reply: string }>('chat.send', { channelId: 1, text: '/hello' })).reply, 'Howdy, amy!', 'the edited version answers');
        const failed = next(session);
        writeFileSync(src, readFileSync(src, 'utf8').replace('HEARTH_HOOK(on_command) {', 'HEARTH_HOOK(on_command) { syntax error here'));
        const f = await failed;
        assert.is(f.kind, 'failed');
        assert.match(f.message ?? '', /does not compile/);
        assert.is((await a.request<{ reply: string }>('chat.send', { channelId: 1, text: '/hello' })).reply, 'Howdy, amy!', 'the last good version keeps running');
        reloaded = next(session);
        writeFileSync(src, readFileSync(src, 'utf8').replace(' syntax error here', '').replace('"Howdy, "', '"Hey, "'));
        assert.is((await reloaded).kind, 'reloaded');
        assert.is((await a.request<{ reply: string }>('chat.send', { channelId: 1, text: '/hello' })).reply, 'Hey, amy!');
      } finally {
        a.close();
      }
    } finally {
      await session.stop();
    }
    assert.match(lines.join(''), /local server on 127\.0\.0\.1:/);
    assert.match(lines.join(''), /reloaded dev-bot/);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

test.run();
