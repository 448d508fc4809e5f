// Long runs of the capture chain. Extism plugins stop working after 16,383
// calls in some SDK modes, and the chain thread calls plugin.reset() every
// `resetEvery` calls to stay clear of that; reset() must not cost a guest
// its state (an echo canceller's adaptive filter lives for the whole call).
// The stateful `counter` guest writes its call count (a global) and the
// count it stored in linear memory 255 calls ago (a heap ring): both must be
// continuous across every reset.
//   normal run:      20,000 frames
//   HEARTH_SOAK=1:  100,000 frames
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import createPlugin from '@extism/extism';
import { AudioChain } from '../../host/plugins/chain/audio-chain.js';
import { FRAME, frame, gainGuest, testGuest } from './chain-helpers.js';
import { testGuestWasm } from './helpers.js';

const LONG = process.env.HEARTH_SOAK === '1';
const FRAMES = LONG ? 100_000 : 20_000;
const test = suite(`plugins: audio chain soak (${FRAMES} frames)`);

// Endurance, not latency: a scheduler hiccup on a busy machine must not bypass a frame.
const PATIENT = { callMs: 2000, killMs: 10_000 };

test("rc13's foreground reset() drops Extism's blocks only: the guest's globals and linear memory survive", async () => {
  const plugin = await createPlugin({ wasm: [{ data: testGuestWasm('counter') }] }, { useWasi: false, runInWorker: false, functions: { 'extism:host/user': { hearth_abort: () => 0n } } });
  try {
    const input = new Uint8Array(FRAME * 4);
    const count = async (): Promise<[number, number]> => {
      const out = (await plugin.call('on_audio_raw', input))!;
      const f = new Float32Array(out.bytes().slice().buffer);
      return [f[0]!, f[1]!];
    };
    for (let i = 1; i <= 300; i++) {
      const [n, old] = await count();
      assert.is(n, i);
      if (i > 255) assert.is(old, i - 255);
      if (i % 7 === 0) assert.ok(await plugin.reset(), 'reset() runs between calls');
    }
    assert.equal(await count(), [301, 46], 'after 42 resets: global and heap intact');
  } finally {
    await plugin.close();
  }
});

test(`${FRAMES} frames through the chain: every one processed, the counter continuous across resets`, async () => {
  // resetEvery 97 (default 1000): hundreds of resets at odd points of the run.
  const chain = await AudioChain.start({ guests: [gainGuest('gn', 2, PATIENT), testGuest('counter', { limits: PATIENT })], resetEvery: 97 });
  try {
    const mic = frame(3);
    const reference = new Float32Array(FRAME);
    const out = new Float32Array(FRAME);
    const last = Math.fround(Math.fround(mic[FRAME - 1]!) * 2);
    for (let n = 1; n <= FRAMES; n++) {
      const r = chain.process(mic, reference, out, 5000);
      const want = n & 0xffffff;
      const wantOld = n > 255 ? (n - 255) & 0xffffff : 0;
      if (!r.processed || out[0] !== want || out[1] !== wantOld || out[FRAME - 1] !== last) {
        assert.unreachable(`frame ${n}: ${r.status}, count ${out[0]} (want ${want}), heap ${out[1]} (want ${wantOld})`);
      }
    }
    const s = chain.stats();
    assert.is(s.processed, FRAMES);
    assert.is(s.hops, FRAMES);
    assert.is(s.restarts, 0, 'one chain thread for the whole run');
    for (const g of s.guests) {
      assert.is(g.ok, FRAMES, `${g.pluginId}: every call succeeded`);
      assert.is(g.faults, 0);
      assert.ok(g.memoryKiB <= 4096, `${g.pluginId}: guest memory stayed bounded (${g.memoryKiB} KiB)`);
    }
  } finally {
    await chain.close();
  }
});

test.run();
