// The UI server over real sockets: the secret and the Origin guard the page
// and the socket; actions reach the core after validation; snapshots follow
// watch semantics (a page that stops reading gets a bounded number of frames
// and then the newest snapshot, never a backlog); the desktop runner prints
// the address first and quits from the UI.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocket } from 'ws';
import { ClientCore } from '../../host/client/core/client-core.js';
import { Latest } from '../../host/client/core/latest.js';
import { emptySnapshot, type ClientSnapshot } from '../../host/client/core/snapshot.js';
import type { ClientAction } from '../../host/client/core/actions.js';
import { compactSnapshot } from '../../host/client/ui/compact.js';
import { LayoutHost } from '../../host/client/ui/layout-host.js';
import { ACK_WINDOW } from '../../host/client/ui/protocol.js';
import { applyPatch, type Patch } from '../../host/client/ui/patch.js';
import { UiServer } from '../../host/client/ui/ui-server.js';
import { launchPlan } from '../../host/client/ui/launch.js';
import { chmodSync, existsSync } from 'node:fs';
import { LayoutTreeSchema } from '../../host/client/ui/components.js';
import { captureLogger, eventually, repoRoot } from '../plugins/helpers.js';
import { createUser, PASSWORD, startServer, tempDir } from '../helpers/server.js';
import { ClientConfigStore } from '../../host/client/core/config-store.js';
import { readFileSync } from 'node:fs';

const MAIN = fileURLToPath(new URL('../../host/cli/main.js', import.meta.url));
const dir = tempDir('hearth-ui-');
const staticDir = join(dir, 'ui');
mkdirSync(staticDir);
writeFileSync(join(staticDir, 'index.html'), '<!doctype html><html><head><link rel="stylesheet" href="app.css"><script type="module" src="app.js"></script></head><body>Hearth</body></html>');
writeFileSync(join(staticDir, 'app.js'), 'console.log(1)');
writeFileSync(join(staticDir, 'app.css'), 'body{}');
writeFileSync(join(dir, 'secret.txt'), 'top secret');

