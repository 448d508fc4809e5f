// Issue 10, attack 1: connection floods before login. 2,100 TCP sockets that
// never send a ClientHello (8 source addresses), or 2,100 completed handshakes
// that never log in (105 addresses), must not keep a legitimate client out:
// the per-IP cap counts from accept, unauthenticated connections have a budget
// of their own, and a full budget sheds its oldest rather than refusing the new.
// Also PROTOCOL.md §3.4: a queue overflow still answers the request in flight.
//
// Source addresses: Linux routes the whole of 127/8 to lo, so binding
// 127.0.x.y as `localAddress` gives each socket the client IP we want. The
// legitimate client uses the default, 127.0.0.1, which the floods never use.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type net from 'node:net';
import { connect, createUser, eventually, PASSWORD, sleep, startServer } from '../helpers/server.js';
import { AbuseClient, openFileLimit, silentSocket } from '../helpers/abuse-client.js';

const FLOOD = 2100;
// Both ends of a loopback connection live in this process: two descriptors per socket, plus the server's own.
const fdLimit = openFileLimit();
const flood = Math.min(FLOOD, Math.floor((fdLimit - 400) / 2));
if (flood < FLOOD) {
  process.stderr.write(`abuse-connections: open-file limit ${fdLimit} allows ${flood} flood sockets, not ${FLOOD}; raise it with \`ulimit -n 8192\` for the full test\n`);
}

const test = suite('abuse: connection floods');

/** Opens `n` sockets spread round-robin over `ips`, `batch` at a time. */
async function spread<T>(n: number, ips: string[], batch: number, open: (ip: string) => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < n; i += batch) {
    const wave: Promise<T>[] = [];
    for (let j = i; j < Math.min(n, i + batch); j++) wave.push(open(ips[j % ips.length]!));
    out.push(...(await Promise.all(wave)));
  }
  return out;
}

test('2,100 sockets that never start TLS, from 8 addresses: a legitimate client still logs in', async () => {
  const t = await startServer({ log: { level: 'info' } });
  const sockets: net.Socket[] = [];
  try {
    await createUser(t, 'owner');
    const ips = Array.from({ length: 8 }, (_, i) => `127.0.0.${i + 2}`);
    sockets.push(...(await spread(flood, ips, 300, (ip) => silentSocket(t.port, ip))));
    // The flood is really held (the default 10 s handshake timeout has not run):
    // every address got its cap (20) plus its two courtesy slots, the rest was refused at accept.
    const held = sockets.filter((s) => !s.destroyed).length;
    assert.ok(held >= 8 * 20, `flood sockets still open: ${held}`);
    const c = await connect(t);
    const w = await c.login('owner', PASSWORD);
    assert.is(w.self.username, 'owner');
    c.close();
    // What the server held meanwhile: every address its cap (20) plus two courtesy handshakes.
    const { unauthenticated } = t.server.admissionCounts;
    assert.ok(unauthenticated >= 8 * 20 && unauthenticated <= 8 * 22, `unauthenticated sockets held: ${unauthenticated}`);
  } finally {
    for (const s of sockets) s.destroy();
    await t.stop();
  }
});

test('2,100 completed handshakes that never log in, from 105 addresses: the budget sheds the oldest, a legitimate client logs in', async () => {
  const t = await startServer({ log: { level: 'warn' } });
  const clients: AbuseClient[] = [];
  try {
    await createUser(t, 'owner');
    const ips = Array.from({ length: 105 }, (_, i) => `127.0.1.${i + 1}`);
    const opened = await spread(flood, ips, 150, (ip) => AbuseClient.connect(t.port, ip).catch(() => null));
    for (const c of opened) if (c) clients.push(c);
    // Every one handshaked: none was refused for the global budget.
    assert.ok(clients.length >= flood - 5, `handshakes completed: ${clients.length} of ${flood}`);
    const c = await connect(t);
    const w = await c.login('owner', PASSWORD);
    assert.is(w.self.username, 'owner');
    c.close();
    // The oldest were shed, and told why, to stay within the budget.
    const budget = t.server.config.limits.maxUnauthenticated;
    assert.ok(t.server.admissionCounts.unauthenticated <= budget, `unauthenticated ${t.server.admissionCounts.unauthenticated} > budget ${budget}`);
    await eventually(() => clients.some((x) => x.disconnect?.code === 'SERVER_FULL'), 3000, 'a shed connection told SERVER_FULL');
    assert.match(clients.find((x) => x.disconnect?.code === 'SERVER_FULL')!.disconnect!.message, /waiting to log in/);
    for (const x of clients) x.close();
    await eventually(() => t.server.admissionCounts.addresses === 0, 5000, 'every address released');
  } finally {
    for (const c of clients) c.close();
    await t.stop();
  }
});

