// Issue 10, attack 6: voice frames (kind 0x02) over TLS were never limited (a
// logged-in client streamed 1.57 GB of garbage in 9.8 s). Now they spend a
// per-connection voice budget before any crypto, and a stream of frames that do
// not authenticate is cut with BAD_VOICE, while a genuine TLS-fallback voice
// client at 50 frames/s is served and heard.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { randomBytes } from 'node:crypto';
import { deriveVoiceKeys, VoiceCipher } from '../../host/voice/packet.js';
import type { WelcomeResult } from '../../host/protocol/server-messages.js';
import { createUser, PASSWORD, sleep, startServer, type TestServer } from '../helpers/server.js';
import { AbuseClient } from '../helpers/abuse-client.js';

const test = suite('abuse: voice frames over TLS');

async function voiceClient(t: TestServer, name: string): Promise<{ c: AbuseClient; welcome: WelcomeResult; seal: VoiceCipher }> {
  await createUser(t, name);
  const c = await AbuseClient.connect(t.port);
  const r = await c.login(name, PASSWORD);
  if (r?.type !== 'reply') throw new Error(`login failed: ${JSON.stringify(r)}`);
  const welcome = r.result as WelcomeResult;
  if (!welcome.voice) throw new Error('no voice session');
  return { c, welcome, seal: new VoiceCipher(deriveVoiceKeys(Buffer.from(welcome.voice.secret, 'base64')).clientToServer) };
}

function drainOrClose(c: AbuseClient): Promise<void> {
  return new Promise((resolve) => {
    if (c.closed) return resolve();
    const done = () => {
      c.socket.off('drain', done);
      c.socket.off('close', done);
      resolve();
    };
    c.socket.once('drain', done);
    c.socket.once('close', done);
  });
}

/** Writes frames from `make` as fast as the socket takes them until the server closes (or `max` frames). */
async function stream(c: AbuseClient, make: (i: number) => Buffer, max: number): Promise<number> {
  let i = 0;
  while (!c.closed && i < max) {
    if (!c.sendVoice(make(i++))) await drainOrClose(c);
    if (i % 64 === 0) await new Promise((r) => setImmediate(r));
  }
  return i;
}

test('garbage kind-2 frames (random bytes, and the real token with a forged ciphertext) → disconnect BAD_VOICE', async () => {
  const t = await startServer({ log: { level: 'warn' } });
  try {
    const a = await voiceClient(t, 'junk');
    const token = a.welcome.voice!.token;
    const closed = a.c.waitClose(10_000);
    await stream(a.c, (i) => {
      const b = randomBytes(i % 2 === 0 ? 60_000 : 200);
      if (i % 2 === 1) b.writeUInt32BE(token, 0);
      return b;
    }, 20_000);
    const d = await closed;
    assert.is(d?.code, 'BAD_VOICE');
    assert.match(d?.message ?? '', /did not authenticate/);
  } finally {
    await t.stop();
  }
});

test('authentic voice frames far over the rate (as fast as the socket takes them) → disconnect FLOOD', async () => {
  const t = await startServer({ log: { level: 'warn' } });
  try {
    const a = await voiceClient(t, 'blaster');
    const token = a.welcome.voice!.token;
    const payload = Buffer.alloc(120, 1);
    const closed = a.c.waitClose(10_000);
    await stream(a.c, (i) => a.seal.seal(token, i, i * 960, payload), 20_000);
    const d = await closed;
    assert.is(d?.code, 'FLOOD');
    assert.match(d?.message ?? '', /voice/);
  } finally {
    await t.stop();
  }
});

test('a genuine TLS-fallback voice client at 50 frames/s (plus keep-alives) is not cut, and is heard', async () => {
  const t = await startServer({ log: { level: 'warn' } });
  try {
    const speaker = await voiceClient(t, 'talker');
    const listener = await voiceClient(t, 'hearer');
    const token = speaker.welcome.voice!.token;
    const payload = Buffer.alloc(120, 7);
    let seq = 0;
    const frames = 150; // 3 s of voice
    for (let i = 0; i < frames; i++) {
      speaker.c.sendVoice(speaker.seal.seal(token, seq++, i * 960, payload));
      // A keep-alive every 5 s of real time would be once here; send a few to be sure they pass too.
      if (i % 50 === 0) speaker.c.sendVoice(speaker.seal.seal(token, seq++, Date.now() * 1000, Buffer.alloc(0)));
      await sleep(20);
    }
    // The speaker is still connected and answered a ping after its stream.
    const pong = await speaker.c.request('ping', {});
    assert.is(pong?.type, 'reply');
    assert.not.ok(speaker.c.closed, 'speaker still connected');
    assert.is(speaker.c.disconnect, null);
    // Keep-alives sent over TLS are answered over TLS.
    assert.ok(speaker.c.voiceFrames.length >= 3, `keep-alive answers over TLS: ${speaker.c.voiceFrames.length}`);
    // The listener has no UDP path, so the relays came over TLS.
    await sleep(100);
    assert.ok(listener.c.voiceFrames.length >= frames - 5, `listener heard ${listener.c.voiceFrames.length} of ${frames}`);
    speaker.c.close();
    listener.c.close();
  } finally {
    await t.stop();
  }
});

test.run();
