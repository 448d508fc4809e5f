// The echo canceller's reference, end to end: B's speaker is looped into B's
// microphone through a synthetic room (no delay, gain 1). With no canceller, A
// hears itself back through B. With a guest in the AEC slot that answers
// mic − reference, B's processed mic is exactly zero, so B sends nothing and A
// hears nothing: that only happens if the reference the engine hands the
// canceller is the played signal aligned sample for sample with the mic frame.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { readWav } from '../../host/client/audio/wav.js';
import type { ChainGuestSpec } from '../../host/client/audio/engine-protocol.js';
import { createUser, startServer, tempDir, type TestServer } from '../helpers/server.js';
import { connectCore, startCore } from '../helpers/client.js';
import { db, rms, stereoToMono } from '../helpers/audio-analysis.js';
import { repoRoot, testGuestWasm, testManifest } from '../plugins/helpers.js';

const SPEECH = join(repoRoot, 'test', 'fixtures', 'speech.wav');

let t: TestServer;
test.before(async () => {
  t = await startServer();
  await createUser(t, 'ann');
  await createUser(t, 'bob');
});
test.after(async () => {
  await t.stop();
});

async function echoRun(chain: ChainGuestSpec[], delaySamples = 0): Promise<{ heardDb: number; bSent: number; guest: unknown }> {
  const heard = join(tempDir('hearth-echo-'), 'a.wav');
  const a = await startCore({ playback: { kind: 'wav', path: heard }, settings: { gate: { mode: 'vad', thresholdDb: -100, hangoverMs: 0 } } });
  const b = await startCore({ capture: { kind: 'room', delaySamples, gain: 1 }, chain, settings: { gate: { mode: 'vad', thresholdDb: -60, hangoverMs: 0 } } });
  try {
    await connectCore(a, t, 'ann');
    await connectCore(b, t, 'bob');
    await a.state.until((s) => s.users.some((u) => u.username === 'bob' && u.voiceToken !== undefined));
    await b.state.until((s) => s.users.some((u) => u.username === 'ann' && u.voiceToken !== undefined));
    if (chain.length) await b.state.until((s) => s.plugins.length === chain.length && s.plugins.every((p) => p.state === 'running'));
    a.push({ type: 'devices.select', capture: { kind: 'wav', path: SPEECH } });
    await a.state.until((s) => s.audio.input?.ended === true, 30_000);
    await new Promise((r) => setTimeout(r, 400));
    const bs = b.state.get();
    await a.close();
    await b.close();
    const rec = stereoToMono(readWav(heard).samples);
    return { heardDb: db(rms(rec)), bSent: bs.voice.sent, guest: bs.plugins[0] };
  } finally {
    await Promise.allSettled([a.close(), b.close()]);
  }
}

test('without a canceller, A hears itself back through B’s room', async () => {
  const r = await echoRun([]);
  process.stderr.write(`echo path, no canceller: A hears ${r.heardDb.toFixed(1)} dBFS, B sent ${r.bSent}\n`);
  assert.ok(r.bSent > 100, `B sent ${r.bSent} frames of echo`);
  assert.ok(r.heardDb > -40, `A hears its echo at ${r.heardDb} dBFS`);
});

test('with mic − reference in the AEC slot, the echo cancels exactly: B sends nothing', async () => {
  const manifest = testManifest('echoref', { hooks: ['on_aec_raw'], capabilities: ['audio.intercept'], limits: { callMs: 5, killMs: 1000, overrunLimit: 50 } });
  const guest: ChainGuestSpec = { manifest, wasm: testGuestWasm('echoref'), grants: ['audio.intercept'], config: {}, slot: 'aec', enabled: true };
  const r = await echoRun([guest]);
  process.stderr.write(`echo path, mic − reference: A hears ${r.heardDb.toFixed(1)} dBFS, B sent ${r.bSent}, guest ${JSON.stringify(r.guest)}\n`);
  // Every frame that went through the canceller came out exactly zero, so B sent
  // nothing but the frames (if any) that bypassed the chain because it was late.
  const g = r.guest as { bypassed: number };
  assert.ok(r.bSent <= g.bypassed, `B sent ${r.bSent} frames, ${g.bypassed} bypassed the canceller`);
  assert.ok(r.bSent < 10, `B sent ${r.bSent} frames`);
  if (r.bSent === 0) assert.ok(r.heardDb < -100, `A hears ${r.heardDb} dBFS`);
});

test('an echo path 5 ms longer than the devices report leaves a residual: the reference is what sets the alignment', async () => {
  const manifest = testManifest('echoref', { hooks: ['on_aec_raw'], capabilities: ['audio.intercept'], limits: { callMs: 5, killMs: 1000, overrunLimit: 50 } });
  const guest: ChainGuestSpec = { manifest, wasm: testGuestWasm('echoref'), grants: ['audio.intercept'], config: {}, slot: 'aec', enabled: true };
  const r = await echoRun([guest], 240);
  process.stderr.write(`echo path 240 samples longer: A hears ${r.heardDb.toFixed(1)} dBFS, B sent ${r.bSent}\n`);
  assert.ok(r.bSent > 100, `B sent ${r.bSent} frames of residual echo`);
});

test.run();
