// The fan-out's native path (native/sendmmsg: seal every copy, one sendmmsg)
// and its dgram fallback, over real UDP on 127.0.0.1: both put on the wire
// exactly the bytes the old path did (node:crypto, one sealEncoded per
// listener), and a send that would block (EAGAIN) hands the rest to dgram
// without losing a copy.
import { suite, test as plain } from 'uvu';
import * as assert from 'uvu/assert';
import dgram from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { nativeFanout, SlotTable, socketFd, type NativeFanout } from '../../host/server/voice/native-fanout.js';
import { HEADER_BYTES, TAG_BYTES, VoiceCipher } from '../../host/voice/packet.js';
import { eventually, startServer, type TestServer } from '../helpers/server.js';
import { RawVoiceClient } from './raw-voice-client.js';

interface Ctx {
  t: TestServer;
  speaker: RawVoiceClient;
  listeners: RawVoiceClient[];
}

const test = suite<Ctx>('voice fan-out');

test.before.each(async (ctx) => {
  ctx.t = await startServer();
  ctx.speaker = await RawVoiceClient.connect(ctx.t, 'speaker');
  ctx.listeners = [];
  for (let i = 0; i < 4; i++) ctx.listeners.push(await RawVoiceClient.connect(ctx.t, `listener${i}`));
  // Everyone stays in the root channel, a voice channel.
  for (const c of [ctx.speaker, ...ctx.listeners]) await c.establish();
});
test.after.each(async (ctx) => {
  for (const c of [ctx.speaker, ...ctx.listeners]) c.close();
  await ctx.t.stop();
});

/** Payloads of several sizes (Opus is VBR), each naming its index. */
const payloads = (n: number): Buffer[] => Array.from({ length: n }, (_, i) => Buffer.concat([Buffer.from(`frame-${i}-`), randomBytes((i * 37) % 300)]));

/** Every listener got every packet, and each datagram is byte for byte what the old path (node:crypto per listener) sealed. */
async function expectSameBytesAsOldPath(speaker: RawVoiceClient, listeners: RawVoiceClient[], sent: Buffer[]): Promise<void> {
  await eventually(() => listeners.every((l) => l.relayed.length >= sent.length), 3000, 'every copy delivered');
  for (const l of listeners) {
    assert.is(l.relayed.length, sent.length);
    const old = new VoiceCipher(l.keys.serverToClient, { backend: 'node' });
    l.relayed.forEach((dg, i) => {
      assert.is(dg.readUInt32BE(0), speaker.token, 'speaker token');
      assert.is(dg.length, HEADER_BYTES + sent[i]!.length + TAG_BYTES);
      assert.is(dg.toString('hex'), old.sealEncoded(dg.subarray(0, HEADER_BYTES), sent[i]!).toString('hex'), `copy ${i} identical`);
    });
  }
}

test('native: one sendmmsg per fan-out, bytes identical to the old path', async ({ t, speaker, listeners }) => {
  if (nativeFanout === null) return console.warn('native/sendmmsg not built: skipped');
  const f = t.server.voice.stats.fanout;
  assert.is(f.engine, 'sendmmsg');
  const before = { ...f };
  const sent = payloads(12).map((p) => speaker.voice(p));
  await expectSameBytesAsOldPath(speaker, listeners, sent);
  assert.is(f.sendmmsgCopies - before.sendmmsgCopies, 12 * listeners.length);
  assert.is(f.sendmmsgCalls - before.sendmmsgCalls, 12);
  assert.is(f.dgramFallbackCopies, before.dgramFallbackCopies);
});

test('fallback (addon off): dgram.send per copy, same bytes', async ({ t, speaker, listeners }) => {
  t.server.voice.fanout.useNative = false;
  const before = t.server.voice.stats.fanout.sendmmsgCopies;
  const sent = payloads(12).map((p) => speaker.voice(p));
  await expectSameBytesAsOldPath(speaker, listeners, sent);
  assert.is(t.server.voice.stats.fanout.sendmmsgCopies, before, 'nothing through the addon');
});

test('EAGAIN half way through a fan-out: the rest goes by dgram, nothing lost, same bytes', async ({ t, speaker, listeners }) => {
  const real = nativeFanout;
  if (real === null) return;
  let calls = 0;
  // The kernel never makes a loopback UDP send block (the skb is handed over at once), so the
  // socket "fills up" here: the first half of each fan-out is sent, then EAGAIN.
  const wrapped: NativeFanout = {
    ...real,
    sealAndSend(fd, keys, addrs, slots, n, header, payload, out, result) {
      calls++;
      real.seal(keys, slots, n, header, payload, out);
      const size = HEADER_BYTES + payload.length + TAG_BYTES;
      const done = real.send(fd, out, size, 0, Math.floor(n / 2), addrs, slots, result);
      result[2] = 11; // EAGAIN
      return done;
    },
  };
  t.server.voice.fanout.addon = wrapped;
  const f = t.server.voice.stats.fanout;
  const before = { ...f };
  const sent = payloads(10).map((p) => speaker.voice(p));
  await expectSameBytesAsOldPath(speaker, listeners, sent);
  assert.is(calls, 10);
  assert.is(f.dgramFallbackCopies - before.dgramFallbackCopies, 10 * (listeners.length - Math.floor(listeners.length / 2)));
  assert.is(f.sendmmsgCopies - before.sendmmsgCopies, 10 * Math.floor(listeners.length / 2));
});

