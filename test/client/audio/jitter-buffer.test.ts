// The jitter buffer on synthetic time: packets are "sent" every 20 ms, given a
// per-packet network delay, and pushed when they arrive; playout ticks every
// 20 ms at a phase of its own, pushing the tick's arrivals before next().
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { JitterBuffer, type PlayoutDecision } from '../../../host/client/audio/jitter-buffer.js';

interface Arrival {
  seq: number;
  at: number;
}
interface Tick {
  now: number;
  d: PlayoutDecision;
}

/** Packet `seq` sent at 20·seq ms (+ `sendOffset`), arriving `delay(seq)` ms later; null delay = lost. */
function stream(from: number, to: number, delay: (seq: number) => number | null, sendOffset = 0): Arrival[] {
  const out: Arrival[] = [];
  for (let seq = from; seq < to; seq++) {
    const d = delay(seq);
    if (d !== null) out.push({ seq, at: sendOffset + (seq - from) * 20 + d });
  }
  return out.sort((a, b) => a.at - b.at);
}

function payloadOf(seq: number): Uint8Array {
  return Uint8Array.of(seq & 0xff, (seq >> 8) & 0xff, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22);
}

function run(
  jb: JitterBuffer,
  arrivals: Arrival[],
  fromMs: number,
  toMs: number,
  phase = 5,
  onTick?: (t: Tick) => void,
  payload: (seq: number) => Uint8Array = payloadOf,
): Tick[] {
  const ticks: Tick[] = [];
  let k = 0;
  for (let now = fromMs + phase; now < toMs; now += 20) {
    while (k < arrivals.length && arrivals[k]!.at <= now) {
      const a = arrivals[k++]!;
      jb.push(a.seq, payload(a.seq), a.at);
    }
    const t = { now, d: jb.next(now) };
    ticks.push(t);
    onTick?.(t);
  }
  return ticks;
}

/** Deterministic PRNG so every run sees the same "network". */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

const active = (ticks: Tick[]): Tick[] => ticks.filter((t) => t.d.kind !== 'idle');

test('in-order stream: plays after a hold of at least 40 ms, one frame per tick, in order', () => {
  const jb = new JitterBuffer();
  const arrivals = stream(0, 50, () => 10);
  const ticks = run(jb, arrivals, 0, 1400);
  const first = ticks.findIndex((t) => t.d.kind !== 'idle');
  assert.equal(ticks.slice(0, first).map((t) => t.d), [{ kind: 'idle', buffering: false }, { kind: 'idle', buffering: true }, { kind: 'idle', buffering: true }]);
  // Packet 0 arrived at 10; ticks at 5, 25, 45, 65: 45 would be a 35 ms hold, so playout starts at 65.
  assert.is(ticks[first]!.now, 65);
  const played = ticks.slice(first, first + 50);
  played.forEach((t, i) => {
    assert.is(t.d.kind, 'packet');
    assert.is((t.d as { seq: number }).seq, i);
    assert.is((t.d as { payload: Uint8Array }).payload[0], i);
  });
  const s = jb.stats();
  assert.equal([s.received, s.lost, s.late, s.duplicate, s.concealed, s.inserted, s.dropped], [50, 0, 0, 0, 0, 0, 0]);
  assert.is(s.targetMs, 40);
});

test('reordering within the window is fixed', () => {
  const jb = new JitterBuffer();
  // Every odd packet overtakes the even one before it by 10 ms.
  const ticks = run(jb, stream(0, 100, (seq) => (seq % 2 === 0 ? 30 : 0)), 0, 2600);
  const seqs = active(ticks).filter((t) => t.d.kind === 'packet').map((t) => (t.d as { seq: number }).seq);
  assert.equal(seqs, Array.from({ length: 100 }, (_, i) => i));
  const s = jb.stats();
  assert.is(s.lost, 0);
  assert.is(s.late, 0);
  assert.is(s.jitterMs, 30);
  assert.is(s.targetMs, 40);
});

test("a missing packet with seq+1 present is 'fec', without it 'plc'", () => {
  const jb = new JitterBuffer();
  const lost = new Set([10, 20, 21]);
  const ticks = active(run(jb, stream(0, 40, (seq) => (lost.has(seq) ? null : 10)), 0, 1200));
  const at = (seq: number): PlayoutDecision => ticks.find((t) => 'seq' in t.d && t.d.seq === seq)!.d;
  const d10 = at(10);
  assert.is(d10.kind, 'fec');
  assert.is((d10 as { payload: Uint8Array }).payload[0], 11, 'FEC comes from packet 11');
  assert.is(at(11).kind, 'packet', 'packet 11 still plays at its own turn');
  assert.is(at(20).kind, 'plc', '21 is missing too: nothing carries 20');
  assert.is(at(21).kind, 'fec');
  const s = jb.stats();
  assert.equal([s.lost, s.fecRecovered, s.concealed], [3, 2, 1]);
});

