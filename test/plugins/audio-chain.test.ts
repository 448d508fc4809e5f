// The capture chain: every audio guest in one chain thread, one hop per
// frame; order and slots, the echo canceller's reference, the per-guest
// overrun bypass and disable, faults, and live enable/disable/replace.
// (The hung guest and the kill/restart are in audio-chain-kill.test.ts,
// 100,000-frame state continuity in audio-chain-soak.test.ts.)
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { PluginError } from '../../host/plugins/errors.js';
import type { Effect } from '../../host/plugins/protocol.js';
import { audioSlotOf, parseManifest } from '../../host/plugins/manifest.js';
import { AudioChain } from '../../host/plugins/chain/audio-chain.js';
import { clock, FRAME, frame, gainGuest, reportLog, sameSamples, scaled, testGuest } from './chain-helpers.js';

const test = suite('plugins: audio chain');

const GENEROUS = { callMs: 200, killMs: 2000 };
const silence = new Float32Array(FRAME);

async function rejects(p: Promise<unknown>, code: string, re: RegExp): Promise<void> {
  try {
    await p;
  } catch (err) {
    assert.instance(err, PluginError);
    assert.is((err as PluginError).code, code, (err as Error).message);
    assert.match((err as Error).message, re);
    return;
  }
  assert.unreachable('the chain was accepted');
}

test('4 guests run in slot order, each output the next input, one hop per frame', async () => {
  // Given as effects A, B, counter, C and an NS gain last: the NS slot runs
  // before the effects, the effects keep their order (counter's position shows it).
  const ns = { ...gainGuest('ns-gain', 3, GENEROUS), slot: 'ns' as const };
  const chain = await AudioChain.start({
    guests: [gainGuest('ga', 0.5, GENEROUS), gainGuest('gb', 0.25, GENEROUS), testGuest('counter', { limits: GENEROUS }), gainGuest('gc', 2, GENEROUS), ns],
  });
  try {
    assert.equal(chain.stats().guests.map((g) => `${g.slot}:${g.pluginId}`), ['ns:ns-gain', 'effect:ga', 'effect:gb', 'effect:counter', 'effect:gc']);
    const out = new Float32Array(FRAME);
    const FRAMES = 300;
    for (let n = 1; n <= FRAMES; n++) {
      const mic = frame(n);
      const r = chain.process(mic, silence, out, 1000);
      if (!r.processed) assert.unreachable(`frame ${n}: ${r.status}`);
      const expected = scaled(mic, 3, 0.5, 0.25, 2);
      expected[0] = n * 2; // counter writes its count, then c doubles it
      expected[1] = (n > 255 ? n - 255 : 0) * 2;
      if (!sameSamples(out, expected)) assert.unreachable(`frame ${n}: ${out.slice(0, 3).join()} != ${expected.slice(0, 3).join()}`);
    }
    const s = chain.stats();
    assert.is(s.frames, FRAMES);
    assert.is(s.processed, FRAMES);
    assert.is(s.hops, FRAMES, 'the chain thread served one hop per frame, for all five guests');
    for (const g of s.guests) {
      assert.is(g.calls, FRAMES, `${g.pluginId} calls`);
      assert.is(g.ok, FRAMES, `${g.pluginId} ok`);
      assert.is(g.state, 'running');
      assert.ok(g.p50Us > 0 && g.p99Us >= g.p50Us, `${g.pluginId} has latency figures`);
    }
    assert.ok(s.hopP50Us > 0 && s.hopP99Us >= s.hopP50Us);
  } finally {
    await chain.close();
    await chain.close(); // idempotent
  }
  const out = new Float32Array(FRAME);
  const r = chain.process(frame(1), silence, out, 10);
  assert.is(r.status, 'unavailable', 'closed: frames pass through');
  assert.ok(sameSamples(out, frame(1)));
});

test('a zero-copy guest publishes named stats (statSet) that stats() carries; a guest naming none publishes nothing', async () => {
  const g = gainGuest('gs', 0.5, GENEROUS);
  const named = { ...g, manifest: parseManifest({ ...g.manifest, audio: { slot: 'effect', stats: ['gain', 'peak'] } }) };
  const chain = await AudioChain.start({ guests: [named, gainGuest('gq', 2, GENEROUS)] });
  try {
    assert.equal(chain.stats().guests[0]!.published, {}, 'nothing published before the first frame (NaN is left out)');
    const out = new Float32Array(FRAME);
    const mic = frame(3);
    // The first frame goes through the Extism hook (config); stats come from the zero-copy frames after it.
    for (let n = 0; n < 2; n++) {
      const r = chain.process(mic, silence, out, 1000);
      if (!r.processed) assert.unreachable(r.status);
    }
    const peak = Math.max(...Array.from(mic, (x) => Math.abs(Math.fround(x * 0.5))));
    const [gs, gq] = chain.stats().guests;
    assert.is(gs!.published!.gain, 0.5);
    assert.ok(Math.abs(gs!.published!.peak! - peak) < 1e-3, `peak ${gs!.published!.peak} ~ ${peak}`);
    assert.is(gq!.published, undefined, 'its manifest names no stats: none are copied');
  } finally {
    await chain.close();
  }
});

