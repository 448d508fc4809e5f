// The client core under trouble: a busy main thread must not make audio late;
// a device that fails mid-call sets a clear error while chat keeps working
// and reopens on request; a changed certificate is refused; a server that
// goes away and comes back is reconnected to with backoff, and the state says so.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { createUser, PASSWORD, startServer, tempDir, type TestServer } from '../helpers/server.js';
import { connectCore, startCore } from '../helpers/client.js';

function sine(seconds: number, hz = 440, amp = 0.3): Float32Array {
  const s = new Float32Array(48_000 * seconds);
  for (let i = 0; i < s.length; i++) s[i] = amp * Math.sin((2 * Math.PI * hz * i) / 48_000);
  return s;
}


let t: TestServer;
test.before(async () => {
  t = await startServer();
  await createUser(t, 'ann');
  await createUser(t, 'bob');
});
test.after(async () => {
  await t.stop();
});

test('a main thread busy 200 ms of every second makes no audio frame late and no underrun', async () => {
  // In a client process of its own (busy-main-probe.ts says why).
  const out = await new Promise<string>((resolve, reject) => {
    execFile(process.execPath, [fileURLToPath(new URL('./busy-main-probe.js', import.meta.url))], { timeout: 60_000 }, (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout)));
  });
  const r = JSON.parse(out.trim().split('\n').pop()!) as { a: Record<string, number>; b: Record<string, number>; heard: { received: number; lost: number; late: number } };
  process.stderr.write(`busy main thread: ${JSON.stringify(r)}\n`);
  assert.ok(r.a.ticks! >= 240, `A ticked ${r.a.ticks} times in 5 s`);
  // Zero late ticks (over 10 ms) is the usual result. On this 2-core VM some runs show one to
  // three ticks 10-16 ms late, from the OS scheduling the two engine threads and V8's helper
  // threads on the one free core; none has missed its 20 ms slot (no underrun below). An
  // engine that waited on the busy main thread would be late ~50 times (10 frames a second).
  for (const [who, c] of [['A', r.a], ['B', r.b]] as const) {
    assert.ok(c.lateFrames! <= 3, `${who}: ${c.lateFrames} late frames`);
    // Counted over the busy window only. (maxLateMs is the lifetime maximum, start-up and
    // connecting included: a fresh-clone run once failed on a 23 ms tick from before the
    // window, with no late frame in it.)
    assert.is(c.frameLateTicks, 0, `${who}: ${c.frameLateTicks} ticks ran a whole frame late (the latest since start: ${c.maxLateMs} ms)`);
  }
  assert.is(r.a.underruns, 0, 'A: underruns');
  assert.is(r.b.underruns, 0, 'B: underruns');
  assert.is(r.heard.lost, 0, 'B lost no voice packet');
  assert.ok(r.heard.received >= 240, `B received ${r.heard.received} packets`);
});

