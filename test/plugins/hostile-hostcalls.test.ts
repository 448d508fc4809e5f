// Hostile sweep, issue 11 items 2 and 6: host-function replies count against
// the guest's memory cap; host-call arguments are validated as strictly as
// protocol messages; a refused kick says why. On the code before this change:
// 20,000 kv_get replies of 60 KB in one call of a memoryMiB 4 guest grew the
// process by ~1 GB (string stores skipped every check), channelId 1e300 was
// accepted (and posted to the root channel), and a kick of an admin was "ok".
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { PluginAction, PluginHost } from '../../host/plugins/runtime.js';
import { hostWithNoop, neighbourAnswers, nextFault, testGuestWasm, testManifest, user, type CapturedLogger } from './helpers.js';

const test = suite('plugins: hostile host calls');

let host: PluginHost;
let log: CapturedLogger;
let actions: PluginAction[];

test.before.each(async () => {
  ({ host, log } = await hostWithNoop());
  actions = [];
  host.on('action', (a: PluginAction) => actions.push(a));
});
test.after.each(async () => {
  await host.close();
});

const MIB = 1024 * 1024;

async function probe(capabilities: string[], limits: Record<string, number> = {}): Promise<void> {
  await host.load({
    manifest: testManifest('probe', { hooks: ['on_command'], commands: ['call', 'kvflood'], capabilities: capabilities as never, limits: { callMs: 5000, killMs: 20_000, ...limits } }),
    wasm: testGuestWasm('probe'),
    grants: capabilities,
  });
}

async function call(fn: string, json: unknown): Promise<Record<string, unknown>> {
  const r = await host.command({ command: 'call', args: `${fn} ${JSON.stringify(json)}`, user, channelId: 1, ts: 0 });
  assert.ok(r, `${fn} answered`);
  return JSON.parse(r!.reply) as Record<string, unknown>;
}

test('20,000 kv_get replies of 60 KB in one call stop the call at the memory cap; the process does not grow', async () => {
  await probe(['storage'], { memoryMiB: 4, storageKiB: 128 });
  global.gc?.();
  const before = process.memoryUsage().rss;
  let peak = before;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
  const fault = nextFault(host, 'probe', 25_000);
  const r = await host.command({ command: 'kvflood', args: '20000', user, channelId: 1, ts: 0 });
  assert.is(r, null, 'no reply: the call was stopped');
  const f = await fault;
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage().rss);
  assert.is(f.kind, 'memory');
  assert.match(f.message, /host memory limit: the reply of hearth_kv_get .* \(limit 4194304, limits\.memoryMiB\)/);
  // Without the check the replies alone are 20,000 x 60 KB = 1.2 GB; the bound is generous on purpose.
  const grewMiB = (peak - before) / MIB;
  assert.ok(grewMiB < 200, `the process grew by ${grewMiB.toFixed(0)} MiB during the call`);
  assert.ok(await neighbourAnswers(host));
});

test('a host reply that fits is still answered (the budget is per call)', async () => {
  await probe(['storage'], { memoryMiB: 4, storageKiB: 128 });
  const r = await host.command({ command: 'kvflood', args: '30', user, channelId: 1, ts: 0 });
  assert.match(r!.reply, /^survived 30 reads of 1800\d+ bytes/);
  const again = await host.command({ command: 'kvflood', args: '30', user, channelId: 1, ts: 0 });
  assert.match(again!.reply, /^survived 30/, 'the next call has its own budget');
});

test('host-call arguments are validated as strictly as protocol messages', async () => {
  await probe(['chat.inject', 'moderation', 'storage']);
  host.publishState({ channels: [{ id: 1, name: 'Root', parentId: null }, { id: 2, name: 'Talk', parentId: 1 }], users: [{ id: 1, name: 'ann', channelId: 1, role: 'member' }] });
  for (const bad of [{ text: 'hi', channelId: 1e300 }, { text: 'hi', channelId: 1.5 }, { text: 'hi', channelId: -1 }, { text: '' }, { text: 7 }]) {
    const reply = await call('chat_send', bad);
    assert.is(reply.error, 'BAD_REQUEST', JSON.stringify(bad));
  }
  assert.equal(await call('chat_send', { text: 'hi', channelId: 99 }), { error: 'NOT_FOUND', message: 'there is no channel 99' });
  assert.equal(await call('chat_send', { text: 'hi', channelId: 2 }), { ok: true, queued: true });
  assert.is((await call('moderate', { action: 'kick', userId: 2 ** 40 })).error, 'BAD_REQUEST');
  assert.is((await call('moderate', { action: 'ban', userId: 1 })).error, 'BAD_REQUEST');
  assert.is((await call('kv_set', { key: 'k'.repeat(300), value: 'v' })).error, 'BAD_REQUEST');
  assert.equal(
    actions.map((a) => a.effect),
    [{ kind: 'chat.send', text: 'hi', channelId: 2 }],
    'only the valid request became an action',
  );
});

test("a plugin's kick of an admin (or of nobody) is refused with the reason", async () => {
  await probe(['moderation']);
  host.publishState({ channels: [{ id: 1, name: 'Root', parentId: null }], users: [{ id: 1, name: 'root', channelId: 1, role: 'admin' }, { id: 2, name: 'ann', channelId: 1, role: 'member' }] });
  const admin = await call('moderate', { action: 'kick', userId: 1, reason: 'x' });
  assert.is(admin.error, 'FORBIDDEN');
  assert.match(String(admin.message), /admin: plugins never kick or mute an admin/);
  const absent = await call('moderate', { action: 'mute', userId: 9 });
  assert.is(absent.error, 'NOT_ONLINE');
  assert.equal(await call('moderate', { action: 'kick', userId: 2 }), { ok: true, queued: true });
  assert.equal(actions.map((a) => a.effect), [{ kind: 'moderation', action: 'kick', userId: 2, reason: '' }]);
  void log;
});

test.run();