test('the AEC guest gets exactly the reference passed with its mic frame, and runs first', async () => {
  // echoref answers mic - reference. It is listed last and its manifest has
  // no audio.slot: on_aec_raw alone makes it the canceller, which runs first.
  const aec = testGuest('echoref', { noSlotField: true, limits: GENEROUS });
  assert.is(audioSlotOf(aec.manifest), 'aec');
  delete aec.slot;
  const chain = await AudioChain.start({ guests: [gainGuest('gn', 0.5, GENEROUS), aec] });
  try {
    const out = new Float32Array(FRAME);
    const mic = new Float32Array(FRAME);
    const ref = new Float32Array(FRAME);
    let seed = 12345;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32) * 2 - 1;
    for (let n = 0; n < 200; n++) {
      for (let i = 0; i < FRAME; i++) {
        mic[i] = rnd();
        ref[i] = rnd() * 0.5;
      }
      const r = chain.process(mic, ref, out, 1000);
      if (!r.processed) assert.unreachable(`frame ${n}: ${r.status}`);
      for (let i = 0; i < FRAME; i++) {
        const want = Math.fround(Math.fround(mic[i]! - ref[i]!) * 0.5);
        if (out[i] !== want) assert.unreachable(`frame ${n} sample ${i}: ${out[i]} != ${want} (reference not aligned)`);
      }
    }
    assert.equal(chain.stats().guests.map((g) => g.pluginId), ['echoref', 'gn']);
  } finally {
    await chain.close();
  }
});

test('an overrunning guest is bypassed for that frame only; repeated overruns disable it; audio never stops', async () => {
  const log = reportLog();
  const spin = testGuest('spin', { limits: { callMs: 10, killMs: 5000, overrunLimit: 3 } });
  const chain = await AudioChain.start({ guests: [spin, gainGuest('gn', 0.5, GENEROUS)], onReport: log.onReport });
  try {
    const out = new Float32Array(FRAME);
    const both = (f: Float32Array) => scaled(f, 0.5, 0.5);
    const run = (f: Float32Array, what: string) => {
      const r = chain.process(f, silence, out, 2000);
      assert.ok(r.processed, `${what}: the chain answered (${r.status})`);
      assert.is(out.length, FRAME);
      return r;
    };
    // Calibrate the guest's loop (it has no clock), inside the warm-up grace
    // of its first 20 calls (an overrun there is bypassed but not counted):
    // aim for ~15x its callMs: a probe slowed by a busy machine makes the
    // estimate too high, and a "slow" frame must still overrun when the
    // machine is idle again.
    const probe = 20_000;
    run(frame(0, probe), 'probe');
    const usPerKilo = chain.stats().guests[0]!.lastUs / probe;
    const slowK = Math.max(1000, Math.round(150_000 / usPerKilo));
    for (let n = 0; n < 25; n++) run(frame(n), 'warm-up');
    assert.ok(sameSamples(out, both(frame(24))), 'both effects');

    for (let k = 1; k <= 3; k++) {
      const slow = frame(100 + k, slowK);
      const r = run(slow, `slow frame ${k}`);
      assert.is(r.bypassedGuests, 1, 'one guest went without');
      assert.ok(sameSamples(out, scaled(slow, 0.5)), `slow frame ${k}: only gain applied (spin's output discarded)`);
      const next = frame(200 + k);
      run(next, `frame after slow frame ${k}`);
      if (k < 3) assert.ok(sameSamples(out, both(next)), `spin's effect is back on the next frame (${k})`);
      else assert.ok(sameSamples(out, scaled(next, 0.5)), 'third counted overrun: spin is disabled');
    }
    const g = chain.stats().guests[0]!;
    assert.is(g.state, 'disabled');
    assert.ok(g.overruns >= 4, `overruns counted (${g.overruns})`);
    assert.ok(g.bypassed >= 4);
    assert.ok(log.of('spin', 'overrun').length >= 4, 'each overrun reported');
    assert.is(log.of('spin', 'disabled').length, 1, 'disabled once, reported');
    assert.match(log.of('spin', 'disabled')[0]!.message, /3 of its last 100 calls/);
    const s = chain.stats();
    assert.is(s.processed, s.frames, 'every frame came back processed: no gap');
    assert.is(s.lateFrames, 0);

    chain.setEnabled('spin', true); // its instance is intact: back at once
    run(frame(7), 'after re-enabling');
    assert.ok(sameSamples(out, both(frame(7))));
    assert.is(chain.stats().guests[0]!.state, 'running');
  } finally {
    await chain.close();
  }
});

