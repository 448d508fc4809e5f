// Hostile and broken input against a real server over real sockets. Every case
// also checks that an innocent, already-logged-in client keeps being served, and
// the last one that the database is intact and still holds the earlier data.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import net from 'node:net';
import tls from 'node:tls';
import type { ControlClient } from '../../host/client/control/control-client.js';
import { encodeFrame, encodeJsonFrame, FrameKind } from '../../host/protocol/framing.js';
import type { ServerMessage } from '../../host/protocol/server-messages.js';
import { connect as harnessConnect, createUser, eventually, expectError, loginAs, PASSWORD, startServer, type TestServer } from '../helpers/server.js';

/**
 * ControlClient re-emits every server message under its type, so an unsolicited
 * `error` message (no id, e.g. BAD_JSON) becomes an EventEmitter 'error' event and
 * throws when nobody listens. Tests listen on 'message' instead; this keeps the
 * emitter from turning a protocol error into an uncaught exception.
 */
function tolerate(c: ControlClient): ControlClient {
  c.on('error', () => {});
  return c;
}
/** Every client a case opens; closed after each case even when it fails half-way. */
const opened: ControlClient[] = [];
const connect = async (t: TestServer) => {
  const c = tolerate(await harnessConnect(t));
  opened.push(c);
  return c;
};

type ErrorMsg = Extract<ServerMessage, { type: 'error' }>;
type ReplyMsg = Extract<ServerMessage, { type: 'reply' }>;

const MAX_FRAME = 4096;
const LOGIN_TIMEOUT = 1000;
const HANDSHAKE_TIMEOUT = 300;
const STALL_TIMEOUT = 300;
const BURST = 30;
const FLOOD_AFTER = 8;
const PER_IP = 4;

interface State {
  t: TestServer;
  observer: ControlClient;
  chatId: number;
  pings: number;
}

const test = suite<{ s: State }>('bad input');

test.before(async (ctx) => {
  const t = await startServer({
    limits: {
      maxFrameBytes: MAX_FRAME,
      handshakeTimeoutMs: HANDSHAKE_TIMEOUT,
      loginTimeoutMs: LOGIN_TIMEOUT,
      frameStallTimeoutMs: STALL_TIMEOUT,
      // Enough for the well-behaved observer (one ping per case), far too little for a flood.
      messagesPerSecond: 20,
      messageBurst: BURST,
      floodDisconnectAfter: FLOOD_AFTER,
      maxConnectionsPerIp: PER_IP,
    },
  });
  const observer = tolerate(await loginAs(t, 'observer'));
  const { message } = await observer.request<{ message: { id: number } }>('chat.send', { channelId: 1, text: 'written before the abuse' });
  ctx.s = { t, observer, chatId: message.id, pings: 0 };
});

test.after(async (ctx) => {
  ctx.s.observer.close();
  await ctx.s.t.stop();
});

// Each case starts with only the observer connected, so per-IP counts are exact.
test.before.each(async ({ s }) => {
  await eventually(() => s.t.server.connectionCount === 1, 3000, 'only the observer connected');
});
test.after.each(() => {
  for (const c of opened.splice(0)) c.close();
});

/** The innocent client still gets answers (and was never cut). */
async function stillServed(s: State): Promise<void> {
  assert.not.ok(s.observer.closed, 'observer connection still open');
  const time = ++s.pings;
  const r = await s.observer.request<{ time: number; serverTime: number }>('ping', { time });
  assert.is(r.time, time);
  assert.type(r.serverTime, 'number');
}

/** Records every unsolicited message (errors without a pending request, disconnects, ...). */
function record(c: ControlClient): ServerMessage[] {
  const seen: ServerMessage[] = [];
  c.on('message', (m: ServerMessage) => seen.push(m));
  return seen;
}

const isError = (code: string) => (m: ServerMessage) => m.type === 'error' && m.code === code;

/** A ping with a string id (not tracked by the client library) answered by a reply. */
async function rawPingAnswered(c: ControlClient, id: string): Promise<void> {
  const got = c.waitFor<ReplyMsg>((m) => m.type === 'reply' && m.id === id, 2000);
  c.sendRaw({ type: 'ping', id });
  const r = await got;
  assert.is(r.ok, true);
}

function jsonFrameOf(bytes: Buffer): Buffer {
  return encodeFrame(FrameKind.json, bytes);
}

