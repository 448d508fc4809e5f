// Hostile guests: each kind of misbehaviour is contained (stopped, logged,
// disabled, reported) and the healthy neighbour plugin keeps answering.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import createPlugin from '@extism/extism';
import { PluginError } from '../../host/plugins/errors.js';
import { CommandOutput } from '../../host/plugins/hooks.js';
import type { PluginHost } from '../../host/plugins/runtime.js';
import { hostWithNoop, neighbourAnswers, nextFault, testGuestWasm, testManifest, user, type CapturedLogger } from './helpers.js';

const test = suite('plugins: hostile guests');

let host: PluginHost;
let log: CapturedLogger;

test.before.each(async () => {
  ({ host, log } = await hostWithNoop({ loadTimeoutMs: 1500 }));
});

test.after.each(async () => {
  await host.close();
});

const chatEvent = (text = 'hello') => ({ channelId: 1, user, text, ts: Date.now() });

test('a guest that loops forever is bypassed at callMs, killed at killMs, disabled and reported', async () => {
  await host.load({
    manifest: testManifest('loop', { hooks: ['on_chat', 'on_timer'], capabilities: ['chat.intercept'], limits: { callMs: 20, killMs: 300 } }),
    wasm: testGuestWasm('loop'),
    grants: ['chat.intercept'],
  });
  const fault = nextFault(host, 'loop');
  const started = Date.now();
  // Chat is not held up: the looping filter is bypassed after callMs (fail-open).
  const decision = await host.chat(chatEvent('anyone there?'));
  assert.equal(decision, { action: 'allow' });
  assert.ok(Date.now() - started < 250, `chat answered in ${Date.now() - started} ms`);
  assert.ok(await neighbourAnswers(host), 'noop answers while the loop spins');
  const f = await fault;
  assert.is(f.kind, 'timeout');
  assert.is(f.hook, 'on_chat');
  assert.ok(Date.now() - started >= 300, 'killed at killMs, not before');
  assert.is(host.info('loop').state, 'disabled');
  assert.is(host.info('loop').stats.late, 1);
  assert.ok(log.atLeast(50).some((l) => l.plugin === 'loop' && /timeout/.test(l.msg)), 'fault logged at error level');
  assert.ok(await neighbourAnswers(host));
  // Disabled means not called any more.
  assert.equal(await host.callJson('loop', 'on_timer', { tick: 1, now: 0 }, CommandOutput), { status: 'skipped' });
});

test('a guest whose start function loops forever fails to load (LOAD_TIMEOUT)', async () => {
  const err = await host
    .load({ manifest: testManifest('startloop', { hooks: ['on_chat'], capabilities: ['chat.intercept'] }), wasm: testGuestWasm('startloop'), grants: ['chat.intercept'] })
    .then(() => null, (e: unknown) => e);
  assert.instance(err, PluginError);
  assert.is((err as PluginError).code, 'LOAD_TIMEOUT');
  assert.equal(host.list().map((p) => p.id), ['noop']);
  assert.ok(await neighbourAnswers(host));
});

test('a memory bomb traps at the Wasm memory cap and never exceeds it', async () => {
  await host.load({
    manifest: testManifest('bomb', { hooks: ['on_chat', 'on_command'], capabilities: ['chat.intercept'], commands: ['grow', 'hostalloc'], limits: { memoryMiB: 4 } }),
    wasm: testGuestWasm('bomb'),
    grants: ['chat.intercept'],
  });
  // memory.grow past the cap simply fails (-1); the guest keeps running.
  const grow = await host.command({ command: 'grow', args: '1000', user, channelId: 1, ts: 0 });
  assert.ok(grow, 'grow answered');
  const g = JSON.parse(grow!.reply) as { before: number; result: number; after: number };
  assert.is(g.result, -1, 'memory.grow(1000 pages) refused');
  assert.ok(g.after <= 64, `memory stays within 64 pages (${g.after})`);

  const fault = nextFault(host, 'bomb');
  await host.chat(chatEvent());
  const f = await fault;
  assert.is(f.kind, 'memory');
  assert.ok(f.memoryKiB! <= 4096, `guest memory ${f.memoryKiB} KiB <= 4096 KiB cap`);
  assert.ok(f.memoryKiB! >= 3072, `it did grow up to the cap (${f.memoryKiB} KiB)`);
  assert.is(host.info('bomb').state, 'disabled');
  assert.ok(await neighbourAnswers(host));
});

