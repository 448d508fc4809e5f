// The actor split's two halves: the action queue (many producers, one
// consumer, in order, never blocking the sender) and the latest-value state
// (readers see only the newest snapshot, never a backlog).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ActionQueue } from '../../../host/client/core/action-queue.js';
import { Backoff } from '../../../host/client/core/backoff.js';
import { Latest } from '../../../host/client/core/latest.js';

test('actions from many producers are handled one at a time, in order; a failing one does not stop the queue', async () => {
  const q = new ActionQueue<number>();
  const seen: number[] = [];
  const errors: number[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const done = q.consume(
    async (n) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise((r) => setTimeout(r, 1));
      inFlight--;
      if (n === 3) throw new Error('boom');
      seen.push(n);
    },
    (_e, n) => errors.push(n),
  );
  // Three producers interleaved; push never waits.
  const t0 = performance.now();
  for (let i = 0; i < 10; i++) q.push(i);
  assert.ok(performance.now() - t0 < 5, 'push returns at once');
  await new Promise((r) => setTimeout(r, 100));
  q.close();
  await done;
  assert.equal(seen, [0, 1, 2, 4, 5, 6, 7, 8, 9]);
  assert.equal(errors, [3]);
  assert.is(maxInFlight, 1);
});

test('a slow reader of the latest value skips intermediate snapshots (watch semantics)', async () => {
  const cell = new Latest(0);
  const seen: number[] = [];
  const unsub = cell.subscribe((v) => seen.push(v));
  for (let i = 1; i <= 1000; i++) cell.set(i);
  await new Promise((r) => setImmediate(r));
  assert.equal(seen, [1000], 'one notification with the newest value');
  // A reader polling with changed() only ever gets the newest one too.
  let version = cell.version;
  cell.set(1001);
  cell.set(1002);
  assert.is(await cell.changed(version), 1002);
  version = cell.version;
  const pending = cell.changed(version);
  cell.set(1003);
  assert.is(await pending, 1003);
  unsub();
  assert.is(await cell.until((v) => v === 1003), 1003);
});

test('until() times out with a clear error', async () => {
  const cell = new Latest(0);
  try {
    await cell.until((v) => v === 1, 50);
    assert.unreachable('should time out');
  } catch (err) {
    assert.match((err as Error).message, /within 50 ms/);
  }
});

test('reconnect backoff grows exponentially with jitter, is capped, and resets', () => {
  const b = new Backoff(500, 8000, () => 0.5);
  const delays = Array.from({ length: 7 }, () => b.next());
  assert.equal(delays, [375, 750, 1500, 3000, 6000, 6000, 6000]);
  const hi = new Backoff(500, 8000, () => 0.999);
  for (let i = 0; i < 10; i++) assert.ok(hi.next() <= 8000);
  b.reset();
  assert.is(b.attempt, 0);
  assert.is(b.next(), 375);
});

test.run();
