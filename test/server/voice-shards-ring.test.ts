// The shared-memory ring between voice shards (host/server/voice/shard-ring.ts):
// records come out in order and intact, across the end of the buffer and
// across the 2^32 wrap of its counters; a full ring drops the newest record
// and counts it; the doorbell wakes a sleeping consumer in another thread.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Worker } from 'node:worker_threads';
import { ShardBell, ShardRing } from '../../host/server/voice/shard-ring.js';

const test = suite('voice shard ring');

interface Rec {
  channelId: number;
  stamp: number;
  bytes: Buffer;
}

const drainAll = (r: ShardRing, max = Infinity): Rec[] => {
  const out: Rec[] = [];
  r.drain((channelId, stamp, bytes, offset, length) => out.push({ channelId, stamp, bytes: Buffer.from(bytes.subarray(offset, offset + length)) }), max);
  return out;
};

/** A record of `n` bytes whose content says which one it is. */
const rec = (i: number, n: number): [Buffer, Buffer] => {
  const a = Buffer.alloc(Math.min(n, 20));
  a.writeUInt32BE(i, 0);
  const b = Buffer.alloc(n - a.length, i & 0xff);
  return [a, b];
};

test('records come out in order, split header and payload joined, channel id kept', () => {
  const r = new ShardRing(ShardRing.allocate(1024));
  assert.ok(r.isEmpty());
  for (let i = 0; i < 5; i++) assert.ok(r.push(100 + i, 7, ...rec(i, 40 + i)));
  assert.not.ok(r.isEmpty());
  const got = drainAll(r);
  assert.equal(got.map((g) => g.channelId), [100, 101, 102, 103, 104]);
  assert.ok(got.every((g) => g.stamp === 7), 'stamp kept');
  for (let i = 0; i < 5; i++) {
    assert.is(got[i]!.bytes.length, 40 + i);
    assert.is(got[i]!.bytes.readUInt32BE(0), i);
    assert.ok(got[i]!.bytes.subarray(20).every((x) => x === (i & 0xff)));
  }
  assert.ok(r.isEmpty());
  assert.is(r.used, 0);
});

test('wraparound: records that do not fit before the end start again at 0, nothing torn, order kept', () => {
  const r = new ShardRing(ShardRing.allocate(512));
  const seen: number[] = [];
  // At most three records (84 bytes each at most) plus a wrap marker are waiting: never full. Sizes that do not divide 512: every lap ends in a wrap marker somewhere else.
  for (let i = 0; i < 500; i++) {
    const n = 21 + ((i * 7) % 50);
    assert.ok(r.push(i, 7, ...rec(i, n)), `push ${i}`);
    if (i % 3 === 2) {
      for (const g of drainAll(r)) {
        assert.is(g.channelId, g.bytes.readUInt32BE(0));
        assert.is(g.bytes.length, 21 + ((g.channelId * 7) % 50));
        assert.ok(g.bytes.subarray(20).every((x) => x === (g.channelId & 0xff)), `record ${g.channelId} intact`);
        seen.push(g.channelId);
      }
    }
  }
  for (const g of drainAll(r)) seen.push(g.channelId);
  assert.equal(seen, [...Array(500).keys()]);
  assert.is(r.dropped, 0);
});

test('a full ring drops the newest record and counts it; the older ones survive; room comes back when read', () => {
  const r = new ShardRing(ShardRing.allocate(256));
  let accepted = 0;
  // 12-byte record header + 52 bytes = 64 bytes: four fit exactly.
  for (let i = 0; i < 6; i++) if (r.push(i, 7, ...rec(i, 52))) accepted++;
  assert.is(accepted, 4);
  assert.is(r.dropped, 2);
  assert.equal(drainAll(r, 2).map((g) => g.channelId), [0, 1], 'oldest first, the newest were the ones dropped');
  assert.ok(r.push(10, 7, ...rec(10, 52)), 'room again after reading');
  assert.ok(r.push(11, 7, ...rec(11, 52)));
  assert.not.ok(r.push(12, 7, ...rec(12, 52)));
  assert.is(r.dropped, 3);
  assert.equal(drainAll(r).map((g) => g.channelId), [2, 3, 10, 11]);
  // Bigger than the whole ring: dropped, never written.
  assert.not.ok(r.push(13, 7, Buffer.alloc(20), Buffer.alloc(300)));
  assert.is(r.dropped, 4);
  assert.ok(r.isEmpty());
});

test('the u32 counters wrap past 2^32 without losing or reordering anything', () => {
  const sab = ShardRing.allocate(128);
  // Both counters just below 2^32 (as after ~4 GiB through the ring).
  const control = new Int32Array(sab, 0, 4);
  control[0] = (0xffff_ffc0 | 0);
  control[1] = (0xffff_ffc0 | 0);
  const r = new ShardRing(sab);
  const seen: number[] = [];
  for (let i = 0; i < 40; i++) {
    assert.ok(r.push(i, 7, ...rec(i, 20)));
    for (const g of drainAll(r)) seen.push(g.channelId);
  }
  assert.equal(seen, [...Array(40).keys()]);
  assert.ok(control[1]! > 0 && control[1]! < 0x1000, 'tail went round');
});

test('discard drops what a dead consumer left unread', () => {
  const r = new ShardRing(ShardRing.allocate(256));
  r.push(1, 7, ...rec(1, 30));
  r.push(2, 7, ...rec(2, 30));
  r.discard();
  assert.ok(r.isEmpty());
  r.push(3, 7, ...rec(3, 30));
  assert.equal(drainAll(r).map((g) => g.channelId), [3]);
});

test('across threads: a producer in a worker, the consumer asleep on the bell, every record in order', async () => {
  const sab = ShardRing.allocate(4096);
  const bell = ShardBell.allocate();
  const total = 5000;
  const worker = new Worker(
    `const { workerData } = require('node:worker_threads');
     import(workerData.ring).then(({ ShardRing, ShardBell }) => {
       const r = new ShardRing(workerData.sab);
       const b = new ShardBell(workerData.bell);
       const a = Buffer.alloc(20);
       const p = Buffer.alloc(100, 7);
       let i = 0;
       const burst = () => {
         // Bursts of 50, pushed again if the ring was full (the consumer is in another thread).
         for (let k = 0; k < 50 && i < workerData.total; ) {
           a.writeUInt32BE(i, 0);
           if (r.push(i, i * 3, a, p)) { i++; k++; } else break;
         }
         b.ring();
         if (i < workerData.total) setTimeout(burst, 1);
       };
       burst();
     });`,
    { eval: true, workerData: { sab, bell, total, ring: new URL('../../host/server/voice/shard-ring.js', import.meta.url).href } },
  );
  const r = new ShardRing(sab);
  const b = new ShardBell(bell);
  const seen: number[] = [];
  let sleeps = 0;
  while (seen.length < total) {
    r.drain((channelId, stamp, bytes, offset) => {
      assert.is(channelId, (bytes as Buffer).readUInt32BE(offset));
      assert.is(stamp, channelId * 3);
      seen.push(channelId);
    });
    if (seen.length < total) {
      sleeps++;
      await b.sleep(() => r.isEmpty());
    }
  }
  await worker.terminate();
  assert.equal(seen, [...Array(total).keys()]);
  // The ring counts only what it refused; the worker retried those.
  assert.ok(sleeps > 0, 'the consumer slept and was woken');
});

test.run();