test('the per-IP cap counts sockets from accept: silent sockets use up the address, other addresses are untouched', async () => {
  const t = await startServer({ limits: { maxConnectionsPerIp: 5 } });
  const sockets: net.Socket[] = [];
  try {
    await createUser(t, 'owner');
    for (let i = 0; i < 12; i++) sockets.push(await silentSocket(t.port, '127.0.0.77'));
    // 5 + 2 courtesy handshakes held; the other 5 were closed at accept.
    await eventually(() => sockets.filter((s) => s.destroyed).length >= 5, 2000, 'sockets over the cap closed');
    // A TLS client from the same address gets nowhere: closed at accept (no byte of TLS) ...
    const refused = await AbuseClient.connect(t.port, '127.0.0.77', 3000).then(
      async (c) => (await c.waitClose(3000))?.code ?? 'closed',
      (err: Error) => `refused: ${err.message}`,
    );
    assert.ok(refused === 'SERVER_FULL' || refused.startsWith('refused'), `same address: ${refused}`);
    // ... while another address logs in.
    const c = await AbuseClient.connect(t.port, '127.0.0.78');
    const r = await c.login('owner', PASSWORD);
    assert.is(r?.type, 'reply');
    c.close();
  } finally {
    for (const s of sockets) s.destroy();
    await t.stop();
  }
});

test('a client one over its address cap is told SERVER_FULL (a courtesy handshake), not just reset', async () => {
  const t = await startServer({ limits: { maxConnectionsPerIp: 2 } });
  const held: AbuseClient[] = [];
  try {
    for (let i = 0; i < 2; i++) held.push(await AbuseClient.connect(t.port, '127.0.0.90'));
    const extra = await AbuseClient.connect(t.port, '127.0.0.90');
    const d = await extra.waitClose(3000);
    assert.is(d?.code, 'SERVER_FULL');
    assert.match(d?.message ?? '', /too many connections from your address/);
    // Every slot comes back when the sockets close (no leak in the counts).
    for (const c of held) c.close();
    await eventually(() => {
      const n = t.server.admissionCounts;
      return n.unauthenticated === 0 && n.sessions === 0 && n.addresses === 0;
    }, 3000, 'admission counts back to zero');
  } finally {
    for (const c of held) c.close();
    await t.stop();
  }
});

test('queue overflow (FLOOD): the request in flight still gets its reply, nothing queued behind it is processed', async () => {
  const t = await startServer();
  try {
    await createUser(t, 'owner');
    const c = await AbuseClient.connect(t.port);
    const reply = c.login('owner', PASSWORD);
    // argon2 takes tens of milliseconds: the login is being processed when the flood lands.
    await sleep(15);
    // One write: the 300 frames arrive together, so 256 are pending at once.
    c.sendJsonBatch(Array.from({ length: 300 }, (_, i) => ({ type: 'ping', id: `p${i}` })));
    const r = await reply;
    assert.is(r?.type, 'reply', `login answered: ${JSON.stringify(r)?.slice(0, 120)}`);
    const d = await c.waitClose(7000);
    assert.is(d?.code, 'FLOOD');
    // None of the pings behind it was answered.
    assert.not.ok(c.messages.some((m) => m.type === 'reply' && typeof m.id === 'string'), 'no queued ping answered');
  } finally {
    await t.stop();
  }
});

test.run();