/** Resolves with how long after `start` the socket closed; rejects after `timeoutMs`. */
function closedWithin(sock: net.Socket, start: number, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    if (sock.destroyed) return resolve(Date.now() - start);
    const timer = setTimeout(() => reject(new Error('socket was not closed by the server')), timeoutMs);
    sock.once('close', () => {
      clearTimeout(timer);
      resolve(Date.now() - start);
    });
  });
}

test('malformed JSON body → BAD_JSON, and the connection stays usable', async ({ s }) => {
  const c = await connect(s.t);
  for (const body of ['{"type":"ping",', 'not json at all', '{"type":"ping"}}', '']) {
    const err = c.waitFor<ErrorMsg>((m) => m.type === 'error', 2000);
    c.sendBytes(jsonFrameOf(Buffer.from(body, 'utf8')));
    const e = await err;
    assert.is(e.code, 'BAD_JSON', `body ${JSON.stringify(body)}`);
    assert.is(e.id, undefined);
  }
  await rawPingAnswered(c, 'after-bad-json');
  assert.not.ok(c.closed);
  c.close();
  await stillServed(s);
});

test('invalid UTF-8 → BAD_JSON (no lossy decoding into a valid message)', async ({ s }) => {
  const c = await connect(s.t);
  const seen = record(c);
  // A ping whose string id holds a bad sequence: decoded lossily it would be valid and get a reply.
  const bad = [
    Buffer.from([0xff]), // never valid
    Buffer.from([0xc3, 0x28]), // broken 2-byte sequence
    Buffer.from([0xc0, 0xaf]), // overlong "/"
    Buffer.from([0xed, 0xa0, 0x80]), // UTF-16 surrogate encoded in UTF-8
  ];
  for (const seq of bad) {
    const err = c.waitFor<ErrorMsg>((m) => m.type === 'error', 2000);
    c.sendBytes(jsonFrameOf(Buffer.concat([Buffer.from('{"type":"ping","id":"'), seq, Buffer.from('"}')])));
    assert.is((await err).code, 'BAD_JSON');
  }
  await rawPingAnswered(c, 'utf8-ok');
  assert.is(seen.filter((m) => m.type === 'reply').length, 1, 'only the clean ping was answered');
  c.close();
  await stillServed(s);
});

test('wrong field types → INVALID_MESSAGE with details.issues', async ({ s }) => {
  const c = await connect(s.t);
  const e1 = await expectError(c.request('ping', { time: 'noon' }), 'INVALID_MESSAGE');
  const issues1 = e1.details?.issues as Array<{ path: string; message: string }>;
  assert.ok(Array.isArray(issues1) && issues1.length === 1, 'one issue');
  assert.is(issues1[0]!.path, 'time');
  assert.type(issues1[0]!.message, 'string');

  const e2 = await expectError(c.request('login', { username: 42, password: ['x'] }), 'INVALID_MESSAGE');
  const paths2 = (e2.details?.issues as Array<{ path: string }>).map((i) => i.path).sort();
  assert.equal(paths2, ['password', 'username']);

  // strict objects: an unknown field is an error, not silently dropped
  const e3 = await expectError(c.request('ping', { tme: 5 }), 'INVALID_MESSAGE');
  assert.ok(Array.isArray(e3.details?.issues));
  assert.match(e3.message, /tme/);

  // a non-string "type" is refused, and a usable id is still echoed
  const err = c.waitFor<ErrorMsg>((m) => m.type === 'error' && m.id === 'typeless', 2000);
  c.sendRaw({ type: 7, id: 'typeless' });
  assert.is((await err).code, 'INVALID_MESSAGE');

  // an id of the wrong type cannot be echoed; the error comes without one
  const err2 = c.waitFor<ErrorMsg>((m) => m.type === 'error', 2000);
  c.sendRaw({ type: 'ping', id: { nested: true } });
  const e5 = await err2;
  assert.is(e5.code, 'INVALID_MESSAGE');
  assert.is(e5.id, undefined);

  await rawPingAnswered(c, 'after-invalid');
  c.close();
  await stillServed(s);
});