test('host-side allocations (Extism alloc) are capped per call too', async () => {
  await host.load({
    manifest: testManifest('bomb', { hooks: ['on_chat', 'on_command'], capabilities: ['chat.intercept'], commands: ['grow', 'hostalloc'], limits: { memoryMiB: 4 } }),
    wasm: testGuestWasm('bomb'),
    grants: ['chat.intercept'],
  });
  const fault = nextFault(host, 'bomb');
  assert.is(await host.command({ command: 'hostalloc', args: '', user, channelId: 1, ts: 0 }), null);
  const f = await fault;
  assert.is(f.kind, 'memory');
  assert.match(f.message, /host memory limit/);
  assert.ok(await neighbourAnswers(host));
});

test('traps (abort, unreachable, out-of-bounds) disable the plugin with the reason; enable() restarts it', async () => {
  await host.load({
    manifest: testManifest('trap', { hooks: ['on_chat', 'on_timer', 'on_command'], capabilities: ['chat.intercept'], commands: ['oob'] }),
    wasm: testGuestWasm('trap'),
    grants: ['chat.intercept'],
  });
  let fault = nextFault(host, 'trap');
  assert.equal(await host.chat(chatEvent()), { action: 'allow' }, 'the message still goes through');
  let f = await fault;
  assert.is(f.kind, 'trap');
  assert.match(f.message, /boom/, 'the abort message reaches the report');
  assert.ok(await neighbourAnswers(host));

  await host.enable('trap');
  fault = nextFault(host, 'trap');
  const t = await host.callJson('trap', 'on_timer', { tick: 1, now: 0 }, CommandOutput, true);
  assert.is(t.status, 'fault');
  f = await fault;
  assert.is(f.kind, 'trap');
  assert.match(f.message, /unreachable/);

  await host.enable('trap');
  fault = nextFault(host, 'trap');
  assert.is(await host.command({ command: 'oob', args: '', user, channelId: 1, ts: 0 }), null);
  f = await fault;
  assert.match(f.message, /out of bounds/);
  assert.is(host.info('trap').stats.faults, 3);
  assert.ok(await neighbourAnswers(host));
});

test('malformed output (not JSON / wrong shape) is a fault', async () => {
  await host.load({
    manifest: testManifest('badjson', { hooks: ['on_chat', 'on_command'], capabilities: ['chat.intercept'], commands: ['bad'] }),
    wasm: testGuestWasm('badjson'),
    grants: ['chat.intercept'],
  });
  let fault = nextFault(host, 'badjson');
  assert.equal(await host.chat(chatEvent()), { action: 'allow' });
  let f = await fault;
  assert.is(f.kind, 'bad_output');
  assert.match(f.message, /not JSON/);

  await host.enable('badjson');
  fault = nextFault(host, 'badjson');
  assert.is(await host.command({ command: 'bad', args: '', user, channelId: 1, ts: 0 }), null);
  f = await fault;
  assert.is(f.kind, 'bad_output');
  assert.match(f.message, /reply/);
  assert.ok(await neighbourAnswers(host));
});

