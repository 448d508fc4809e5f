// The shipped echo canceller end to end (issue 9): two clients in one channel
// on a real server. B has no headset: its speaker comes back into its
// microphone through a synthetic room (a 20 ms direct path at -6 dB, then 40
// reflections decaying for RT60 0.3 s over 200 ms, and a little mic noise).
// A talks (speech from a WAV file). With the canceller off, A hears itself
// back through B; with manifests/aec.json in B's capture chain (as the client
// runs it by default), what A hears back once it has converged must be under
// a stated level and far quieter than without, and the
// canceller's published stats (ERLE) reach B's client state.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { readWav } from '../../host/client/audio/wav.js';
import { sparseRoom, type RoomSpec } from '../../host/client/audio/devices/loopback-room.js';
import type { ChainGuestSpec } from '../../host/client/audio/engine-protocol.js';
import { loadChainGuest } from '../../host/client/headless/effects.js';
import { createUser, startServer, tempDir, type TestServer } from '../helpers/server.js';
import { connectCore, startCore } from '../helpers/client.js';
import { db, rms, stereoToMono } from '../helpers/audio-analysis.js';
import { repoRoot } from '../plugins/helpers.js';

const SPEECH = join(repoRoot, 'test', 'fixtures', 'speech-a.wav');
const ROOM: RoomSpec = { delaySamples: 960, gain: 0.5, reflections: sparseRoom(0.3, 200), noiseRms: 0.0005 };

let t: TestServer;
test.before(async () => {
  t = await startServer();
  await createUser(t, 'ann');
  await createUser(t, 'bob');
});
test.after(async () => {
  await t.stop();
});

interface Run {
  /** What A heard back, over the whole run and over its last 3 s (the canceller converged), dBFS. */
  heardDb: number;
  heardTailDb: number;
  bSent: number;
  published: Record<string, number>;
}

async function run(chain: ChainGuestSpec[]): Promise<Run> {
  const heard = join(tempDir('hearth-aec-e2e-'), 'a.wav');
  const a = await startCore({ playback: { kind: 'wav', path: heard }, settings: { gate: { mode: 'vad', thresholdDb: -100, hangoverMs: 0 } } });
  // B's gate as a person's would be (-45 dB): quiet residual echo is not sent at all.
  const b = await startCore({ capture: { kind: 'room', ...ROOM }, chain, settings: { gate: { mode: 'vad', thresholdDb: -45, hangoverMs: 200 } } });
  try {
    await connectCore(a, t, 'ann');
    await connectCore(b, t, 'bob');
    await a.state.until((s) => s.users.some((u) => u.username === 'bob' && u.voiceToken !== undefined));
    await b.state.until((s) => s.users.some((u) => u.username === 'ann' && u.voiceToken !== undefined));
    if (chain.length) await b.state.until((s) => s.plugins.length === chain.length && s.plugins.every((p) => p.state === 'running'), 20_000);
    a.push({ type: 'devices.select', capture: { kind: 'wav', path: SPEECH } });
    await a.state.until((s) => s.audio.input?.ended === true, 40_000);
    await new Promise((r) => setTimeout(r, 500));
    const bs = b.state.get();
    await a.close();
    await b.close();
    const rec = stereoToMono(readWav(heard).samples);
    const tail = rec.subarray(Math.max(0, rec.length - 3 * 48_000));
    const guest = bs.plugins[0] as { published?: Record<string, number> } | undefined;
    return { heardDb: db(rms(rec)), heardTailDb: db(rms(tail)), bSent: bs.voice.sent, published: guest?.published ?? {} };
  } finally {
    await Promise.allSettled([a.close(), b.close()]);
  }
}

let off: Run;
test('canceller off: A hears itself back through B’s room', async () => {
  off = await run([]);
  process.stderr.write(`aec e2e, off: A hears ${off.heardDb.toFixed(1)} dBFS (last 3 s ${off.heardTailDb.toFixed(1)}), B sent ${off.bSent} frames\n`);
  assert.ok(off.bSent > 150, `B sent ${off.bSent} frames of echo`);
  assert.ok(off.heardDb > -45, `A hears its echo at ${off.heardDb.toFixed(1)} dBFS`);
});

test('canceller on (manifests/aec.json): once it has converged A hears itself back below -45 dBFS, 15 dB under the uncancelled echo', async () => {
  const aec = await loadChainGuest(join(repoRoot, 'manifests', 'aec.json'), ['audio.intercept', 'config.read']);
  const on = await run([{ ...aec, enabled: true }]);
  process.stderr.write(`aec e2e, on: A hears ${on.heardDb.toFixed(1)} dBFS (last 3 s ${on.heardTailDb.toFixed(1)}), B sent ${on.bSent} frames, published ${JSON.stringify(on.published)}\n`);
  // The stated level: the last 3 s, after the canceller's first seconds of convergence.
  assert.ok(on.heardTailDb < -45, `with the canceller A hears ${on.heardTailDb.toFixed(1)} dBFS over the last 3 s`);
  assert.ok(on.heardTailDb < off.heardTailDb - 15, `last 3 s: ${on.heardTailDb.toFixed(1)} dBFS with the canceller, ${off.heardTailDb.toFixed(1)} without`);
  assert.ok(on.heardDb < off.heardDb - 10, `whole run: ${on.heardDb.toFixed(1)} dBFS with the canceller, ${off.heardDb.toFixed(1)} without`);
  assert.ok(on.bSent < off.bSent / 2, `B sent ${on.bSent} frames (${off.bSent} without the canceller)`);
  assert.ok(on.published.erleDb !== undefined && on.published.erleDb > 10, `the canceller publishes its ERLE estimate into the client state: ${JSON.stringify(on.published)}`);
});

test.run();