test('duplicates and too-late packets are dropped and counted', () => {
  const jb = new JitterBuffer();
  let pushedLate: string | null = null;
  let pushedDup: string | null = null;
  let replayed: string | null = null;
  run(jb, stream(0, 40, (seq) => (seq === 15 ? null : 10)), 0, 1000, 5, (t) => {
    if (t.now === 285) pushedDup = jb.push(12, payloadOf(12), t.now); // still held
    if (t.now === 505) {
      pushedLate = jb.push(15, payloadOf(15), t.now); // its turn passed (FEC covered it)
      replayed = jb.push(3, payloadOf(3), t.now); // already played
    }
  });
  assert.is(pushedDup, 'duplicate');
  assert.is(pushedLate, 'late');
  assert.is(replayed, 'duplicate');
  const s = jb.stats();
  assert.equal([s.received, s.duplicate, s.late, s.lost, s.fecRecovered], [42, 2, 1, 1, 1]);
});

test('a spurt end fades out and goes idle; the next spurt starts afresh', () => {
  const jb = new JitterBuffer();
  // Two spurts whose frame indices run on (the sender's clock does not advance in silence), then one after a gap.
  const arrivals = [...stream(0, 20, () => 10), ...stream(20, 30, () => 10, 1000), ...stream(100, 110, () => 10, 2000)];
  const ticks = run(jb, arrivals, 0, 2600);
  const afterFirst = ticks.findIndex((t) => t.d.kind === 'packet' && t.d.seq === 19) + 1;
  const tail = ticks.slice(afterFirst, afterFirst + 4).map((t) => t.d);
  assert.equal(tail.map((d) => d.kind), ['plc', 'plc', 'plc', 'idle']);
  assert.equal(tail.slice(0, 3).map((d) => (d as { fadeOut: boolean }).fadeOut), [false, false, true]);
  // Stragglers of an ended spurt are late (or duplicates), not a new spurt.
  const jb3 = new JitterBuffer();
  run(jb3, stream(0, 20, (seq) => (seq === 17 ? null : 10)), 0, 900);
  assert.is(jb3.active, false);
  assert.is(jb3.push(17, payloadOf(17), 900), 'late');
  assert.is(jb3.push(18, payloadOf(18), 900), 'duplicate');
  assert.is(jb3.active, false);
  assert.is(jb3.push(20, payloadOf(20), 900), 'queued', 'a newer index starts a spurt');
  assert.is(jb3.active, true);
  const jb2 = new JitterBuffer();
  const ticks2 = run(jb2, arrivals, 0, 2600);
  const second = ticks2.filter((t) => t.now > 1000 && t.d.kind === 'packet');
  assert.is((second[0]!.d as { seq: number }).seq, 20);
  assert.ok(second[0]!.now - 1010 >= 40, 'the new spurt is held for 40 ms again');
  const third = ticks2.filter((t) => t.now > 2000 && t.d.kind === 'packet');
  assert.is((third[0]!.d as { seq: number }).seq, 100);
  const s = jb2.stats();
  assert.is(s.spurts, 3);
  assert.is(s.lost, 0, 'neither the tails nor the index gap count as loss');
  assert.is(s.concealed, 0);
  assert.ok(ticks2.filter((t) => t.d.kind === 'plc' && t.d.fadeOut).length === 3);
  assert.is(ticks2[ticks2.length - 1]!.d.kind, 'idle');
});

