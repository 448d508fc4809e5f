import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DEFAULT_REPLAY_WINDOW, ReplayWindow } from '../../host/voice/replay-window.js';

test('default size and validation', () => {
  assert.is(DEFAULT_REPLAY_WINDOW, 1024);
  assert.is(new ReplayWindow().size, 1024);
  assert.throws(() => new ReplayWindow(1000), RangeError);
  assert.throws(() => new ReplayWindow(16), RangeError);
  assert.throws(() => new ReplayWindow(0), RangeError);
  assert.throws(() => new ReplayWindow(2 ** 32), RangeError);
});

test('in-order sequence from 0, duplicates rejected', () => {
  const w = new ReplayWindow();
  assert.is(w.highest, null);
  for (let i = 0; i < 5000; i++) {
    assert.ok(w.check(i), `check ${i}`);
    assert.ok(w.accept(i), `accept ${i}`);
    assert.not.ok(w.check(i), `dup check ${i}`);
    assert.not.ok(w.accept(i), `dup accept ${i}`);
  }
  assert.is(w.highest, 4999n);
});

test('check() does not mutate', () => {
  const w = new ReplayWindow();
  assert.ok(w.check(10));
  assert.ok(w.check(10));
  assert.is(w.highest, null);
  w.accept(10);
  assert.ok(w.check(11));
  assert.ok(w.check(9));
  assert.is(w.highest, 10n);
});

test('out of order within the window', () => {
  const w = new ReplayWindow(1024);
  assert.ok(w.accept(2000));
  assert.ok(w.accept(1990));
  assert.ok(w.accept(1999));
  assert.not.ok(w.accept(1990));
  assert.ok(w.accept(2000 - 1023), 'oldest slot still inside');
  assert.not.ok(w.check(2000 - 1024), 'one past the back edge');
  assert.ok(w.accept(2001));
  assert.not.ok(w.accept(1999));
  assert.ok(w.accept(1995));
  assert.is(w.highest, 2001n);
});

test('too old is rejected, also before anything inside it was seen', () => {
  const w = new ReplayWindow(1024);
  w.accept(5000);
  assert.not.ok(w.check(0));
  assert.not.ok(w.check(5000 - 1024));
  assert.ok(w.check(5000 - 1023));
  assert.not.ok(w.accept(3976));
});

test('sliding clears stale bits (sequence s and s+size share a slot)', () => {
  const w = new ReplayWindow(64);
  for (let i = 0; i < 64; i++) assert.ok(w.accept(i));
  // Every slot is now set. Advance by 1 at a time: each new sequence reuses a slot.
  for (let i = 64; i < 300; i++) assert.ok(w.accept(i), `advance ${i}`);
  // Skip ahead by less than the window; the skipped sequences must be acceptable.
  assert.ok(w.accept(340));
  for (let i = 300; i < 340; i++) assert.ok(w.check(i), `skipped ${i} acceptable`);
  for (let i = 300; i < 340; i++) assert.ok(w.accept(i));
  for (let i = 277; i < 341; i++) assert.not.ok(w.check(i), `seen or too old ${i}`);
  assert.not.ok(w.check(276), 'too old');
});

test('huge forward jump resets the window', () => {
  const w = new ReplayWindow(1024);
  for (let i = 0; i < 100; i++) w.accept(i);
  assert.ok(w.accept(1_000_000));
  assert.not.ok(w.check(50), 'old ones are now too old');
  for (let s = 1_000_000 - 1023; s < 1_000_000; s++) assert.ok(w.check(s), `fresh ${s}`);
  assert.not.ok(w.check(1_000_000));
  // Jump of exactly the window size
  assert.ok(w.accept(1_000_000 + 1024));
  assert.ok(w.check(1_000_001));
  assert.not.ok(w.check(1_000_000));
});

test('sequences beyond 2^53 and up to 2^64-1 (bigint)', () => {
  const w = new ReplayWindow(1024);
  const base = 2n ** 53n + 1n; // not representable as a JS number
  assert.ok(w.accept(base));
  assert.ok(w.accept(base + 1n));
  assert.not.ok(w.accept(base), 'dup of 2^53+1');
  assert.ok(w.accept(base - 1n), 'neighbour below, distinct from base when rounded');
  assert.ok(w.check(base + 2n));
  assert.not.ok(w.check(base - 1024n));
  assert.ok(w.check(base - 1022n));
  assert.is(w.highest, base + 1n);

  const max = 2n ** 64n - 1n;
  assert.ok(w.accept(max), 'jump to max');
  assert.not.ok(w.accept(max));
  assert.ok(w.accept(max - 1023n));
  assert.not.ok(w.check(max - 1024n));
  assert.not.ok(w.check(base + 2n));
  assert.is(w.highest, max);

  // Crossing the 32-bit boundary with both representations.
  const x = new ReplayWindow(1024);
  assert.ok(x.accept(2 ** 32 - 2));
  assert.ok(x.accept(2n ** 32n + 3n));
  assert.ok(x.check(2 ** 32 - 1));
  assert.not.ok(x.check(2n ** 32n - 2n));
  assert.ok(x.accept(2 ** 32));
  assert.not.ok(x.accept(2n ** 32n));
});

test('number and bigint inputs are interchangeable', () => {
  const w = new ReplayWindow();
  assert.ok(w.accept(7n));
  assert.not.ok(w.check(7));
  assert.ok(w.accept(8));
  assert.not.ok(w.check(8n));
});

test('invalid sequences are rejected without touching state', () => {
  const w = new ReplayWindow();
  for (const bad of [-1, -1n, 1.5, Number.NaN, Infinity, 2 ** 53, 2n ** 64n]) {
    assert.not.ok(w.check(bad), String(bad));
    assert.not.ok(w.accept(bad), String(bad));
  }
  assert.is(w.highest, null);
  assert.ok(w.accept(0));
});

test('checkAndUpdate and reset', () => {
  const w = new ReplayWindow();
  assert.ok(w.checkAndUpdate(1));
  assert.not.ok(w.checkAndUpdate(1));
  w.reset();
  assert.is(w.highest, null);
  assert.ok(w.checkAndUpdate(1));
});

test('randomised against a reference Set model', () => {
  const size = 128;
  const w = new ReplayWindow(size);
  const seen = new Set<number>();
  let top = -1;
  let x = 12345;
  const rand = (): number => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return x;
  };
  for (let i = 0; i < 50_000; i++) {
    const r = rand() % 100;
    const base = Math.max(top, 0);
    const seq = r < 5 ? base + 100 + (rand() % 400) : Math.max(0, base - 150 + (rand() % 160));
    const expected = !seen.has(seq) && (top < 0 || seq > top - size);
    assert.is(w.check(seq), expected, `check ${seq} top ${top}`);
    assert.is(w.accept(seq), expected, `accept ${seq}`);
    if (expected) {
      seen.add(seq);
      top = Math.max(top, seq);
    }
  }
});

test('advanced: true only when an accepted sequence is the highest so far (what may start a path change)', () => {
  const w = new ReplayWindow();
  const seen: boolean[] = [];
  for (const seq of [5, 7, 6, 7, 8, 3, 2000, 1999]) {
    w.accept(seq);
    seen.push(w.advanced);
  }
  // 5 first, 7 new top, 6 late, 7 duplicate (refused), 8 new top, 3 late, 2000 new top, 1999 late
  assert.equal(seen, [true, true, false, false, true, false, true, false]);
  w.reset();
  assert.is(w.advanced, false);
});

test.run();
