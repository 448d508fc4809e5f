// The audio path: the gain effect through JSON and the binary fast path, the
// late-frame bypass, the overrun limit and the hard kill of a runaway guest.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { PluginHost } from '../../host/plugins/runtime.js';
import { captureLogger, eventually, guestWasm, nextFault, shippedManifest, sleep, testGuestWasm, testManifest } from './helpers.js';

const test = suite('plugins: audio');

function frame(first = 0): Float32Array {
  const f = new Float32Array(960);
  for (let i = 0; i < f.length; i++) f[i] = Math.sin(i / 9) * 0.8;
  f[0] = first;
  return f;
}

const scaled = (f: Float32Array, g: number) => Float32Array.from(f, (x) => Math.fround(x * g));

async function withGain(gain: number): Promise<PluginHost> {
  const host = new PluginHost({ logger: captureLogger().logger });
  const m = shippedManifest('gain');
  // callMs generous here: a cold JSON call can take a few ms before the JIT warms up.
  await host.load({ manifest: { ...m, limits: { ...m.limits, callMs: 200, killMs: 1000 } }, wasm: guestWasm('gain'), grants: m.capabilities, config: { gain } });
  return host;
}

test('gain: the JSON and the binary frame give the same samples, async and sync', async () => {
  const host = await withGain(0.5);
  try {
    const input = frame(0.25);
    const expected = scaled(input, 0.5);
    for (const format of ['json', 'raw'] as const) {
      const a = await host.callAudio('gain', input, format);
      assert.is(a.status, 'ok', `${format} async`);
      assert.equal(Array.from(a.status === 'ok' ? a.value : []), Array.from(expected), `${format} async samples`);
      const s = host.callAudioSync('gain', input, format);
      assert.is(s.status, 'ok', `${format} sync`);
      assert.equal(Array.from(s.status === 'ok' ? s.value : []), Array.from(expected), `${format} sync samples`);
    }
    assert.equal(Array.from(await host.audio(input)), Array.from(expected), 'the chain uses it');
    assert.equal(Array.from(input), Array.from(frame(0.25)), 'the input frame is not modified');
  } finally {
    await host.close();
  }
});

test('gain without config is the identity (default gain 1)', async () => {
  const host = new PluginHost({ logger: captureLogger().logger });
  try {
    const m = shippedManifest('gain');
    await host.load({ manifest: { ...m, limits: { ...m.limits, callMs: 200 } }, wasm: guestWasm('gain'), grants: m.capabilities });
    const input = frame(0.5);
    const out = await host.callAudio('gain', input, 'raw');
    assert.equal(out.status === 'ok' ? Array.from(out.value) : out.status, Array.from(input));
  } finally {
    await host.close();
  }
});

test('a late frame passes through unprocessed and is counted; repeated overruns disable the plugin', async () => {
  const host = await withGain(0.5);
  try {
    await host.load({
      manifest: testManifest('slow', { hooks: ['on_audio_raw'], capabilities: ['audio.intercept'], limits: { callMs: 20, killMs: 5000, overrunLimit: 3 } }),
      wasm: testGuestWasm('slow'),
      grants: ['audio.intercept'],
    });
    // Chain: gain (x0.5) then slow (x0.5 after spinning first-sample x 1e6 iterations).
    const quick = frame(0);
    const both = Array.from(scaled(scaled(quick, 0.5), 0.5));
    const gainOnly = Array.from(scaled(quick, 0.5));
    assert.equal(Array.from(host.audioSync(quick)), both, 'both effects applied');

    const heavy = frame(200); // ~0.1-1 s of spinning: far past callMs, well before killMs
    const t0 = performance.now();
    const out = host.audioSync(heavy);
    assert.ok(performance.now() - t0 < 200, 'the audio thread waited about callMs, not for the guest');
    assert.equal(Array.from(out), Array.from(scaled(heavy, 0.5)), 'slow bypassed: only gain applied');
    assert.is(host.info('slow').stats.late, 1);

    assert.equal(Array.from(host.audioSync(quick)), gainOnly, 'still busy: bypassed again');
    assert.is(host.info('slow').stats.busy, 1);
    assert.is(host.info('slow').state, 'running', 'one slow call does not kill the plugin');

    await eventually(() => !host.info('slow').busy, 5000, 'the late call finishes');
    assert.ok(host.info('slow').stats.lastUs > 20_000, 'its time is recorded');
    assert.equal(Array.from(host.audioSync(quick)), both, 'processed again');

    // That overrun fell in the warm-up grace (first 20 calls); from now on they count.
    while (host.info('slow').stats.calls <= 20) host.audioSync(quick);
    const fault = nextFault(host, 'slow');
    for (let n = 1; n <= 2; n++) {
      host.audioSync(heavy);
      await eventually(() => !host.info('slow').busy, 5000, `late call ${n} finishes`);
      assert.is(host.info('slow').state, 'running', `${n} counted overrun(s) tolerated`);
    }
    host.audioSync(heavy); // the third counted overrun = overrunLimit
    const f = await fault;
    assert.is(f.kind, 'overruns');
    assert.is(host.info('slow').stats.late, 4);
    assert.is(host.info('slow').state, 'disabled');
    assert.ok(host.info('slow').stats.bypassedFrames >= 5);
    assert.equal(Array.from(host.audioSync(quick)), gainOnly, 'audio keeps flowing through gain');
  } finally {
    await host.close();
  }
});

test('a frame that never finishes costs a thread: killed at killMs while audio keeps flowing', async () => {
  const host = await withGain(0.5);
  try {
    await host.load({
      manifest: testManifest('slow', { id: 'forever', hooks: ['on_audio_raw'], capabilities: ['audio.intercept'], limits: { callMs: 10, killMs: 300, overrunLimit: 100 } }),
      wasm: testGuestWasm('slow'),
      grants: ['audio.intercept'],
    });
    const fault = nextFault(host, 'forever');
    const quick = frame(0);
    host.audioSync(quick); // warm-up
    host.audioSync(frame(-1)); // spins forever
    const started = performance.now();
    let frames = 0;
    let faulted = false;
    void fault.then(() => (faulted = true));
    // A 20 ms audio clock: every frame still comes out (through gain) while the guest spins.
    while (!faulted && performance.now() - started < 3000) {
      const out = host.audioSync(quick);
      assert.equal(Array.from(out), Array.from(scaled(quick, 0.5)));
      frames++;
      await sleep(20);
    }
    const f = await fault;
    assert.is(f.kind, 'timeout');
    const elapsed = performance.now() - started;
    assert.ok(elapsed >= 250 && elapsed < 2000, `killed after ~killMs (${Math.round(elapsed)} ms)`);
    assert.ok(frames >= 5, `${frames} frames went through meanwhile`);
    assert.is(host.info('forever').state, 'disabled');
    assert.is(host.info('gain').state, 'running');
  } finally {
    await host.close();
  }
});

test.run();