interface Got {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function get(port: number, path: string, headers: Record<string, string> = {}): Promise<Got> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

type Msg = { type: string; seq?: number; state?: ClientSnapshot; tree?: unknown; reason?: string; [k: string]: unknown };

/** A page: connects, collects every message, acks snapshots (unless told not to). */
function page(ui: UiServer, opts: { origin?: string | null; path?: string; ack?: boolean } = {}) {
  const url = `ws://127.0.0.1:${ui.port}${opts.path ?? `/${ui.secret}/ws`}`;
  const origin = opts.origin === undefined ? ui.origin : opts.origin;
  const ws = new WebSocket(url, origin === null ? {} : { origin });
  const msgs: Msg[] = [];
  let ack = opts.ack ?? true;
  ws.on('message', (d) => {
    const m = JSON.parse(d.toString()) as Msg;
    msgs.push(m);
    if (m.type === 'snapshot' && ack) ws.send(JSON.stringify({ type: 'ack', seq: m.seq }));
  });
  const opened = new Promise<void>((ok, fail) => {
    ws.once('open', () => ok());
    ws.once('error', fail);
    ws.once('unexpected-response', (_req, res) => fail(new Error(`refused: HTTP ${res.statusCode}`)));
  });
  return {
    ws,
    msgs,
    opened,
    setAck: (on: boolean) => (ack = on),
    snapshots: () => msgs.filter((m) => m.type === 'snapshot'),
    send: (m: unknown) => ws.send(JSON.stringify(m)),
  };
}

function fakeCore() {
  const actions: ClientAction[] = [];
  return { state: new Latest<ClientSnapshot>(emptySnapshot()), push: (a: ClientAction) => void actions.push(a), actions };
}

let ui: UiServer;
let core: ReturnType<typeof fakeCore>;
let layout: LayoutHost;
const log = captureLogger();

test.before(async () => {
  core = fakeCore();
  layout = await LayoutHost.start({ logger: log.logger, choices: [], active: null });
  ui = await UiServer.start({ logger: log.logger, core, layout, staticDir });
});
test.after(async () => {
  await ui.close();
  await layout.close();
});

test('the address: 127.0.0.1, a random port, a 32-byte base64url secret as the first path segment', () => {
  assert.match(ui.url, /^http:\/\/127\.0\.0\.1:\d+\/[A-Za-z0-9_-]{43}\/$/);
  assert.ok(ui.port > 0);
  assert.is(Buffer.from(ui.secret, 'base64url').length, 32);
});

test('no secret, a wrong secret, a wrong Host: 403 and no page', async () => {
  const wrong = ui.secret.slice(0, -1) + (ui.secret.endsWith('A') ? 'B' : 'A');
  for (const path of ['/', '/index.html', '/app.js', `/?s=${ui.secret}`, `/${wrong}/`, `/${wrong}/index.html`, `/${ui.secret.slice(0, 20)}/`, `/x${ui.secret}/`]) {
    const r = await get(ui.port, path);
    assert.is(r.status, 403, path);
    assert.not.match(r.body, /html|Hearth|console/i, path);
  }
  const rebind = await get(ui.port, `/${ui.secret}/`, { Host: `evil.example:${ui.port}` });
  assert.is(rebind.status, 403, 'DNS rebinding: wrong Host');
  assert.not.match(rebind.body, /html/i);
});

test('the right secret: the page, with content types, CSP (self only: no CDN) and no-referrer', async () => {
  const r = await get(ui.port, `/${ui.secret}/`);
  assert.is(r.status, 200);
  assert.match(r.body, /<!doctype html>/);
  assert.is(r.headers['content-type'], 'text/html; charset=utf-8');
  const csp = String(r.headers['content-security-policy']);
  assert.match(csp, /default-src 'none'/);
  assert.match(csp, /script-src 'self'(;|$)/);
  assert.match(csp, new RegExp(`connect-src 'self' ws://127\\.0\\.0\\.1:${ui.port}`));
  assert.not.match(csp, /https?:\/\//, 'no remote origin is allowed');
  assert.is(r.headers['referrer-policy'], 'no-referrer');
  assert.is(r.headers['x-content-type-options'], 'nosniff');
  assert.is((await get(ui.port, `/${ui.secret}/app.js`)).headers['content-type'], 'text/javascript; charset=utf-8');
  assert.is((await get(ui.port, `/${ui.secret}/app.css`)).headers['content-type'], 'text/css; charset=utf-8');
  const bare = await get(ui.port, `/${ui.secret}`);
  assert.is(bare.status, 308);
  assert.is(bare.headers.location, `/${ui.secret}/`);
  // Nothing outside the static dir.
  for (const path of [`/${ui.secret}/..%2fsecret.txt`, `/${ui.secret}/%2e%2e/secret.txt`, `/${ui.secret}/missing.js`]) {
    const x = await get(ui.port, path);
    assert.is(x.status, 404, path);
    assert.not.match(x.body, /top secret/);
  }
});

test('a WebSocket with a wrong Origin, no Origin, or without the secret is refused', async () => {
  for (const [what, o] of [
    ['wrong origin', { origin: 'http://evil.example' }],
    ['other port', { origin: `http://127.0.0.1:${ui.port + 1}` }],
    ['localhost origin', { origin: `http://localhost:${ui.port}` }],
    ['no origin', { origin: null }],
    ['no secret', { path: '/ws' }],
    ['wrong secret', { path: `/${'A'.repeat(43)}/ws` }],
    ['page path', { path: `/${ui.secret}/` }],
  ] as const) {
    const p = page(ui, o);
    let refused = '';
    await p.opened.catch((e: Error) => (refused = e.message));
    assert.match(refused, /403/, what);
    p.ws.terminate();
  }
});

test('with the secret and the right Origin: hello, the layout and the snapshot; invalid messages are refused', async () => {
  const p = page(ui);
  await p.opened;
  await eventually(() => p.snapshots().length >= 1 && p.msgs.some((m) => m.type === 'layout'), 3000, 'hello + layout + snapshot');
  assert.equal(p.msgs[0], { type: 'hello', protocol: 1, ackWindow: ACK_WINDOW });
  const l = p.msgs.find((m) => m.type === 'layout')!;
  assert.ok(LayoutTreeSchema.safeParse(l.tree).success);
  assert.is(l.plugin, null);
  assert.equal((l.choices as { id: string }[]).map((c) => c.id), ['builtin']);
  assert.is(p.snapshots()[0]!.state!.connection.status, 'disconnected');
  p.send({ type: 'action', action: { type: 'voice.mode', mode: 'ptt' } });
  p.send({ type: 'action', action: { type: 'rm -rf' } });
  p.send({ type: 'action', action: { type: 'voice.mode', mode: 'loud' } });
  p.send({ type: 'servers.connect', id: 'abc' });
  p.send({ type: 'viewport', width: 500, height: 900 });
  p.ws.send('not json');
  await eventually(() => p.msgs.filter((m) => m.type === 'refused').length === 3, 3000, 'three refusals');
  await eventually(() => core.actions.length === 2, 3000, 'two valid actions');
  assert.equal(core.actions, [{ type: 'voice.mode', mode: 'ptt' }, { type: 'servers.connect', serverId: 'abc' }]);
  // The viewport reached the layout: narrow → tabs.
  await eventually(() => p.msgs.filter((m) => m.type === 'layout').length >= 1 && layout.state.version > 0, 3000, 'layout');
  p.ws.close();
});

test(`watch semantics: a page that stops reading while 1000 snapshots are published gets at most ${ACK_WINDOW} frames in flight, then the newest`, async () => {
  const p = page(ui);
  await p.opened;
  await eventually(() => p.snapshots().length >= 1, 3000, 'first snapshot');
  await new Promise((r) => setTimeout(r, 50));
  p.ws.pause(); // stops reading the socket: nothing is received, nothing acked
  const before = p.snapshots().length;
  const sentBefore = ui.stats.snapshotsSent;
  for (let i = 1; i <= 1000; i++) {
    const s = emptySnapshot();
    s.audio.clock.ticks = i;
    core.state.set(s);
    await new Promise((r) => setImmediate(r)); // one notification per snapshot
  }
  await new Promise((r) => setTimeout(r, 200));
  const sentWhilePaused = ui.stats.snapshotsSent - sentBefore;
  assert.ok(sentWhilePaused <= ACK_WINDOW, `sent ${sentWhilePaused} snapshots to a page that did not read`);
  p.ws.resume();
  await eventually(() => p.snapshots().at(-1)?.state?.audio.clock.ticks === 1000, 3000, 'the newest snapshot');
  await new Promise((r) => setTimeout(r, 100));
  const after = p.snapshots().slice(before);
  // At most ACK_WINDOW that were in flight, plus the newest one.
  assert.ok(after.length <= ACK_WINDOW + 1, `received ${after.length} snapshot frames after 1000 publications`);
  assert.is(after.at(-1)!.state!.audio.clock.ticks, 1000);
  const seqs = p.snapshots().map((m) => m.seq!);
  assert.equal(seqs, seqs.map((_, i) => i + 1), 'seq counts frames sent');
  process.stdout.write(`  watch: ${sentWhilePaused} snapshots sent while paused, ${after.length} received after resuming, of 1000 published\n`);
  p.ws.close();
});

/** A page that asks for patches (?patch=1), keeps its copy with them (in order, as the page does) and acks each. */
function patchingPage(ui: UiServer) {
  const ws = new WebSocket(`ws://127.0.0.1:${ui.port}/${ui.secret}/ws?patch=1`, { origin: ui.origin });
  const got = { full: 0, patches: 0, bytes: 0, state: null as unknown, seq: 0, problems: [] as string[] };
  ws.on('message', (d) => {
    const m = JSON.parse(d.toString()) as { type: string; seq?: number; base?: number; state?: unknown; patch?: Patch };
    if (m.type === 'snapshot') {
      got.full++;
      got.state = m.state;
      got.seq = m.seq!;
    } else if (m.type === 'patch') {
      got.patches++;
      got.bytes += d.toString().length;
      if (m.base !== got.seq) got.problems.push(`patch ${m.seq} on base ${m.base}, held ${got.seq}`);
      got.state = applyPatch(got.state, m.patch!);
      got.seq = m.seq!;
    } else return;
    ws.send(JSON.stringify({ type: 'ack', seq: m.seq }));
  });
  const opened = new Promise<void>((ok, fail) => {
    ws.once('open', () => ok());
    ws.once('error', fail);
  });
  return { ws, got, opened };
}

test('patches (?patch=1): one full snapshot, then patches; the copy equals the newest compact snapshot; a resync gets a full one', async () => {
  const p = patchingPage(ui);
  await p.opened;
  try {
    await eventually(() => p.got.full === 1, 3000, 'the full snapshot first');
    let s = emptySnapshot();
    s.connection = { ...s.connection, status: 'connected' };
    s.self = { sessionId: 1, userId: 1, username: 'me', role: 'member' };
    s.channels = [{ id: 1, parentId: null, name: 'Root', isVoice: true, requiredRole: 'guest', position: 0, description: '' }];
    for (let i = 1; i <= 300; i++) {
      const users = Array.from({ length: 30 }, (_, k) => ({ sessionId: 1 + k, userId: 1 + k, username: `u${k}`, role: 'member' as const, channelId: 1, selfMute: false, selfDeaf: false, serverMute: false, speaking: (k + i) % 5 === 0, levelDb: null, localMuted: false, volume: 1 }));
      const chat = i % 10 === 0 ? [...s.chat.slice(-199), { id: i, channelId: 1, recipientId: null, senderId: 2, senderName: 'u1', text: `m${i}`, createdAt: i }] : s.chat;
      s = { ...s, users, chat, speaking: users.filter((u) => u.speaking).map((u) => u.sessionId), audio: { ...s.audio, clock: { ...s.audio.clock, ticks: i } } };
      core.state.set(s);
      if (i % 3 === 0) await new Promise((r) => setImmediate(r));
    }
    const want = JSON.parse(JSON.stringify(compactSnapshot(core.state.get()))) as unknown;
    await eventually(() => JSON.stringify(p.got.state) !== undefined && (p.got.state as ClientSnapshot).audio.clock.ticks === 300, 3000, 'the newest state');
    assert.equal(p.got.state, want, 'the patched copy is the newest compact snapshot');
    assert.equal(p.got.problems, []);
    // The first change (30 users at once) is most of a snapshot: it may go as a full one.
    assert.ok(p.got.patches >= 50 && p.got.full <= 2, `${p.got.full} full, ${p.got.patches} patches`);
    const avg = Math.round(p.got.bytes / p.got.patches);
    assert.ok(avg < JSON.stringify(want).length / 4, `patches of ${avg} bytes against ${JSON.stringify(want).length}`);
    // A page that lost track asks for a resync: the next message is a full snapshot.
    const fulls = p.got.full;
    p.ws.send(JSON.stringify({ type: 'resync' }));
    core.state.set({ ...s, audio: { ...s.audio, clock: { ...s.audio.clock, ticks: 301 } } });
    await eventually(() => p.got.full === fulls + 1, 3000, 'a full snapshot after the resync');
    assert.is((p.got.state as ClientSnapshot).audio.clock.ticks, 301);
    process.stdout.write(`  patches: ${p.got.patches} of ${avg} bytes on average (full snapshot ${JSON.stringify(want).length} bytes)\n`);
  } finally {
    p.ws.close();
  }
});

test(`watch semantics with patches: a paused page gets at most ${ACK_WINDOW} in flight, then one patch to the newest`, async () => {
  const p = patchingPage(ui);
  await p.opened;
  await eventually(() => p.got.full === 1, 3000, 'first snapshot');
  await new Promise((r) => setTimeout(r, 50));
  p.ws.pause();
  const sentBefore = ui.stats.snapshotsSent;
  const before = p.got.full + p.got.patches;
  for (let i = 1; i <= 1000; i++) {
    const s = emptySnapshot();
    s.audio.clock.ticks = 10_000 + i;
    core.state.set(s);
    await new Promise((r) => setImmediate(r));
  }
  await new Promise((r) => setTimeout(r, 200));
  const sentWhilePaused = ui.stats.snapshotsSent - sentBefore;
  assert.ok(sentWhilePaused <= ACK_WINDOW, `sent ${sentWhilePaused} to a page that did not read`);
  p.ws.resume();
  await eventually(() => (p.got.state as ClientSnapshot).audio.clock.ticks === 11_000, 3000, 'the newest state');
  await new Promise((r) => setTimeout(r, 100));
  const after = p.got.full + p.got.patches - before;
  assert.ok(after <= ACK_WINDOW + 1, `received ${after} messages after 1000 publications`);
  assert.equal(p.got.state, JSON.parse(JSON.stringify(compactSnapshot(core.state.get()))));
  assert.equal(p.got.problems, []);
  p.ws.close();
});

test('compact snapshot: same shape, bounded chat and requests; its size', () => {
  const s = emptySnapshot();
  s.self = { sessionId: 1, userId: 1, username: 'u1', role: 'member' };
  for (let c = 1; c <= 30; c++) s.channels.push({ id: c, name: `channel ${c}`, parentId: c === 1 ? null : 1, position: c, description: '', maxUsers: 0, requiredRole: 'guest' } as never);
  for (let u = 1; u <= 50; u++)
    s.users.push({ sessionId: u, userId: u, username: `user${u}`, channelId: (u % 30) + 1, role: 'member', selfMute: false, selfDeaf: false, serverMuted: false, voiceToken: 1000 + u, speaking: u % 7 === 0, levelDb: -30, localMuted: false, volume: 1 } as never);
  for (let m = 1; m <= 2000; m++) s.chat.push({ id: m, channelId: m % 10 === 0 ? null : (m % 30) + 1, recipientId: m % 10 === 0 ? 1 : null, senderId: 2, senderName: 'user2', text: `message number ${m}: the quick brown fox jumps over the lazy dog`, createdAt: 1_700_000_000_000 + m });
  for (let r = 0; r < 100; r++) s.requests[`t${r}`] = { ok: true, result: { list: Array.from({ length: r === 99 ? 5000 : 3 }, (_, i) => ({ id: i, name: `n${i}` })) } };
  const c = compactSnapshot(s);
  assert.equal(Object.keys(c).sort(), Object.keys(s).sort());
  const mine = s.users.find((u) => u.sessionId === 1)!.channelId;
  assert.ok(c.chat.every((m) => m.channelId === null || m.channelId === mine));
  assert.ok(c.chat.filter((m) => m.channelId === null).length <= 100);
  assert.is(Object.keys(c.requests).length, 20);
  assert.ok(c.chat.at(-1)!.id === 2000 || c.chat.at(-1)!.id === 1999);
  const full = Buffer.byteLength(JSON.stringify(s));
  const small = Buffer.byteLength(JSON.stringify(c));
  const empty = Buffer.byteLength(JSON.stringify(compactSnapshot(emptySnapshot())));
  process.stdout.write(`  snapshot bytes: empty ${empty}; 30 channels, 50 users, 2000 chat, 100 results: full ${full}, compact ${small}\n`);
  assert.ok(small < full / 5, `${small} vs ${full}`);
});

test('an action sent over the socket reaches a real core (voice.mode → the snapshot)', async () => {
  const home = tempDir('hearth-ui-core-');
  const real = await ClientCore.start({ logger: log.logger, knownHostsFile: join(home, 'known_hosts.json') });
  const s = await UiServer.start({ logger: log.logger, core: real, staticDir });
  try {
    const p = page(s);
    await p.opened;
    await eventually(() => p.snapshots().length >= 1, 3000, 'snapshot');
    assert.is(p.snapshots()[0]!.state!.audio.mode, 'vad');
    p.send({ type: 'action', action: { type: 'voice.mode', mode: 'ptt', thresholdDb: -30 } });
    await eventually(() => p.snapshots().some((m) => m.state!.audio.mode === 'ptt' && m.state!.audio.thresholdDb === -30), 3000, 'the new mode in a snapshot');
    assert.is(real.state.get().audio.mode, 'ptt');
    p.ws.close();
  } finally {
    await s.close();
    await real.close();
  }
});

test('core actions for the UI: saved servers (no password in the snapshot), connect by id, older chat, layout choice, PTT key, quit', async () => {
  const t = await startServer({ limits: { historyOnJoin: 10 } } as never);
  const home = tempDir('hearth-ui-actions-');
  const store = new ClientConfigStore(home);
  let quit = 0;
  const real = await ClientCore.start({ logger: log.logger, knownHostsFile: store.path('known_hosts.json'), store, onQuit: () => void quit++ });
  try {
    await createUser(t, 'ann');
    for (let i = 1; i <= 40; i++) t.server.store.chat.addChannelMessage(1, null, 'bot', `old message ${i}`);
    real.push({ type: 'servers.save', label: 'Home', host: '127.0.0.1', port: t.port, username: 'ann', password: PASSWORD, rememberPassword: true });
    real.push({ type: 'servers.save', label: 'Other', host: 'example.invalid', port: 1, username: 'bob', rememberPassword: false });
    const s1 = await real.state.until((s) => s.servers.list.length === 2, 5000);
    const home1 = s1.servers.list.find((x) => x.label === 'Home')!;
    assert.equal(Object.keys(home1).sort(), ['hasPassword', 'host', 'id', 'label', 'pinnedFingerprint', 'port', 'username']);
    assert.is(home1.pinnedFingerprint, null, 'nothing pinned before the first connect');
    assert.is(home1.hasPassword, true);
    assert.is(s1.servers.list.find((x) => x.label === 'Other')!.hasPassword, false);
    assert.not.match(JSON.stringify(s1), new RegExp(PASSWORD), 'the password never reaches the snapshot');
    assert.match(readFileSync(store.path('servers.json'), 'utf8'), new RegExp(PASSWORD), 'it is in servers.json (asked for)');
    const other = s1.servers.list.find((x) => x.label === 'Other')!;
    real.push({ type: 'servers.connect', serverId: other.id });
    await real.state.until((s) => s.errors.some((e) => e.code === 'PASSWORD_NEEDED'), 5000);
    real.push({ type: 'servers.remove', id: other.id });
    real.push({ type: 'servers.connect', serverId: home1.id });
    const s2 = await real.state.until((s) => s.connection.status === 'connected' && s.chat.length >= 10, 10_000);
    assert.is(s2.servers.list.length, 1);
    assert.is(s2.servers.lastServerId, home1.id);
    assert.is(s2.servers.list[0]!.pinnedFingerprint, t.fingerprint, 'the first connect pinned the certificate, and the list shows it');
    real.push({ type: 'trust.forget', hostKey: `127.0.0.1:${t.port}` });
    await real.state.until((s) => s.servers.list[0]!.pinnedFingerprint === null, 5000);
    assert.is(store.knownHosts.get(`127.0.0.1:${t.port}`), undefined, 'forgotten in known_hosts.json');
    real.push({ type: 'trust.accept', hostKey: `127.0.0.1:${t.port}`, fingerprint: t.fingerprint });
    await real.state.until((s) => s.servers.list[0]!.pinnedFingerprint === t.fingerprint, 5000);
    assert.is(s2.chat.length, 10, 'history on join');
    real.push({ type: 'chat.history' });
    const s3 = await real.state.until((s) => s.chat.length > 10, 5000);
    assert.is(s3.chat.length, 40, 'older messages loaded');
    assert.is(s3.chat[0]!.text, 'old message 1');
    real.push({ type: 'layout.select', pluginId: 'layout-compact' });
    real.push({ type: 'ptt.key', key: 'KeyT' });
    const s4 = await real.state.until((s) => s.layout.active === 'layout-compact' && s.pttKey === 'KeyT', 5000);
    assert.ok(s4);
    const saved = store.loadSettings();
    assert.is(saved.ui.layout, 'layout-compact');
    assert.is(saved.voice.pttKey, 'KeyT');
    real.push({ type: 'quit' });
    await real.state.until((s) => s.quitting, 5000);
    assert.is(quit, 1);
  } finally {
    await real.close();
    await t.stop();
  }
});

test('the launcher: a Chromium-family browser in app mode with its own profile (--no-sandbox as root), else the default browser', () => {
  const bin = join(dir, 'bin');
  mkdirSync(bin, { recursive: true });
  const exe = (name: string) => {
    writeFileSync(join(bin, name), '#!/bin/sh\n');
    chmodSync(join(bin, name), 0o755);
  };
  const url = 'http://127.0.0.1:1/S/';
  assert.is(launchPlan(url, { profileDir: '/p', env: { PATH: bin }, platform: 'linux', isRoot: false }), null, 'nothing to open it with');
  exe('xdg-open');
  assert.equal(launchPlan(url, { profileDir: '/p', env: { PATH: bin }, platform: 'linux', isRoot: false }), { command: join(bin, 'xdg-open'), args: [url], kind: 'default-browser' });
  exe('microsoft-edge');
  exe('google-chrome');
  const chrome = launchPlan(url, { profileDir: '/p', env: { PATH: bin }, platform: 'linux', isRoot: false })!;
  assert.is(chrome.command, join(bin, 'google-chrome'), 'probed in order: chromium, chromium-browser, google-chrome, microsoft-edge');
  assert.equal(chrome.args.slice(0, 2), [`--app=${url}`, '--user-data-dir=/p']);
  assert.not.ok(chrome.args.includes('--no-sandbox'));
  exe('chromium');
  const root = launchPlan(url, { profileDir: '/p', env: { PATH: bin }, platform: 'linux', isRoot: true })!;
  assert.is(root.command, join(bin, 'chromium'));
  assert.ok(root.args.includes('--no-sandbox'));
  assert.equal(launchPlan(url, { profileDir: '/p', env: { PATH: '' }, platform: 'darwin' }), { command: 'open', args: [url], kind: 'default-browser' });
});

test('hearth client --no-window: the first line is the address with its secret; quitting from the UI exits 0', async () => {
  const home = tempDir('hearth-ui-desktop-');
  const compact = join(repoRoot, 'manifests', 'layout-compact.json');
  const withLayout = existsSync(compact) && existsSync(join(repoRoot, 'guests', 'layout-compact', 'build', 'layout-compact.wasm'));
  const child = spawn(process.execPath, [MAIN, 'client', '--no-window', '--input', 'none', '--output', 'none', ...(withLayout ? ['--layout', compact] : [])], { env: { ...process.env, HEARTH_CLIENT_HOME: home }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  try {
    await eventually(() => stdout.includes('\n'), 15_000, `the first line (stderr: ${stderr})`);
    const first = stdout.split('\n')[0]!;
    const m = /^http:\/\/127\.0\.0\.1:(\d+)\/([A-Za-z0-9_-]{43})\/$/.exec(first);
    assert.ok(m, `first line: ${first}`);
    const port = Number(m![1]);
    assert.is((await get(port, '/')).status, 403);
    assert.not.equal((await get(port, `/${m![2]}/`)).status, 403);
    const ws = new WebSocket(`ws://127.0.0.1:${port}/${m![2]}/ws`, { origin: `http://127.0.0.1:${port}` });
    const got: Msg[] = [];
    ws.on('message', (d) => got.push(JSON.parse(d.toString()) as Msg));
    await new Promise((r) => ws.once('open', r));
    await eventually(() => got.some((x) => x.type === 'snapshot') && got.some((x) => x.type === 'layout' && (!withLayout || x.plugin === 'layout-compact')), 5000, 'snapshot + layout (from --layout) from the desktop runner');
    ws.send(JSON.stringify({ type: 'action', action: { type: 'quit' } }));
    const code = await Promise.race([exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 10_000))]);
    assert.is(code, 0, stderr);
  } finally {
    child.kill('SIGKILL');
  }
});

test('hearth client --no-window exits 0 on SIGTERM', async () => {
  const home = tempDir('hearth-ui-desktop-');
  const child = spawn(process.execPath, [MAIN, 'client', '--no-window', '--input', 'virtual', '--output', 'virtual'], { env: { ...process.env, HEARTH_CLIENT_HOME: home }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  try {
    await eventually(() => stdout.includes('\n'), 15_000, 'the first line');
    assert.match(stdout.split('\n')[0]!, /^http:\/\/127\.0\.0\.1:\d+\/[A-Za-z0-9_-]{43}\/$/);
    child.kill('SIGTERM');
    const code = await Promise.race([exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 10_000))]);
    assert.is(code, 0);
  } finally {
    child.kill('SIGKILL');
  }
});

test.run();