test('a capture device that fails mid-call: clear error, chat still works, reopens when asked', async () => {
  const a = await startCore({ capture: { kind: 'virtual', samples: sine(1), loop: true }, playback: { kind: 'virtual' }, settings: { gate: { mode: 'continuous', thresholdDb: -45, hangoverMs: 0 } } });
  const b = await startCore({ playback: { kind: 'virtual' } });
  try {
    await connectCore(b, t, 'bob');
    await connectCore(a, t, 'ann');
    await a.state.until((s) => s.audio.input?.open === true && s.audio.transmitting);
    a.engine.failVirtual('capture', 'USB microphone unplugged');
    const failed = await a.state.until((s) => s.audio.input?.error !== null && s.audio.input?.error !== undefined);
    assert.is(failed.audio.input!.error!.code, 'DEVICE_FAILED');
    assert.match(failed.audio.input!.error!.message, /unplugged/);
    // The engine keeps running (the clock ticks) and text chat still works.
    const ticks = failed.audio.clock.ticks;
    a.push({ type: 'chat.send', text: 'my mic died, still here' });
    await b.state.until((s) => s.chat.some((m) => m.text === 'my mic died, still here'));
    await a.state.until((s) => s.audio.clock.ticks > ticks + 10);
    assert.is(a.state.get().connection.status, 'connected');
    a.push({ type: 'devices.reopen' });
    const back = await a.state.until((s) => s.audio.input?.open === true && s.audio.input.error === null);
    assert.is(back.audio.input!.kind, 'virtual');
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
});

test('a device that cannot be opened gives a clear error; the client still connects', async () => {
  const a = await startCore({ capture: { kind: 'wav', path: '/nonexistent/mic.wav' } });
  try {
    const s = await a.state.until((x) => x.audio.input !== null && x.audio.input.error !== null);
    assert.ok(s.audio.input!.error!.message.includes('/nonexistent/mic.wav'), s.audio.input!.error!.message);
    await connectCore(a, t, 'ann');
  } finally {
    await a.close();
  }
});

test('a changed certificate is refused with a clear error and no retry', async () => {
  const dir = tempDir('hearth-cert-');
  const knownHostsFile = join(dir, 'known_hosts.json');
  // Pinned: some other key for this host:port.
  const fake = 'AA:' + Array.from({ length: 31 }, () => 'BB').join(':');
  writeFileSync(knownHostsFile, JSON.stringify({ [`127.0.0.1:${t.port}`]: fake }));
  const a = await startCore({ knownHostsFile });
  try {
    a.push({ type: 'connect', server: { host: '127.0.0.1', port: t.port }, username: 'ann', password: PASSWORD });
    const s = await a.state.until((x) => x.connection.status === 'failed');
    assert.is(s.connection.error!.code, 'CERT_CHANGED');
    assert.match(s.connection.error!.message, /fingerprint/);
    assert.is(s.connection.certificate!.changed, true);
    assert.is(s.connection.certificate!.pinned, fake);
    assert.is(s.connection.certificate!.offered, t.fingerprint);
    await new Promise((r) => setTimeout(r, 700));
    assert.is(a.state.get().connection.status, 'failed', 'no reconnect loop on a refused certificate');
    // The user accepts the new certificate: it is pinned and the connection goes through.
    a.push({ type: 'trust.accept', hostKey: `127.0.0.1:${t.port}`, fingerprint: t.fingerprint });
    await a.state.until((x) => x.connection.status === 'connected');
  } finally {
    await a.close();
  }
});

test('first use with confirmation (the desktop UI): the fingerprint is shown, nothing is sent until the user accepts', async () => {
  const knownHostsFile = join(tempDir('hearth-tofu-'), 'known_hosts.json');
  const a = await startCore({ knownHostsFile, confirmFirstUse: true });
  try {
    a.push({ type: 'connect', server: { host: '127.0.0.1', port: t.port }, username: 'ann', password: PASSWORD });
    const s = await a.state.until((x) => x.connection.status === 'failed');
    assert.is(s.connection.error!.code, 'CERT_UNKNOWN');
    assert.equal(s.connection.certificate, { hostKey: `127.0.0.1:${t.port}`, pinned: null, offered: t.fingerprint, changed: false });
    assert.not.ok(t.server.hub.online.some((c) => c.session.username === 'ann'), 'no session was opened: no password was sent');
    a.push({ type: 'trust.accept', hostKey: `127.0.0.1:${t.port}`, fingerprint: t.fingerprint });
    await a.state.until((x) => x.connection.status === 'connected');
    assert.match(readFileSync(knownHostsFile, 'utf8'), new RegExp(t.fingerprint));
  } finally {
    await a.close();
  }
});

test('a wrong password: failed with AUTH_FAILED, no retry', async () => {
  const a = await startCore();
  try {
    a.push({ type: 'connect', server: { host: '127.0.0.1', port: t.port }, username: 'ann', password: 'wrong', fingerprint: t.fingerprint });
    const s = await a.state.until((x) => x.connection.status === 'failed');
    assert.is(s.connection.error!.code, 'AUTH_FAILED');
  } finally {
    await a.close();
  }
});

test('a server that goes away and comes back: reconnecting with backoff, then connected again', async () => {
  const own = await startServer();
  await createUser(own, 'cat');
  const port = own.port;
  const a = await startCore({ reconnect: { baseMs: 200, maxMs: 1000 } });
  try {
    await connectCore(a, own, 'cat');
    await own.stop({ keepData: true });
    const r = await a.state.until((x) => x.connection.status === 'reconnecting' && x.connection.attempt >= 2, 10_000);
    assert.ok(r.connection.nextRetryAt !== null);
    assert.ok(r.connection.error !== null);
    const again = await startServer({ port }, own.dataDir);
    try {
      const s = await a.state.until((x) => x.connection.status === 'connected', 10_000);
      assert.is(s.connection.attempt, 0);
      assert.ok(s.self?.username === 'cat');
    } finally {
      await again.stop();
    }
  } finally {
    await a.close();
  }
});

test.run();