test('unknown message type → UNKNOWN_TYPE (prototype names included)', async ({ s }) => {
  const c = await connect(s.t);
  for (const type of ['channel.nuke', 'constructor', '__proto__', 'toString', 'hasOwnProperty', 'x'.repeat(500)]) {
    const e = await expectError(c.request(type), 'UNKNOWN_TYPE');
    assert.ok(e.message.length < 200, 'message does not echo unbounded input');
  }
  await rawPingAnswered(c, 'after-unknown');
  c.close();
  await stillServed(s);
});

test('non-object JSON (array, number, string, null, boolean) → INVALID_MESSAGE', async ({ s }) => {
  const c = await connect(s.t);
  for (const value of [[1, 2, 3], [{ type: 'ping', id: 1 }], 42, 'ping', null, true]) {
    const err = c.waitFor<ErrorMsg>((m) => m.type === 'error', 2000);
    c.sendRaw(value);
    const e = await err;
    assert.is(e.code, 'INVALID_MESSAGE', `value ${JSON.stringify(value)}`);
    assert.is(e.id, undefined);
  }
  await rawPingAnswered(c, 'after-non-object');
  c.close();
  await stillServed(s);
});

test('messages before login → NOT_AUTHENTICATED, and nothing happens', async ({ s }) => {
  const c = await connect(s.t);
  await expectError(c.request('chat.send', { channelId: 1, text: 'sneaky pre-login message' }), 'NOT_AUTHENTICATED');
  await expectError(c.request('channel.create', { parentId: 1, name: 'Sneaky' }), 'NOT_AUTHENTICATED');
  await expectError(c.request('user.list'), 'NOT_AUTHENTICATED');
  await expectError(c.request('ban.list'), 'NOT_AUTHENTICATED');
  const texts = s.t.server.store.chat.recent(1, 50).map((m) => m.text);
  assert.not.ok(texts.includes('sneaky pre-login message'));
  assert.not.ok(s.t.server.store.channels.all().some((ch) => ch.name === 'Sneaky'));
  assert.not.ok([...s.observer.state.channels.values()].some((ch) => ch.name === 'Sneaky'));
  // ping is allowed before login, and the connection can still log in
  await c.request('ping');
  await loginOn(c, s, 'latecomer');
  c.close();
  await stillServed(s);
});

async function loginOn(c: ControlClient, s: State, name: string): Promise<void> {
  if (!s.t.server.store.users.findByName(name)) await createUser(s.t, name);
  const w = await c.login(name, PASSWORD);
  assert.is(w.self.username, name);
}

test('oversized frame header → disconnect FRAME_TOO_LARGE, then close', async ({ s }) => {
  for (const length of [MAX_FRAME + 1, 0xffffffff]) {
    const c = await connect(s.t);
    const disc = c.waitFor((m) => m.type === 'disconnect', 2000);
    const header = Buffer.alloc(5);
    header.writeUInt32BE(length, 0);
    header[4] = FrameKind.json;
    c.sendBytes(header); // the header alone must be enough: no body is buffered first
    const d = await disc;
    assert.is(d.type === 'disconnect' && d.code, 'FRAME_TOO_LARGE');
    const r = await c.waitClose(2000);
    assert.is(r?.code, 'FRAME_TOO_LARGE');
  }
  // the limit itself is inclusive: a frame of exactly maxFrameBytes is served
  const c = await connect(s.t);
  const head = '{"type":"ping","id":"at-limit"}';
  const body = Buffer.from(head + ' '.repeat(MAX_FRAME - 1 - head.length));
  const frame = jsonFrameOf(body);
  assert.is(frame.readUInt32BE(0), MAX_FRAME);
  const reply = c.waitFor<ReplyMsg>((m) => m.type === 'reply' && m.id === 'at-limit', 2000);
  c.sendBytes(frame);
  await reply;
  c.close();
  await stillServed(s);
});

test('zero-length frame → disconnect BAD_FRAME', async ({ s }) => {
  const c = await connect(s.t);
  c.sendBytes(Buffer.from([0, 0, 0, 0]));
  const r = await c.waitClose(2000);
  assert.is(r?.code, 'BAD_FRAME');
  assert.match(r?.message ?? '', /length 0/);
  await stillServed(s);
});

