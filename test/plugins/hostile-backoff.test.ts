// Hostile sweep, issue 11 item 4: load failures are remembered per wasm and
// backed off (a hung load marks the plugin faulty), `hearth plugin list`
// shows the runtime state and the last fault, a plugin's log lines (its own
// and the host's warnings about it) are rate-limited per plugin, and fault
// messages are cut to 1 KiB. On the code before this change: startloop and
// the out-of-bounds data segment were retried at every poll, `plugin list`
// said "ok", host warnings were not limited, a 1 MB error_set was a 1 MB line.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { pluginList } from '../../host/cli/plugin-admin.js';
import { LOG_BURST, LOG_RATE, TEXT_CAP } from '../../host/plugins/plugin-log.js';
import { eventually, startServer, type TestServer } from '../helpers/server.js';
import { hostWithNoop, nextFault, testGuestWasm, testManifest, user } from './helpers.js';
import { guest, install, oobData, stdoutOf } from './server-helpers.js';

const test = suite('plugins: load backoff, plugin list, log limits');

function countLoads(t: TestServer): () => number {
  let loads = 0;
  const host = t.server.plugins!.host;
  const load = host.load.bind(host);
  host.load = (req) => (loads++, load(req));
  return () => loads;
}

test('startloop (a start function that loops) is tried once, marked faulty, and shown so by plugin list', async () => {
  const t = await startServer({ plugins: { pollMs: 100, timerMs: 1000 } });
  try {
    const loads = countLoads(t);
    await install(t, guest('startloop', { hooks: ['on_chat'], capabilities: ['chat.intercept'] }));
    await eventually(() => t.server.store.plugins.get('startloop')?.faulty, 10_000, 'marked faulty');
    for (let i = 0; i < 10; i++) await t.server.plugins!.sync();
    assert.is(loads(), 1, 'one attempt, not one per poll');
    const listed = await stdoutOf(() => pluginList(t.dataDir));
    assert.match(listed, /startloop .*faulty \(hearth plugin enable startloop to try again\): .*did not finish loading/);
    assert.not.match(listed, /startloop .* ok$/m);
  } finally {
    await t.stop();
  }
});

test('a load that fails the same way is backed off for that wasm; plugin list shows the failure and the next attempt', async () => {
  const t = await startServer({ plugins: { pollMs: 100, timerMs: 1000 } });
  try {
    const loads = countLoads(t);
    await install(t, { id: 'oob', wasm: oobData(), hooks: ['on_command'] });
    for (let i = 0; i < 20; i++) await t.server.plugins!.sync();
    const rec = t.server.store.plugins.get('oob')!;
    assert.is(rec.runtimeState, 'failed');
    assert.is(rec.failures, 1);
    assert.ok(rec.retryAt! > Date.now(), 'the next attempt is later');
    assert.is(loads(), 1, 'tried once, not at every poll');
    const listed = await stdoutOf(() => pluginList(t.dataDir));
    assert.match(listed, /oob .*failed 1x, next attempt in \d+ s: .*outside its initial memory/);
  } finally {
    await t.stop();
  }
});

test("the host's warnings about a plugin are rate-limited per plugin, with a count of what was suppressed", async () => {
  const { host, log } = await hostWithNoop();
  try {
    // "log" not granted: every hearth_log call is a host warning (capability denied).
    await host.load({ manifest: testManifest('probe', { hooks: ['on_command'], commands: ['logs'], capabilities: ['log'], limits: { callMs: 5000, killMs: 10_000 } }), wasm: testGuestWasm('probe'), grants: [] });
    const started = performance.now();
    for (let i = 0; i < 20; i++) await host.command({ command: 'logs', args: '40', user, channelId: 1, ts: 0 });
    const elapsedS = (performance.now() - started) / 1000;
    const lines = log.lines.filter((l) => l.plugin === 'probe' && l.source !== undefined);
    // 20 calls x (32 warnings + a note about the rest) = 660 lines without the limit.
    assert.ok(lines.length <= LOG_BURST + LOG_RATE * elapsedS + 1, `${lines.length} lines in ${elapsedS.toFixed(2)} s`);
    await new Promise((r) => setTimeout(r, 200));
    await host.command({ command: 'logs', args: '1', user, channelId: 1, ts: 0 });
    // Each line that passes after some were suppressed is preceded by one note with their count.
    const notes = log.lines.filter((l) => l.plugin === 'probe' && /log lines suppressed/.test(l.msg));
    assert.ok(notes.length > 0, 'a line says how many were suppressed');
    const suppressed = notes.reduce((n, l) => n + (l.suppressed as number), 0);
    assert.ok(suppressed + lines.length >= 600, `${suppressed} suppressed + ${lines.length} written`);
  } finally {
    await host.close();
  }
});

test('a 1 MB error_set becomes a fault message (and a log line) of about 1 KiB', async () => {
  const { host, log } = await hostWithNoop();
  try {
    await host.load({ manifest: testManifest('probe', { hooks: ['on_command'], commands: ['errbig'], limits: { memoryMiB: 8, callMs: 2000, killMs: 5000 } }), wasm: testGuestWasm('probe'), grants: [] });
    const fault = nextFault(host, 'probe');
    await host.command({ command: 'errbig', args: '1000000', user, channelId: 1, ts: 0 });
    const f = await fault;
    assert.is(f.kind, 'guest_error');
    assert.ok(f.message.length < TEXT_CAP + 200, `fault message of ${f.message.length} characters`);
    assert.match(f.message, /more characters cut/);
    const longest = Math.max(...log.lines.filter((l) => l.plugin === 'probe').map((l) => JSON.stringify(l).length));
    assert.ok(longest < 2 * TEXT_CAP + 500, `longest log line ${longest} characters`);
  } finally {
    await host.close();
  }
});

test.run();
