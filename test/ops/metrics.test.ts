// The metrics endpoint of a real server over real HTTP: two clients talk over
// the voice lane, one is kicked, a login fails, plugins are called and one
// faults; the counters and gauges must move accordingly. Also the endpoint's
// conventions (names, types, no per-user label) and health answers.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ControlClient } from '../../host/client/control/control-client.js';
import { VoiceTransport, type ReceivedVoice } from '../../host/client/audio/voice-transport.js';
import type { ChannelView, WelcomeResult } from '../../host/protocol/server-messages.js';
import { installPlugin, readPluginSource } from '../../host/server/plugins/installed.js';
import { sha256Hex } from '../../host/plugins/manifest.js';
import { connect, createUser, eventually, expectError, PASSWORD, startServer, tempDir, type TestServer } from '../helpers/server.js';
import { MAIN_JS, parseMetrics, scrape, v } from './ops-helpers.js';

const repoRoot = join(MAIN_JS, '..', '..', '..', '..');

interface Peer {
  control: ControlClient;
  voice: VoiceTransport;
  welcome: WelcomeResult;
  heard: ReceivedVoice[];
}

async function peer(t: TestServer, name: string, role: 'member' | 'moderator'): Promise<Peer> {
  await createUser(t, name, role);
  const control = await connect(t);
  const welcome = await control.login(name, PASSWORD);
  const voice = await new VoiceTransport(control, welcome.voice!, { udpHost: '127.0.0.1' }).start();
  const heard: ReceivedVoice[] = [];
  voice.on('voice', (x: ReceivedVoice) => heard.push(x));
  return { control, voice, welcome, heard };
}

/** Installs a hostile test guest (a trap on every chat message). */
async function installTrap(t: TestServer): Promise<void> {
  const dir = tempDir('hearth-guest-');
  const wasm = join(repoRoot, 'test', 'plugins', 'guests', 'build', 'trap.wasm');
  copyFileSync(wasm, join(dir, 'trap.wasm'));
  const manifest = {
    manifestVersion: 1,
    id: 'trap',
    name: 'hostile trap',
    version: '0.0.1',
    wasm: { file: 'trap.wasm', sha256: sha256Hex(readFileSync(wasm)) },
    hooks: ['on_chat'],
    capabilities: ['chat.intercept'],
    commands: [],
    limits: { memoryMiB: 4, callMs: 30, killMs: 300, overrunLimit: 3, storageKiB: 16 },
  };
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
  await installPlugin(t.dataDir, t.server.store, await readPluginSource(join(dir, 'manifest.json')), ['chat.intercept']);
}

const test = suite('metrics endpoint');