test('a listener leaving frees its slot; the next session reuses it with its own key', async ({ t, speaker, listeners }) => {
  const gone = listeners.pop()!;
  gone.close();
  await eventually(() => t.server.hub.online.length === 1 + listeners.length, 2000, 'listener gone');
  const again = await RawVoiceClient.connect(t, 'late');
  await again.establish();
  const sent = payloads(5).map((p) => speaker.voice(p));
  await expectSameBytesAsOldPath(speaker, [...listeners, again], sent);
  again.close();
});

test.run();

// The addon alone, on plain dgram sockets.
plain('addon: sealAndSend reaches every address; a copy the kernel refuses is skipped and counted', async () => {
  const addon = nativeFanout;
  if (addon === null) return;
  const sender = dgram.createSocket('udp4');
  const rx = [dgram.createSocket('udp4'), dgram.createSocket('udp4')];
  const got: Buffer[][] = [[], []];
  rx.forEach((s, i) => s.on('message', (m) => got[i]!.push(m)));
  await Promise.all([sender, ...rx].map((s) => new Promise<void>((r) => s.bind(0, '127.0.0.1', r))));
  try {
    const fd = socketFd(sender);
    assert.type(fd, 'number');
    const table = new SlotTable(2);
    const keys = [randomBytes(32), randomBytes(32), randomBytes(32)];
    const slots = keys.map((k) => table.alloc(k));
    assert.ok(table.setAddress(slots[0]!, '127.0.0.1', rx[0]!.address().port));
    // An IPv6 address on an IPv4 socket: the kernel refuses that one copy (EAFNOSUPPORT/EINVAL).
    assert.ok(table.setAddress(slots[1]!, '::1', 9));
    assert.ok(table.setAddress(slots[2]!, '127.0.0.1', rx[1]!.address().port));
    assert.not.ok(table.setAddress(slots[2]!, 'not-an-ip', 1), 'a name is not encoded');
    assert.ok(table.setAddress(slots[2]!, '127.0.0.1', rx[1]!.address().port));
    const header = randomBytes(HEADER_BYTES);
    const payload = randomBytes(120);
    const size = HEADER_BYTES + payload.length + TAG_BYTES;
    const out = Buffer.alloc(3 * size);
    const result = new Int32Array(3);
    const done = addon.sealAndSend(fd!, table.keys, table.addrs, Uint32Array.from(slots), 3, header, payload, out, result);
    assert.is(done, 3);
    assert.is(result[1], 1, 'one refused');
    await eventually(() => got[0]!.length === 1 && got[1]!.length === 1, 2000, 'both delivered');
    assert.is(got[0]![0]!.toString('hex'), new VoiceCipher(keys[0]!, { backend: 'node' }).sealEncoded(header, payload).toString('hex'));
    assert.is(got[1]![0]!.toString('hex'), new VoiceCipher(keys[2]!, { backend: 'node' }).sealEncoded(header, payload).toString('hex'));
    // Released slots are wiped and handed out again.
    table.release(slots[1]!);
    assert.ok(table.keys.subarray(slots[1]! * 32, slots[1]! * 32 + 32).every((b) => b === 0));
    assert.is(table.alloc(randomBytes(32)), slots[1]);
  } finally {
    for (const s of [sender, ...rx]) s.close();
  }
});

plain('addon: a fan-out larger than one sendmmsg batch (256) all arrives', async () => {
  const addon = nativeFanout;
  if (addon === null) return;
  const sender = dgram.createSocket('udp4');
  const rx = dgram.createSocket({ type: 'udp4', recvBufferSize: 1 << 20 });
  let count = 0;
  rx.on('message', () => count++);
  await Promise.all([sender, rx].map((s) => new Promise<void>((r) => s.bind(0, '127.0.0.1', r))));
  try {
    const n = 600;
    const table = new SlotTable(4);
    const slots = Uint32Array.from({ length: n }, () => table.alloc(randomBytes(32)));
    for (const s of slots) table.setAddress(s, '127.0.0.1', rx.address().port);
    const out = Buffer.alloc(n * (HEADER_BYTES + 40 + TAG_BYTES));
    const result = new Int32Array(3);
    assert.is(addon.sealAndSend(socketFd(sender)!, table.keys, table.addrs, slots, n, randomBytes(20), randomBytes(40), out, result), n);
    await eventually(() => count === n, 3000, 'all copies delivered');
  } finally {
    sender.close();
    rx.close();
  }
});

plain.run();