test('unknown frame kind → BAD_FRAME error, connection stays usable', async ({ s }) => {
  const c = await connect(s.t);
  for (const kind of [0x00, 0x03, 0x7f, 0xff]) {
    const err = c.waitFor<ErrorMsg>((m) => m.type === 'error', 2000);
    c.sendBytes(encodeFrame(kind, Buffer.from('{"type":"ping","id":"wrong-kind"}')));
    const e = await err;
    assert.is(e.code, 'BAD_FRAME');
    assert.match(e.message, new RegExp(`unknown frame kind ${kind}$`));
  }
  await rawPingAnswered(c, 'after-kind');
  c.close();
  await stillServed(s);
});

test('voice frame before login → NOT_AUTHENTICATED, connection stays usable', async ({ s }) => {
  const c = await connect(s.t);
  const err = c.waitFor<ErrorMsg>((m) => m.type === 'error', 2000);
  c.sendBytes(encodeFrame(FrameKind.voice, Buffer.alloc(60, 0xab)));
  assert.is((await err).code, 'NOT_AUTHENTICATED');
  await rawPingAnswered(c, 'after-voice');
  c.close();
  await stillServed(s);
});

test('message flood → RATE_LIMITED errors, then disconnect FLOOD', async ({ s }) => {
  const c = await connect(s.t);
  const seen = record(c);
  const frames: Buffer[] = [];
  for (let i = 0; i < 120; i++) frames.push(encodeJsonFrame({ type: 'ping', id: `f${i}` }));
  c.sendBytes(Buffer.concat(frames));
  const r = await c.waitClose(3000);
  assert.is(r?.code, 'FLOOD');
  const replies = seen.filter((m) => m.type === 'reply').length;
  const limited = seen.filter(isError('RATE_LIMITED')).length;
  assert.ok(replies >= BURST && replies <= BURST + 3, `the burst was served, little more (${replies} replies)`);
  assert.ok(limited >= 1 && limited <= 5, `some RATE_LIMITED errors (${limited}), capped`);
  const firstLimited = seen.findIndex(isError('RATE_LIMITED'));
  const disc = seen.findIndex((m) => m.type === 'disconnect');
  assert.ok(firstLimited >= 0 && firstLimited < disc, 'RATE_LIMITED came before the disconnect');
  assert.is(disc, seen.length - 1, 'nothing after the disconnect');
  await stillServed(s);
});

test('a flood of bad frames is rate limited too (no free error replies)', async ({ s }) => {
  for (const make of [() => encodeFrame(0x09, Buffer.from('x')), () => encodeFrame(FrameKind.voice, Buffer.alloc(20))]) {
    const c = await connect(s.t);
    const seen = record(c);
    const frames: Buffer[] = [];
    for (let i = 0; i < 200; i++) frames.push(make());
    c.sendBytes(Buffer.concat(frames));
    const r = await c.waitClose(3000);
    assert.is(r?.code, 'FLOOD');
    assert.ok(seen.filter((m) => m.type === 'error').length <= BURST + 3 + 5, 'error replies bounded by the rate limit');
    await stillServed(s);
  }
});

test('raw TCP clients that never start / never finish the TLS handshake are dropped after handshakeTimeoutMs', async ({ s }) => {
  // silent: connects and sends nothing; stalled: the header of a ClientHello record, then nothing
  for (const first of [null, Buffer.from([0x16, 0x03, 0x01, 0x01, 0x00, 0x01])]) {
    const sock = net.connect({ host: '127.0.0.1', port: s.t.port });
    sock.on('error', () => {});
    await new Promise<void>((resolve) => sock.once('connect', () => resolve()));
    const start = Date.now();
    if (first) sock.write(first);
    const elapsed = await closedWithin(sock, start, 3000).finally(() => sock.destroy());
    assert.ok(elapsed >= HANDSHAKE_TIMEOUT - 50, `not dropped before the timeout (${elapsed} ms)`);
    assert.is(s.t.server.connectionCount, 1, 'never counted as a connection');
    await stillServed(s);
  }
});

test('raw TCP client sending garbage instead of a ClientHello is dropped', async ({ s }) => {
  const sock = net.connect({ host: '127.0.0.1', port: s.t.port });
  sock.on('error', () => {});
  const received: Buffer[] = [];
  sock.on('data', (d: Buffer) => received.push(d));
  await new Promise<void>((resolve) => sock.once('connect', () => resolve()));
  const start = Date.now();
  sock.write('GET / HTTP/1.1\r\nHost: hearth\r\n\r\n');
  sock.write(Buffer.alloc(256, 0x5a));
  await closedWithin(sock, start, 3000).finally(() => sock.destroy());
  const bytes = Buffer.concat(received);
  // Whatever came back is a TLS alert record (0x15) or nothing: never application data.
  assert.ok(bytes.length === 0 || bytes[0] === 0x15, `unexpected reply bytes ${bytes.subarray(0, 8).toString('hex')}`);
  assert.is(s.t.server.connectionCount, 1);
  await stillServed(s);
});

