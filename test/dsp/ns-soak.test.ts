// The noise suppressor's state must outlive the capture chain's Extism
// reset() (every 1,000 calls in the client; every 97 here, so a run crosses
// hundreds of them at odd points). Its state (noise estimate, minimum search,
// gains, overlap-add tails) lives in static memory and globals: if a reset
// wiped any of it, the output would change at that frame.
//
// Check: the chain's output is compared, frame by frame and bit for bit,
// with a second instance of the guest driven in this thread, which is never
// reset. The input is the pink-noise case looped, so the estimator keeps
// re-adapting at every loop seam.
//   normal run:      3,000 frames (1 minute of audio)
//   HEARTH_SOAK=1: 100,000 frames (33 minutes)
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { readFixture } from '../../host/dsp/room.js';
import { makeNsCase, openNsGuest } from '../../host/dsp/ns-shadow.js';
import { AudioChain } from '../../host/plugins/chain/audio-chain.js';
import { shippedPluginFiles } from '../../host/plugins/manifest.js';

const LONG = process.env.HEARTH_SOAK === '1';
const FRAMES = LONG ? 100_000 : 3_000;
const test = suite(`dsp: noise suppression soak (${FRAMES} frames)`);
const root = join(import.meta.dirname, '..', '..', '..');

test(`${FRAMES} frames through the chain with a reset every 97 calls: the same samples as an instance never reset`, async () => {
  const files = await shippedPluginFiles(root, 'ns');
  // Pink noise at 0 dB SNR: as much noise as speech, so "still suppresses" below has room
  // (at 5 dB the speech alone is 76% of the input's energy).
  const c = makeNsCase('pink0', readFixture('speech-a.wav'), readFixture('noise-pink.wav'), 0);
  const loop = c.speech.map((v, i) => v + c.noise[i]!);
  const loopFrames = Math.floor(loop.length / 960);
  // Endurance, not latency: a scheduler hiccup on a busy machine must not bypass a frame.
  const manifest = { ...files.manifest, limits: { ...files.manifest.limits, callMs: 2000, killMs: 10_000 } };
  const chain = await AudioChain.start({ guests: [{ manifest, wasm: files.wasm, grants: manifest.capabilities, config: {}, slot: 'ns' }], resetEvery: 97 });
  const direct = await openNsGuest({ manifest, wasm: files.wasm });
  try {
    const mic = new Float32Array(960);
    const reference = new Float32Array(960);
    const out = new Float32Array(960);
    const want = new Float32Array(960);
    let energyIn = 0;
    let energyOut = 0;
    for (let n = 0; n < FRAMES; n++) {
      const at = (n % loopFrames) * 960;
      mic.set(loop.subarray(at, at + 960));
      want.set(mic);
      await direct.process(want);
      const r = chain.process(mic, reference, out, 5000);
      if (!r.processed) assert.unreachable(`frame ${n}: ${r.status}`);
      for (let i = 0; i < 960; i++) {
        if (out[i] !== want[i]) assert.unreachable(`frame ${n}, sample ${i}: chain ${out[i]} vs never-reset ${want[i]}`);
        energyIn += mic[i]! * mic[i]!;
        energyOut += out[i]! * out[i]!;
      }
    }
    // And it still suppresses at the end (not merely "the same broken output twice").
    assert.ok(energyOut < energyIn * 0.7, `output/input energy ${(energyOut / energyIn).toFixed(3)}`);
    const s = chain.stats();
    assert.is(s.processed, FRAMES);
    assert.is(s.restarts, 0, 'one chain thread for the whole run');
    const g = s.guests[0]!;
    assert.is(g.faults, 0);
    assert.ok(g.memoryKiB <= 4096, `guest memory stayed bounded (${g.memoryKiB} KiB)`);
    // The chain publishes stats rounded to 3 decimals.
    const published = g.published ?? {};
    for (const [name, v] of Object.entries(direct.stats())) {
      assert.ok(Math.abs((published[name] ?? NaN) - v) < 1e-3, `published ${name} ${published[name]} vs the never-reset instance's ${v}`);
    }
  } finally {
    await direct.close();
    await chain.close();
  }
});

test.run();
