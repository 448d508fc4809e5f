// The core's settings live in settings.json: read at start, written back on
// change; a corrupt file is reported, the core runs on defaults, and the file
// is never overwritten behind the user's back.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ClientConfigStore } from '../../../host/client/core/config-store.js';
import { startCore } from '../../helpers/client.js';
import { tempDir } from '../../helpers/server.js';

test('changes are saved to settings.json and a new core starts with them', async () => {
  const store = new ClientConfigStore(tempDir('hearth-settings-'));
  const a = await startCore({ store });
  a.push({ type: 'voice.mode', mode: 'ptt' });
  a.push({ type: 'user.volume', username: 'bob', volume: 0.5, pan: -0.5 });
  a.push({ type: 'output.volume', volume: 0.8 });
  await a.state.until((s) => s.audio.mode === 'ptt');
  await new Promise((r) => setTimeout(r, 50));
  await a.close();
  const saved = store.loadSettings();
  assert.is(saved.voice.mode, 'ptt');
  assert.equal(saved.users.bob, { volume: 0.5, muted: false, pan: -0.5 });
  assert.is(saved.output.volume, 0.8);
  const b = await startCore({ store });
  try {
    const s = await b.state.until((x) => x.audio.mode === 'ptt', 2000);
    assert.is(s.audio.mode, 'ptt');
    assert.is(s.audio.outputVolume, 0.8, 'the state shows the saved output volume (the page draws its slider from it)');
  } finally {
    await b.close();
  }
});

test('a corrupt settings.json: a clear error, defaults, and the file left untouched', async () => {
  const dir = tempDir('hearth-settings-');
  const store = new ClientConfigStore(dir);
  const file = join(dir, 'settings.json');
  writeFileSync(file, '{"voice": {"mode": "shout"}');
  const before = readFileSync(file, 'utf8');
  const a = await startCore({ store });
  try {
    const s = await a.state.until((x) => x.errors.some((e) => e.code === 'CONFIG_INVALID'), 2000);
    assert.match(s.errors.find((e) => e.code === 'CONFIG_INVALID')!.message, /settings\.json/);
    assert.is(s.audio.mode, 'vad', 'defaults');
    a.push({ type: 'voice.mode', mode: 'continuous' });
    await a.state.until((x) => x.errors.some((e) => e.code === 'CONFIG_NOT_SAVED'), 2000);
    assert.is(a.state.get().audio.mode, 'continuous', 'the change still applies for this run');
    assert.is(readFileSync(file, 'utf8'), before, 'not overwritten');
  } finally {
    await a.close();
  }
});

test.run();