test('30 ms random jitter grows the target above 40 ms; calm brings it back to 40 ms', () => {
  const jb = new JitterBuffer();
  const rnd = prng(7);
  // 30 ms of random jitter on top of a 20 ms path: each packet delayed 20 + U(0, 60) ms (mean extra 30 ms), for
  // 20 s after 4 s of calm, then calm (20 ms) again for 20 s.
  const JITTER_FROM = 200;
  const JITTER_TO = 1200;
  const arrivals = stream(0, 2200, (seq) => (seq >= JITTER_FROM && seq < JITTER_TO ? 20 + 60 * rnd() : 20));
  let grewAt = -1;
  let maxTarget = 0;
  let backAt = -1;
  let settledAt = -1;
  const lateBefore = { n: 0 };
  run(jb, arrivals, 0, 44_100, 5, (t) => {
    const s = jb.stats();
    if (t.now > JITTER_FROM * 20 && grewAt < 0 && s.targetMs > 40) grewAt = t.now;
    if (t.now < JITTER_TO * 20) maxTarget = Math.max(maxTarget, s.targetMs);
    if (t.now === 10_005) lateBefore.n = s.late;
    if (t.now > JITTER_TO * 20 && backAt < 0 && s.targetMs === 40) backAt = t.now;
    if (t.now > JITTER_TO * 20 && settledAt < 0 && s.playoutDelayMs <= 60) settledAt = t.now;
  });
  const s = jb.stats();
  // Measured: target 60 ms 0.5 s after the jitter starts (one inserted frame, 4 packets late of 2200); back
  // to 40 ms 3.8 s, and the delay within a frame of it (one dropped frame) 4.8 s, after it stops.
  assert.ok(grewAt > 0 && grewAt - JITTER_FROM * 20 < 1000, `target grew ${grewAt - JITTER_FROM * 20} ms after jitter started`);
  assert.ok(maxTarget >= 60 && maxTarget <= 100, `max target ${maxTarget}`);
  assert.ok(s.inserted > 0, 'the playout delay grew by inserted frames');
  assert.ok(backAt > 0 && backAt - JITTER_TO * 20 < 6000, `target back to 40 ms ${backAt - JITTER_TO * 20} ms after calm`);
  assert.ok(settledAt > 0 && settledAt - JITTER_TO * 20 < 10_000, `delay back to ≤ 60 ms ${settledAt - JITTER_TO * 20} ms after calm`);
  assert.ok(s.dropped > 0, 'it shrank by dropping frames');
  assert.ok(s.late / s.received < 0.01, `late ${s.late} of ${s.received}`);
  assert.is(s.lost, s.concealed + s.fecRecovered);
});

test('a faster network shrinks the delay slowly, by dropping quiet frames after a calm spell', () => {
  const jb = new JitterBuffer();
  // 100 ms of extra delay that goes away after 4 s: from then on packets wait ~100 ms too long.
  const arrivals = stream(0, 1000, (seq) => (seq < 200 ? 110 : 10));
  // Every 25th payload is small, as Opus makes them in silence.
  const quiet = (seq: number): Uint8Array => (seq % 25 === 0 ? Uint8Array.of(seq & 0xff, 0, 0) : payloadOf(seq));
  const drops: { now: number; seq: number }[] = [];
  let s = jb.stats();
  run(jb, arrivals, 0, 20_500, 5, (t) => {
    if (t.d.kind === 'packet' && t.d.skipped) drops.push({ now: t.now, seq: t.d.seq - 1 });
    if (t.now === 18_005) s = jb.stats();
  }, quiet);
  // Measured: 5 drops, 1.5 s apart from 7.2 s (3 s after the change) to 13.1 s; then 55 ms of delay.
  assert.ok(drops.length >= 3 && drops.length <= 5, `${drops.length} drops`);
  assert.ok(drops.every((d) => d.seq % 25 === 0), 'only quiet frames were dropped');
  assert.ok(drops[0]!.now >= 4000 + 3000, 'not before 3 s of calm');
  for (let i = 1; i < drops.length; i++) assert.ok(drops[i]!.now - drops[i - 1]!.now >= 1000, 'at most one drop a second');
  assert.ok(s.playoutDelayMs >= 40 && s.playoutDelayMs < 60, `delay ${s.playoutDelayMs}`);
  assert.equal([s.lost, s.late, s.inserted], [0, 0, 0]);
});

test('5 % random loss: lost == concealed + fecRecovered == missing sequence numbers', () => {
  const jb = new JitterBuffer();
  const rnd = prng(42);
  const N = 2000;
  const dropped = new Set<number>();
  for (let seq = 1; seq < N - 1; seq++) if (rnd() < 0.05) dropped.add(seq);
  run(jb, stream(0, N, (seq) => (dropped.has(seq) ? null : 10)), 0, N * 20 + 500);
  const s = jb.stats();
  assert.ok(dropped.size > 70, `${dropped.size} dropped`);
  assert.is(s.lost, dropped.size);
  assert.is(s.concealed + s.fecRecovered, dropped.size);
  assert.ok(s.fecRecovered > s.concealed && s.concealed > 0, `fec ${s.fecRecovered}, plc ${s.concealed}`);
  assert.is(s.late, 0);
  assert.is(s.received, N - dropped.size);
});

test('same input, same decisions: no clock is read', () => {
  const mk = (): string => {
    const rnd = prng(3);
    const jb = new JitterBuffer();
    const ticks = run(jb, stream(0, 300, () => (rnd() < 0.1 ? null : 10 + 40 * rnd())), 0, 6500);
    return JSON.stringify(ticks.map((t) => [t.d.kind, 'seq' in t.d ? t.d.seq : -1])) + JSON.stringify(jb.stats());
  };
  assert.is(mk(), mk());
});

test.run();