test('counters and gauges follow two talking clients, a failed login, plugins and a kick', async () => {
  const t = await startServer({ metrics: { listen: '127.0.0.1:0' }, plugins: { pollMs: 200, timerMs: 1000 } });
  const base = `http://127.0.0.1:${t.server.metricsAddress!.port}`;
  const peers: Peer[] = [];
  try {
    const health = await fetch(`${base}/healthz`);
    assert.is(health.status, 200);
    assert.is(((await health.json()) as { status: string }).status, 'ok');
    const ready = await fetch(`${base}/readyz`);
    assert.is(ready.status, 200, 'ready once listening');

    const alice = await peer(t, 'alice', 'moderator');
    const bob = await peer(t, 'bob', 'member');
    peers.push(alice, bob);
    const room = (await alice.control.request<{ channel: ChannelView }>('channel.create', { parentId: 1, name: 'Room' })).channel;
    await alice.control.request('channel.join', { channelId: room.id });
    await bob.control.request('channel.join', { channelId: room.id });
    await eventually(() => alice.voice.counters.keepaliveAnswers > 0 && bob.voice.counters.keepaliveAnswers > 0, 5000, 'UDP up');
    await eventually(() => t.server.voice.voiceSessions.size === 2 && [...t.server.voice.voiceSessions.values()].every((s) => s.udpActive), 5000, 'server sees UDP');

    const s1 = await scrape(base);
    assert.is(v(s1, 'hearth_sessions_online'), 2);
    assert.is(v(s1, `hearth_channel_sessions{channel="${room.id}"}`), 2);
    assert.is(v(s1, 'hearth_channel_sessions{channel="1"}'), 0, 'an empty channel reads 0');
    assert.is(v(s1, 'hearth_sessions_started_total'), 2);
    assert.is(v(s1, 'hearth_voice_sessions{transport="udp"}'), 2);
    assert.is(v(s1, 'hearth_voice_sessions{transport="tls"}'), 0);

    // Voice: 25 frames from alice, all heard by bob.
    for (let i = 0; i < 25; i++) alice.voice.sendVoice(Buffer.from(`frame-${i}`.padEnd(100, '.')));
    await eventually(() => bob.heard.length >= 25, 5000, 'bob hears alice');
    const s2 = await scrape(base);
    assert.ok(v(s2, 'hearth_voice_packets_forwarded_total{transport="udp"}') - v(s1, 'hearth_voice_packets_forwarded_total{transport="udp"}') >= 25, 'forwarded rose by the frames');
    assert.ok(v(s2, 'hearth_voice_datagrams_received_total') - v(s1, 'hearth_voice_datagrams_received_total') >= 25, 'received rose');
    assert.ok(v(s2, 'hearth_voice_forward_seconds_count') - v(s1, 'hearth_voice_forward_seconds_count') >= 25, 'every forward timed');
    assert.is(v(s2, 'hearth_voice_forward_seconds_bucket{le="+Inf"}'), v(s2, 'hearth_voice_forward_seconds_count'));
    assert.ok(v(s2, 'hearth_voice_forward_seconds_sum') > 0);
    assert.ok(s2.has('hearth_voice_datagrams_dropped_total{reason="kernelReceiveBuffer"}'), 'kernel drops are a reason');

    // A muted speaker's packets are dropped by reason.
    await alice.control.request('presence.set', { selfMute: true });
    alice.voice.sendVoice(Buffer.from('muted'.padEnd(100, '.')));
    await eventually(() => t.server.voice.stats.dropped.muted > 0, 3000, 'muted drop');
    assert.ok(v(await scrape(base), 'hearth_voice_datagrams_dropped_total{reason="muted"}') >= 1);
    await alice.control.request('presence.set', { selfMute: false });

    // A failed login.
    const stranger = await connect(t);
    await expectError(stranger.login('alice', 'wrong password!'), 'AUTH_FAILED');
    stranger.close();
    assert.is(v(await scrape(base), 'hearth_login_failures_total'), 1);

    // Plugins: a no-op filter is called; a trapping one faults and is disabled.
    const noop = await readPluginSource(join(repoRoot, 'manifests', 'noop.json'));
    await installPlugin(t.dataDir, t.server.store, noop, ['chat.intercept']);
    await installTrap(t);
    await t.server.plugins!.sync();
    await alice.control.request('chat.send', { channelId: room.id, text: 'hello plugins' });
    await eventually(() => t.server.plugins!.list().find((p) => p.id === 'trap')?.state === 'disabled', 5000, 'trap disabled');
    const s3 = await scrape(base);
    assert.ok(v(s3, 'hearth_plugin_calls_total{plugin="noop"}') >= 1, 'noop called');
    assert.is(v(s3, 'hearth_plugin_faults_total{plugin="trap"}'), 1);
    assert.is(v(s3, 'hearth_plugin_running{plugin="trap"}'), 0);
    assert.is(v(s3, 'hearth_plugin_faults_total{plugin="noop"}'), 0);

    // The kick: bob is gone from every gauge, and the reason is counted.
    const closed = bob.control.waitClose();
    await alice.control.request('user.kick', { sessionId: bob.welcome.self.sessionId, reason: 'test' });
    assert.is((await closed)?.code, 'KICKED');
    await eventually(() => t.server.hub.online.length === 1, 3000, 'bob offline');
    const s4 = await scrape(base);
    assert.is(v(s4, 'hearth_sessions_online'), 1, 'sessions online 2 -> 1');
    assert.is(v(s4, `hearth_channel_sessions{channel="${room.id}"}`), 1);
    assert.is(v(s4, 'hearth_connections_closed_total{reason="KICKED"}'), 1, 'the kick is counted as such');
    assert.is(v(s4, 'hearth_voice_sessions{transport="udp"}') + v(s4, 'hearth_voice_sessions{transport="tls"}'), 1);
    assert.ok(v(s4, 'hearth_voice_packets_forwarded_total{transport="udp"}') >= v(s2, 'hearth_voice_packets_forwarded_total{transport="udp"}'), 'counters never go down');
    // Node's own figures.
    assert.ok(v(s4, 'process_resident_memory_bytes') > 0, 'RSS');
    assert.ok(s4.has('nodejs_eventloop_lag_seconds'), 'event-loop lag');
  } finally {
    for (const p of peers) {
      p.voice.close();
      p.control.close();
    }
    await t.stop();
  }
});