test('a guest that answers the wrong length or traps is disabled; the chain goes on', async () => {
  const log = reportLog();
  // badframe doubles the frame; sample 0 == 777: answers 100 bytes; == 666: traps.
  const chain = await AudioChain.start({
    guests: [testGuest('badframe', { id: 'bad-length', limits: GENEROUS }), gainGuest('gn', 0.5, GENEROUS), testGuest('badframe', { id: 'trapper', limits: GENEROUS })],
    onReport: log.onReport,
  });
  try {
    const out = new Float32Array(FRAME);
    const run = (f: Float32Array, ...gains: number[]) => {
      const r = chain.process(f, silence, out, 1000);
      assert.ok(r.processed, r.status);
      assert.ok(sameSamples(out, scaled(f, ...gains)), `x ${gains.join(' x ')}: got ${out.slice(0, 2).join()}`);
      return r;
    };
    run(frame(1), 2, 0.5, 2);
    // bad-length answers 100 bytes: discarded, gain gets its input (777 -> 388.5: trapper just doubles).
    assert.is(run(frame(2, 777), 0.5, 2).bypassedGuests, 1);
    assert.is(chain.stats().guests[0]!.state, 'faulted');
    assert.match(log.of('bad-length', 'fault')[0]?.message ?? '', /100 bytes, expected 3840/);
    assert.is(log.of('bad-length', 'disabled').length, 1);
    // 1332 -> gain -> 666: trapper executes unreachable.
    run(frame(3, 1332), 0.5);
    assert.match(log.of('trapper', 'fault')[0]?.message ?? '', /trapped/);
    for (let n = 4; n < 10; n++) run(frame(n), 0.5); // the rest of the chain keeps running
    const s = chain.stats();
    assert.equal(s.guests.map((g) => g.state), ['faulted', 'running', 'faulted']);
    assert.is(s.guests[2]!.faults, 1);
    assert.is(s.restarts, 0, 'no thread restart needed');

    // Re-enabling a faulted guest brings a fresh instance (the chain thread restarts).
    chain.setEnabled('trapper', true);
    await clock(() => chain.process(frame(5), silence, out, 1000), () => chain.stats().guests[2]!.state === 'running', 5000);
    run(frame(11), 0.5, 2);
    assert.is(chain.stats().guests[0]!.state, 'faulted', 'bad-length stays out');
    assert.is(log.of('trapper', 'restarted').length, 1);
    assert.is(chain.stats().restarts, 1);
  } finally {
    await chain.close();
  }
});

test('enable / disable / replace while frames flow', async () => {
  const chain = await AudioChain.start({ guests: [gainGuest('g1', 0.5, GENEROUS), gainGuest('g2', 0.25, GENEROUS)] });
  try {
    const out = new Float32Array(FRAME);
    const check = (n: number, ...gains: number[]) => {
      const r = chain.process(frame(n), silence, out, 1000);
      assert.ok(r.processed, r.status);
      assert.ok(sameSamples(out, scaled(frame(n), ...gains)), `frame ${n} x ${gains.join(' x ')}`);
    };
    check(1, 0.5, 0.25);
    chain.setEnabled('g2', false);
    check(2, 0.5);
    assert.is(chain.stats().guests[1]!.state, 'off');
    chain.setEnabled('g1', false);
    check(3);
    chain.setEnabled('g2', true);
    chain.setEnabled('g1', true);
    check(4, 0.5, 0.25);
    assert.throws(() => chain.setEnabled('nope', true), /not in the capture chain/);

    // Replace: add g3, drop g2. Frames keep flowing through the old chain until the new one is ready.
    const replaced = chain.replace([gainGuest('g1', 0.5, GENEROUS), gainGuest('g3', 2, GENEROUS)]);
    let done = false;
    void replaced.then(() => (done = true));
    const seen = new Set<string>();
    await clock(
      (n) => {
        const f = frame(n);
        const r = chain.process(f, silence, out, 1000);
        assert.is(out.length, FRAME);
        if (!r.processed) seen.add(r.status);
        else if (sameSamples(out, scaled(f, 0.5, 0.25))) seen.add('old');
        else if (sameSamples(out, scaled(f, 0.5, 2))) seen.add('new');
        else assert.unreachable(`frame ${n}: neither chain's output`);
      },
      () => done && seen.has('new'),
      5000,
      5,
    );
    assert.ok(!seen.has('late') && !seen.has('busy'), `no frame was bypassed by the swap (${[...seen].join()})`);
    assert.equal(chain.stats().guests.map((g) => g.pluginId), ['g1', 'g3']);
    assert.ok(chain.stats().guests[0]!.calls > 4, 'g1 kept its counters across the swap');
    await rejects(chain.replace([gainGuest('gx', 1), gainGuest('gx', 1)]), 'DUPLICATE_ID', /twice/);
    check(99, 0.5, 2);
  } finally {
    await chain.close();
  }
});

