// A guest that never returns: the chain thread can only be stopped by
// terminating it. Frames are bypassed meanwhile (audio keeps flowing), the
// thread is killed once the hung guest has run its killMs, the guest named
// in the control word is reported, and the chain restarts without it.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { AudioChain, type FrameStatus } from '../../host/plugins/chain/audio-chain.js';
import { clock, FRAME, frame, gainGuest, reportLog, sameSamples, scaled, testGuest } from './chain-helpers.js';

const test = suite('plugins: audio chain kill');
const silence = new Float32Array(FRAME);
const GENEROUS = { callMs: 200, killMs: 2000 };

test('a hung guest: bypassed frames, killed after killMs, chain restarted without it, culprit reported', async () => {
  const log = reportLog();
  const chain = await AudioChain.start({
    guests: [gainGuest('g1', 0.5, GENEROUS), testGuest('hang', { limits: { callMs: 10, killMs: 300, overrunLimit: 100 } }), gainGuest('g2', 0.5, GENEROUS)],
    onReport: log.onReport,
  });
  try {
    const out = new Float32Array(FRAME);
    for (let n = 0; n < 5; n++) chain.process(frame(n), silence, out, 1000);
    assert.ok(sameSamples(out, scaled(frame(4), 0.5, 0.5)), 'all three run (hang passes through)');

    // Sample 0 = -4000 -> g1 -> -2000: hang loops forever.
    const marker = performance.now();
    let r = chain.process(frame(1, -4000), silence, out, 8);
    assert.is(r.status, 'late');
    assert.ok(sameSamples(out, frame(1, -4000)), 'the late frame passes through unprocessed');

    // A 20 ms frame clock: every frame comes back (bypassed, then processed by g1 + g2).
    const statuses = new Map<FrameStatus, number>();
    let killedAt = 0;
    await clock(
      (n) => {
        const f = frame(n + 10);
        r = chain.process(f, silence, out, 8);
        statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
        if (r.processed) {
          if (!sameSamples(out, scaled(f, 0.5, 0.5))) assert.unreachable(`frame ${n}: processed but not by g1 + g2`);
        } else if (!sameSamples(out, f)) assert.unreachable(`frame ${n}: bypassed but not the mic frame`);
        if (!killedAt && log.of('hang', 'killed').length) killedAt = performance.now();
      },
      () => chain.stats().guests[1]!.state === 'killed' && chain.stats().processed > 8,
      5000,
    );
    const killMs = killedAt - marker;
    assert.ok(killMs >= 280 && killMs < 2000, `killed after ~killMs (${Math.round(killMs)} ms)`);
    assert.ok((statuses.get('busy') ?? 0) >= 5, `frames bypassed while it hung (${JSON.stringify([...statuses])})`);
    assert.ok((statuses.get('processed') ?? 0) >= 3, 'the restarted chain processes frames again');

    const killed = log.of('hang', 'killed');
    assert.is(killed.length, 1);
    assert.match(killed[0]!.message, /still running after killMs \(300 ms\)/);
    assert.is(log.of('hang', 'disabled').length, 1);
    const restarted = log.of('hang', 'restarted');
    assert.is(restarted.length, 1, 'the restart is reported with the culprit');
    assert.match(restarted[0]!.message, /without hang .*running: g1, g2/);
    const s = chain.stats();
    assert.is(s.restarts, 1);
    assert.equal(s.guests.map((g) => g.state), ['running', 'killed', 'running']);
    assert.is(s.guests[1]!.faults, 1);
    assert.is(s.frames, s.processed + s.lateFrames + s.busyFrames + s.unavailableFrames);
    assert.ok(s.guests[0]!.bypassed >= 5, 'the healthy guests count the frames they missed');

    // Back in: a fresh instance of hang, restarted in the background.
    chain.setEnabled('hang', true);
    await clock((n) => void chain.process(frame(n), silence, out, 8), () => chain.stats().guests[1]!.state === 'running' && chain.stats().restarts === 2, 5000);
    r = chain.process(frame(3), silence, out, 100);
    assert.ok(r.processed);
    assert.ok(sameSamples(out, scaled(frame(3), 0.5, 0.5)));
    assert.is(chain.stats().guests[1]!.calls > 0, true);
  } finally {
    await chain.close();
  }
});

test('a guest that hangs while no more frames come is still killed (idle watchdog)', async () => {
  const log = reportLog();
  const chain = await AudioChain.start({ guests: [testGuest('hang', { limits: { callMs: 10, killMs: 200 } })], onReport: log.onReport });
  try {
    const out = new Float32Array(FRAME);
    chain.process(frame(1), silence, out, 100);
    assert.is(chain.process(frame(1, -5000), silence, out, 5).status, 'late');
    const t0 = performance.now();
    while (!log.of('hang', 'killed').length && performance.now() - t0 < 3000) await new Promise((r) => setTimeout(r, 20));
    assert.is(log.of('hang', 'killed').length, 1, 'killed without any further frame');
    assert.ok(performance.now() - t0 < 1000, `within killMs + the watchdog period (${Math.round(performance.now() - t0)} ms)`);
  } finally {
    await chain.close();
  }
});

test('a start function that never returns is blamed on its guest; the chain starts without it', async () => {
  const log = reportLog();
  const t0 = performance.now();
  const chain = await AudioChain.start({
    guests: [gainGuest('g1', 0.5, GENEROUS), testGuest('stuckstart', { limits: { callMs: 10, killMs: 300 } }), gainGuest('g2', 2, GENEROUS)],
    onReport: log.onReport,
    loadTimeoutMs: 400,
  });
  try {
    assert.ok(performance.now() - t0 >= 380, 'waited for the load timeout');
    assert.match(log.of('stuckstart', 'fault')[0]?.message ?? '', /did not finish instantiating within 400 ms/);
    const out = new Float32Array(FRAME);
    assert.ok(chain.process(frame(1), silence, out, 100).processed);
    assert.ok(sameSamples(out, scaled(frame(1), 0.5, 2)), 'the guests before and after it run');
    assert.equal(chain.stats().guests.map((g) => g.state), ['running', 'faulted', 'running']);
  } finally {
    await chain.close();
  }
});

test.run();