test('half a frame that stalls → disconnect TIMEOUT', async ({ s }) => {
  const c = await connect(s.t);
  await loginOn(c, s, 'staller'); // logged in, so only the stall timer can fire
  const frame = encodeJsonFrame({ type: 'chat.send', channelId: 1, text: 'never completed' });
  const start = Date.now();
  c.sendBytes(frame.subarray(0, 12));
  const r = await c.waitClose(3000);
  assert.is(r?.code, 'TIMEOUT');
  assert.match(r?.message ?? '', /stall/);
  assert.ok(Date.now() - start >= STALL_TIMEOUT - 50, 'not before the stall timeout');
  assert.not.ok(s.t.server.store.chat.recent(1, 50).some((m) => m.text === 'never completed'));
  await stillServed(s);
});

test('login timeout: connected but never logged in → disconnect TIMEOUT', async ({ s }) => {
  const c = await connect(s.t);
  const start = Date.now();
  const r = await c.waitClose(3000);
  assert.is(r?.code, 'TIMEOUT');
  assert.match(r?.message ?? '', /log/);
  assert.ok(Date.now() - start >= LOGIN_TIMEOUT - 100, 'not before the login timeout');
  await stillServed(s);
});

test('too many connections from one address → SERVER_FULL; the slot frees again', async ({ s }) => {
  const held: ControlClient[] = [];
  // the observer holds one slot; the others log in so the login timeout cannot interfere
  for (let i = 1; i < PER_IP; i++) {
    const c = await connect(s.t);
    await loginOn(c, s, `held${i}`);
    held.push(c);
  }
  const extra = await connect(s.t);
  const r = await extra.waitClose(2000);
  assert.is(r?.code, 'SERVER_FULL');
  // the held connections are fine
  for (const [i, c] of held.entries()) await rawPingAnswered(c, `held-${i}`);
  await stillServed(s);
  // closing one frees a slot (no leak in the per-address count)
  held.pop()!.close();
  await eventually(() => s.t.server.connectionCount === PER_IP - 1, 2000, 'slot freed');
  const again = await connect(s.t);
  await rawPingAnswered(again, 'again');
  for (const c of [...held, again]) c.close();
  await stillServed(s);
});

test('a TLS 1.2-only client is refused', async ({ s }) => {
  const outcome = await new Promise<{ ok: boolean; err?: Error }>((resolve) => {
    const sock = tls.connect({ host: '127.0.0.1', port: s.t.port, maxVersion: 'TLSv1.2', rejectUnauthorized: false });
    sock.once('secureConnect', () => {
      sock.destroy();
      resolve({ ok: true });
    });
    sock.once('error', (err) => {
      sock.destroy();
      resolve({ ok: false, err });
    });
  });
  assert.not.ok(outcome.ok, 'TLS 1.2 handshake must fail');
  assert.match(String(outcome.err?.message), /version|protocol/i);
  assert.is(s.t.server.connectionCount, 1);
  await stillServed(s);
});

test('afterwards: database intact, earlier data still there, observer never dropped', async ({ s }) => {
  const db = s.t.server.store.db;
  assert.is(db.pragma('integrity_check', { simple: true }), 'ok');
  assert.is((db.pragma('foreign_key_check') as unknown[]).length, 0);
  assert.ok(s.t.server.store.users.findByName('observer'), 'user still there');
  const texts = s.t.server.store.chat.recent(1, 50).map((m) => m.text);
  assert.ok(texts.includes('written before the abuse'), 'chat message still there');
  assert.is(s.t.server.store.chat.recent(1, 50).find((m) => m.id === s.chatId)?.text, 'written before the abuse');
  // the observer can still write
  const { message } = await s.observer.request<{ message: { id: number } }>('chat.send', { channelId: 1, text: 'written after the abuse' });
  assert.ok(message.id > s.chatId);
  await stillServed(s);
});

test.run();
