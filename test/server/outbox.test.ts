// SocketOutbox (host/server/outbox.ts) on a real TCP connection over 127.0.0.1:
// every byte arrives, in order; no write hands the socket more than one
// slice; a goodbye queued before end() is delivered before the FIN.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import net from 'node:net';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { SocketOutbox, WRITE_SLICE_BYTES } from '../../host/server/outbox.js';

interface Pair {
  sender: net.Socket;
  received: Promise<Buffer>;
  writes: number[];
  close(): void;
}

async function pair(): Promise<Pair> {
  let resolveReceived!: (b: Buffer) => void;
  const received = new Promise<Buffer>((r) => (resolveReceived = r));
  const server = net.createServer((s) => {
    const chunks: Buffer[] = [];
    s.on('data', (c: Buffer) => chunks.push(c));
    s.on('end', () => resolveReceived(Buffer.concat(chunks)));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const sender = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
  await once(sender, 'connect');
  // Record what the outbox hands the socket in each write.
  const writes: number[] = [];
  const write = sender.write.bind(sender) as (chunk: Buffer, cb?: (err?: Error | null) => void) => boolean;
  (sender as unknown as { write: typeof write }).write = (chunk, cb) => {
    writes.push(chunk.length);
    return write(chunk, cb);
  };
  return { sender, received, writes, close: () => server.close() };
}

const test = suite('outbox');

test('frames of every size arrive whole and in order; each write is at most one slice', async () => {
  const p = await pair();
  try {
    const out = new SocketOutbox(p.sender);
    const sizes = [5, 100, 70_000, 3, WRITE_SLICE_BYTES, 1, 40_000, ...Array.from({ length: 300 }, (_, i) => 20 + (i % 90))];
    const frames = sizes.map((n) => randomBytes(n));
    for (const f of frames) out.push(f);
    assert.ok(out.pendingBytes > 0, 'bytes are pending right after the pushes');
    out.end();
    const got = await p.received;
    assert.ok(got.equals(Buffer.concat(frames)), 'the peer got exactly the bytes pushed, in order');
    assert.ok(p.writes.length > 1, 'the burst went out in several writes');
    assert.ok(Math.max(...p.writes) <= WRITE_SLICE_BYTES, `no write over ${WRITE_SLICE_BYTES} bytes (largest ${Math.max(...p.writes)})`);
    // Small frames queued behind a write in flight are coalesced: far fewer writes than frames.
    assert.ok(p.writes.length < frames.length / 2, `${frames.length} frames in ${p.writes.length} writes`);
  } finally {
    p.close();
  }
});

test('end() with nothing queued ends at once; pushes after end() are ignored; end() twice is harmless', async () => {
  const p = await pair();
  try {
    const out = new SocketOutbox(p.sender);
    out.push(Buffer.from('goodbye'));
    out.end();
    out.end();
    out.push(Buffer.from('too late'));
    assert.is(String(await p.received), 'goodbye');
  } finally {
    p.close();
  }
});

test('a destroyed socket takes nothing more and throws nothing', async () => {
  const p = await pair();
  try {
    const out = new SocketOutbox(p.sender);
    p.sender.destroy();
    out.push(Buffer.alloc(100_000));
    out.end();
    assert.is(out.pendingBytes, 0);
  } finally {
    p.close();
  }
});

test.run();
