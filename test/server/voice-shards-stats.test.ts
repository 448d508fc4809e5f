// How the sharded lane sums its shards' counters (host/server/voice/shard-stats.ts).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { accumulate, combineInto, emptyRelay, sumRelay, zeroed, type ShardStats } from '../../host/server/voice/shard-stats.js';

const test = suite('voice shard stats');

const snapshot = (n: number) => ({
  received: n,
  dropped: { replayed: n, forged: 1 },
  fanout: { engine: 'sendmmsg', nativeUnavailable: null as string | null, sendmmsgCopies: 10 * n },
  kernel: { socketDrops: n, rxQueueBytes: null as number | null, systemRcvbufErrors: 7, recvBufferBytes: 1000 * n },
  backlog: { probesSent: n, lagMs: 5 * n, maxLagMs: 50 * n },
});

test('counters add up; lag is the worst shard, the granted buffer the smallest, machine-wide figures not doubled', () => {
  const target = snapshot(0);
  combineInto(target, [snapshot(1), snapshot(2), { received: 4, dropped: { replayed: 1 } }]);
  assert.is(target.received, 7);
  assert.equal(target.dropped, { replayed: 4, forged: 2 });
  assert.is(target.fanout.engine, 'sendmmsg');
  assert.is(target.fanout.nativeUnavailable, null);
  assert.is(target.fanout.sendmmsgCopies, 30);
  assert.equal(target.kernel, { socketDrops: 3, rxQueueBytes: null, systemRcvbufErrors: 7, recvBufferBytes: 1000 });
  assert.equal(target.backlog, { probesSent: 3, lagMs: 10, maxLagMs: 100 });
  // Recomputed from the latest snapshots, not added on top.
  combineInto(target, [snapshot(1), snapshot(2)]);
  assert.is(target.received, 3);
});

test("a dead shard's counters stay in the totals through the retired accumulator", () => {
  const retired = zeroed(snapshot(0));
  assert.is(retired.received, 0);
  accumulate(retired, snapshot(3));
  accumulate(retired, snapshot(2));
  assert.is(retired.received, 5);
  assert.is(retired.dropped.forged, 2);
  const target = snapshot(0);
  combineInto(target, [snapshot(1), retired]);
  assert.is(target.received, 6);
});

test('relay counters are summed without touching the rest of ShardStats', () => {
  const st: ShardStats = { count: 2, running: 2, ready: 2, ports: [1, 2], sessions: [3, 4], restarts: 0, ...emptyRelay() };
  sumRelay(st, [{ ...emptyRelay(), relayed: 5, ringFull: 1 }, { ...emptyRelay(), relayed: 7, tlsFrames: 2 }]);
  assert.is(st.relayed, 12);
  assert.is(st.ringFull, 1);
  assert.is(st.tlsFrames, 2);
  assert.equal(st.ports, [1, 2]);
  assert.equal(st.sessions, [3, 4]);
  assert.is(st.running, 2);
});

test.run();
