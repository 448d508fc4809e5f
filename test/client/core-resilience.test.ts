// The client core under trouble: a busy main thread must not make audio late;
// a device that fails mid-call sets a clear error while chat keeps working
// and reopens on request; a changed certificate is refused; a server that
// goes away and comes back is reconnected to with backoff, and the state says so.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createUser, PASSWORD, startServer, tempDir, type TestServer } from '../helpers/server.js';
import { connectCore, startCore } from '../helpers/client.js';

function sine(seconds: number, hz = 440, amp = 0.3): Float32Array {
  const s = new Float32Array(48_000 * seconds);
  for (let i = 0; i < s.length; i++) s[i] = amp * Math.sin((2 * Math.PI * hz * i) / 48_000);
  return s;
}

function busyLoop(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // spin: nothing on the main thread can run meanwhile
  }
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
  const a = await startCore({ capture: { kind: 'virtual', samples: sine(1), loop: true }, settings: { gate: { mode: 'continuous', thresholdDb: -45, hangoverMs: 0 } } });
  const b = await startCore({ playback: { kind: 'virtual' } });
  try {
    await connectCore(b, t, 'bob');
    await connectCore(a, t, 'ann');
    await b.state.until((s) => s.voice.speakers.some((sp) => sp.username === 'ann' && sp.received > 20));
    const before = { a: a.engine.report!.clock, b: b.engine.report!.clock, sp: b.engine.report!.speakers[0]! };
    for (let i = 0; i < 5; i++) {
      busyLoop(200);
      await new Promise((r) => setTimeout(r, 800));
    }
    const ra = await a.engine.nextReport();
    const rb = await b.engine.nextReport();
    const sp = rb.speakers[0]!;
    process.stderr.write(`busy main thread: A clock ${JSON.stringify(ra.clock)}, B clock ${JSON.stringify(rb.clock)}, B hears ${JSON.stringify({ received: sp.received, lost: sp.lost, late: sp.late, concealed: sp.concealed })}\n`);
    assert.ok(ra.clock.ticks - before.a.ticks >= 240, `A ticked ${ra.clock.ticks - before.a.ticks} times in 5 s`);
    assert.is(ra.clock.lateFrames - before.a.lateFrames, 0, 'A: late frames');
    assert.is(rb.clock.lateFrames - before.b.lateFrames, 0, 'B: late frames');
    assert.is(ra.clock.underruns - before.a.underruns, 0, 'A: underruns');
    assert.is(rb.clock.underruns - before.b.underruns, 0, 'B: underruns');
    assert.is(sp.lost - before.sp.lost, 0, 'B lost no voice packet');
    assert.ok(sp.received - before.sp.received >= 240, `B received ${sp.received - before.sp.received} packets`);
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
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