test('host functions that were not granted reply CAPABILITY_DENIED and log a warning', async () => {
  const actions: unknown[] = [];
  host.on('action', (a) => actions.push(a));
  await host.load({
    manifest: testManifest('denied', {
      hooks: ['on_command'],
      commands: ['probe'],
      capabilities: ['log', 'storage', 'chat.inject', 'moderation', 'state.read', 'config.read'],
    }),
    wasm: testGuestWasm('denied'),
    grants: ['log'], // the admin approved only "log"
  });
  const r = await host.command({ command: 'probe', args: '', user, channelId: 1, ts: 0 });
  assert.ok(r, 'probe answered');
  const replies = JSON.parse(r!.reply) as Record<string, unknown>[];
  const [stateRead, chatSend, kvSet, kvGet, moderate, configGet, logReply] = replies;
  for (const [reply, fn, cap] of [
    [stateRead, 'hearth_state_read', 'state.read'],
    [chatSend, 'hearth_chat_send', 'chat.inject'],
    [kvSet, 'hearth_kv_set', 'storage'],
    [kvGet, 'hearth_kv_get', 'storage'],
    [moderate, 'hearth_moderate', 'moderation'],
    [configGet, 'hearth_config_get', 'config.read'],
  ] as const) {
    assert.is(reply!.error, 'CAPABILITY_DENIED', `${fn} denied`);
    assert.is(reply!.function, fn);
    assert.is(reply!.capability, cap);
  }
  assert.equal(logReply, { ok: true }, 'the granted one works');
  assert.equal(actions, [], 'nothing was sent or moderated');
  const warnings = log.atLeast(40).filter((l) => l.plugin === 'denied' && /capability/.test(l.msg));
  assert.is(warnings.length, 6, 'one warning per denied call');
  assert.ok(log.lines.some((l) => l.plugin === 'denied' && /hello from denied/.test(l.msg)), 'the granted log line arrived');
  assert.is(host.info('denied').state, 'running', 'a denied call is not a fault');
  assert.ok(await neighbourAnswers(host));
});

test('a guest importing WASI is refused; Extism would refuse it as well', async () => {
  const wasm = testGuestWasm('wasi');
  const err = await host
    .load({ manifest: testManifest('wasi', { hooks: ['on_command'], commands: ['open'] }), wasm, grants: [] })
    .then(() => null, (e: unknown) => e);
  assert.instance(err, PluginError);
  assert.is((err as PluginError).code, 'FORBIDDEN_IMPORT');
  assert.match((err as Error).message, /wasi_snapshot_preview1\.(path_open|fd_write).*WASI is not available/);
  // Second line of defence, without Hearth's import check: Extism with useWasi false.
  const direct = await createPlugin({ wasm: [{ data: wasm }] }, { useWasi: false, allowedPaths: {}, allowedHosts: [] }).then(
    () => null,
    (e: unknown) => e,
  );
  assert.match(String((direct as Error)?.message), /WASI is not enabled/);
  assert.ok(await neighbourAnswers(host));
});

test('a guest calling http_request gets NETWORK_DENIED and no request leaves the host', async () => {
  let hits = 0;
  const server: Server = createServer((_req, res) => {
    hits++;
    res.end('secret');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/steal`;
    await host.load({ manifest: testManifest('network', { hooks: ['on_command'], commands: ['fetch'] }), wasm: testGuestWasm('network'), grants: [] });
    const r = await host.command({ command: 'fetch', args: url, user, channelId: 1, ts: 0 });
    assert.ok(r, 'the guest answered');
    const reply = JSON.parse(r!.reply) as { status: number; body: string };
    assert.is(reply.status, 0);
    assert.match(reply.body, /NETWORK_DENIED/);
    assert.not.match(reply.body, /secret/);
    assert.is(hits, 0, 'the server saw no request');
    assert.ok(log.atLeast(40).some((l) => l.plugin === 'network' && /HTTP request/.test(l.msg) && l.url === url), 'the attempt is logged with its URL');
    assert.ok(await neighbourAnswers(host));
  } finally {
    await new Promise((r) => server.close(r));
  }
});

test.run();
