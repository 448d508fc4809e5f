// Hostile sweep, issue 11 item 1: a plugin whose load crashed or hung its
// sandbox is marked faulty in the database and not loaded again until the
// admin re-enables it; the server starts regardless, also when a plugin's
// load took the previous server process down (the crash marker).
// On the code before this change: there is no fault mark (the crashing guest
// was retried at every poll) and no crash marker (a plugin that kills the
// process at load killed it again at every start).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { pluginSetEnabled } from '../../host/cli/plugin-admin.js';
import { eventually, loginAs, startServer, tempDir } from '../helpers/server.js';
import { guest, install, stdoutOf } from './server-helpers.js';
import { pluginList } from '../../host/cli/plugin-admin.js';
import { guestWasm } from './helpers.js';
import { installPlugin, readPluginSource } from '../../host/server/plugins/installed.js';
import { join } from 'node:path';
import { repoRoot } from './helpers.js';
import { sha256Hex } from '../../host/plugins/manifest.js';

const test = suite('plugins: faulty plugins in a live server');

const crashstart = guest('crashstart', {
  hooks: ['on_command'],
  commands: ['crashstart'],
  capabilities: ['storage'],
  limits: { memoryMiB: 128, storageKiB: 65536 },
});

test('a guest that crashes its sandbox at load is marked faulty, not retried, and the server restarts fine with it installed', async () => {
  const dataDir = tempDir();
  let t = await startServer({ plugins: { pollMs: 100, timerMs: 1000 } }, dataDir);
  try {
    let loads = 0;
    const load = t.server.plugins!.host.load.bind(t.server.plugins!.host);
    t.server.plugins!.host.load = (req) => (loads++, load(req));
    await install(t, crashstart);
    const rec = await eventually(() => {
      const r = t.server.store.plugins.get('crashstart');
      return r?.faulty ? r : null;
    }, 15_000, 'crashstart marked faulty');
    assert.match(rec.lastFault!.kind, /^load:LOAD_(CRASHED|TIMEOUT)$/);
    assert.is(rec.runtimeState, 'faulty');
    assert.is(rec.loadingSha256, null, 'the crash marker is cleared after the load');
    // Many polls later it was still tried once only.
    for (let i = 0; i < 10; i++) await t.server.plugins!.sync();
    assert.is(loads, 1, 'not loaded again');
    const listed = await stdoutOf(() => pluginList(dataDir));
    assert.match(listed, /crashstart .*faulty \(hearth plugin enable crashstart to try again\): .*(sandbox thread|did not finish loading)/);

    // A restart with it installed: the server starts and does not load it.
    await t.stop({ keepData: true });
    t = await startServer({ plugins: { pollMs: 100, timerMs: 1000 } }, dataDir);
    const c = await loginAs(t, 'amy');
    assert.type((await c.request<{ serverTime: number }>('ping')).serverTime, 'number');
    assert.not.ok(t.server.plugins!.list().some((p) => p.id === 'crashstart'));
    assert.ok(t.server.store.plugins.get('crashstart')!.faulty, 'still faulty after the restart');
    c.close();

    // The admin re-enables it: the mark is cleared and the server tries once more.
    const said = await stdoutOf(() => pluginSetEnabled(dataDir, 'crashstart', true));
    assert.match(said, /fault mark is cleared/);
    assert.not.ok(t.server.store.plugins.get('crashstart')!.faulty);
    await eventually(() => t.server.store.plugins.get('crashstart')?.faulty, 15_000, 'faulty again after the retry');
  } finally {
    await t.stop();
  }
});

test('a load the server did not survive (crash marker still set at start-up) marks that plugin faulty; the server starts', async () => {
  const dataDir = tempDir();
  let t = await startServer({ plugins: { pollMs: 100, timerMs: 1000 } }, dataDir);
  try {
    const files = await readPluginSource(join(repoRoot, 'manifests', 'noop.json'));
    await installPlugin(dataDir, t.server.store, files, ['chat.intercept']);
    await t.server.plugins!.sync();
    assert.ok(t.server.plugins!.list().some((p) => p.id === 'noop' && p.state === 'running'));
    await t.stop({ keepData: true });
    // What a process killed in the middle of host.load() leaves behind.
    t = await startServer({ plugins: { enabled: false } }, dataDir);
    t.server.store.plugins.setLoading('noop', sha256Hex(guestWasm('noop')));
    await t.stop({ keepData: true });
    t = await startServer({ plugins: { pollMs: 100, timerMs: 1000 } }, dataDir);
    const rec = t.server.store.plugins.get('noop')!;
    assert.ok(rec.faulty);
    assert.is(rec.lastFault?.kind, 'load:CRASHED_SERVER');
    assert.match(rec.lastFault!.message, /server stopped while loading this plugin/);
    assert.not.ok(t.server.plugins!.list().some((p) => p.id === 'noop'), 'not loaded');
    const c = await loginAs(t, 'amy');
    assert.type((await c.request<{ serverTime: number }>('ping')).serverTime, 'number');
    c.close();
  } finally {
    await t.stop();
  }
});

test.run();