test('login throttling is counted by scope', async () => {
  const t = await startServer({ metrics: { listen: '127.0.0.1:0' }, loginThrottle: { maxFailures: 2 } });
  const base = `http://127.0.0.1:${t.server.metricsAddress!.port}`;
  try {
    await createUser(t, 'dave', 'member');
    const c = await connect(t);
    await expectError(c.login('dave', 'wrong password 1'), 'AUTH_FAILED');
    await expectError(c.login('dave', 'wrong password 2'), 'AUTH_FAILED');
    await expectError(c.login('dave', PASSWORD), 'AUTH_THROTTLED');
    c.close();
    const s = await scrape(base);
    assert.is(v(s, 'hearth_login_failures_total'), 2);
    assert.is(v(s, 'hearth_login_throttled_total{scope="ip"}'), 1);
    assert.is(v(s, 'hearth_login_throttled_total{scope="account"}'), 0);
  } finally {
    await t.stop();
  }
});

test('names follow Prometheus conventions; no label names a user; unknown paths are 404', async () => {
  const t = await startServer({ metrics: { listen: '127.0.0.1:0' } });
  const base = `http://127.0.0.1:${t.server.metricsAddress!.port}`;
  try {
    const res = await fetch(`${base}/metrics`);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const { samples, types } = parseMetrics(await res.text());
    const ours = [...types].filter(([name]) => name.startsWith('hearth_'));
    assert.ok(ours.length >= 30, `${ours.length} hearth metrics`);
    for (const [name, type] of ours) {
      assert.match(name, /^hearth_[a-z0-9_]+$/, name);
      if (type === 'counter') assert.ok(name.endsWith('_total'), `counter ${name} ends in _total`);
      else assert.not.ok(name.endsWith('_total'), `${type} ${name} does not end in _total`);
    }
    for (const key of samples.keys()) assert.not.match(key, /\b(user|username|session|ip)=/, `no per-user label: ${key}`);
    assert.is((await fetch(`${base}/nope`)).status, 404);
    assert.is((await fetch(`${base}/metrics`, { method: 'POST' })).status, 405);
  } finally {
    await t.stop();
  }
});

test('off by default: no endpoint, no run-file address', async () => {
  const t = await startServer();
  try {
    assert.is(t.server.metricsAddress, null);
    const run = JSON.parse(readFileSync(join(t.dataDir, 'hearth.run.json'), 'utf8')) as { metrics: string | null; pid: number };
    assert.is(run.metrics, null);
    assert.is(run.pid, process.pid);
  } finally {
    await t.stop();
  }
});

test.run();