test('a late chain passes the frame through unprocessed and drops the late result', async () => {
  const spin = testGuest('spin', { limits: { callMs: 5000, killMs: 10_000 } });
  const chain = await AudioChain.start({ guests: [spin] });
  try {
    const out = new Float32Array(FRAME);
    for (let n = 0; n < 5; n++) chain.process(frame(n), silence, out, 1000);
    const slow = frame(1, 100_000); // ~0.1 s of spinning: far past a 5 ms deadline
    let r = chain.process(slow, silence, out, 5);
    assert.is(r.status, 'late');
    assert.ok(sameSamples(out, slow), 'out = mic');
    r = chain.process(frame(2), silence, out, 5);
    assert.is(r.status, 'busy', 'nothing queues behind a late frame');
    assert.ok(sameSamples(out, frame(2)));
    let last = 0;
    await clock(
      (n) => {
        last = n;
        chain.process(frame(n), silence, out, 50);
      },
      () => chain.stats().processed > 5,
      5000,
    );
    assert.ok(sameSamples(out, scaled(frame(last), 0.5)), 'processed again once the late call finished');
    const s = chain.stats();
    assert.is(s.lateFrames, 1);
    assert.ok(s.busyFrames >= 1);
    assert.is(s.guests[0]!.calls, s.hops, 'the late call was counted when it finished');
    assert.is(s.guests[0]!.overruns, 0, 'late for the deadline, but within its own callMs');
  } finally {
    await chain.close();
  }
});

test("guests' host-function effects reach onEffect; capabilities are checked in the chain thread", async () => {
  const effects: { pluginId: string; effect: Effect }[] = [];
  // Granted audio.intercept only: gain's config request is denied (and so keeps its default gain 1).
  const chain = await AudioChain.start({ guests: [{ ...gainGuest('gn', 0.5, GENEROUS), grants: ['audio.intercept'] }], onEffect: (pluginId, effect) => void effects.push({ pluginId, effect }) });
  try {
    const out = new Float32Array(FRAME);
    chain.process(frame(1), silence, out, 1000);
    assert.ok(sameSamples(out, frame(1)), 'no config: gain 1');
    chain.process(frame(2), silence, out, 1000); // the effects are drained with the frame after a call too
    const denied = effects.find((e) => e.effect.kind === 'log' && /hearth_config_get without the "config.read" capability/.test(e.effect.msg));
    assert.ok(denied, JSON.stringify(effects));
    assert.is(denied.pluginId, 'gn');
  } finally {
    await chain.close();
  }
});

test('chains that cannot be built are refused with a clear error', async () => {
  const aec = testGuest('echoref');
  await rejects(AudioChain.start({ guests: [aec, testGuest('echoref', { id: 'aec2' })] }), 'LOAD_FAILED', /"aec" slot holds one plugin/);
  await rejects(AudioChain.start({ guests: [{ ...gainGuest('gn', 1), grants: [] }] }), 'LOAD_FAILED', /needs the "audio.intercept" capability/);
  await rejects(AudioChain.start({ guests: [{ ...aec, slot: 'effect' }] }), 'MANIFEST_INVALID', /"aec" plugin .* "effect" slot/);
  await rejects(AudioChain.start({ guests: [{ ...gainGuest('gn', 1), slot: 'aec' }] }), 'MANIFEST_INVALID', /does not declare the on_aec_raw hook/);
  await rejects(AudioChain.start({ guests: [{ ...gainGuest('gn', 1), wasm: new Uint8Array([0, 97, 115, 109]) }] }), 'SHA256_MISMATCH', /sha256/);
  // The manifest field is checked against the hooks.
  assert.throws(() => parseManifest({ ...aec.manifest, audio: { slot: 'ns' } }), /slot "ns" needs the on_audio_raw hook/);
  assert.is(audioSlotOf(parseManifest({ ...aec.manifest, hooks: ['on_chat'], capabilities: ['chat.intercept', 'audio.intercept'], audio: undefined })), null);
});

test.run();
