// The echo canceller's state across calls and across Extism's reset():
//   - on_aec_raw (the Extism hook) and hearth_frame_process (the chain's
//     zero-copy path) give the same samples, bit for bit;
//   - a long run through the chain with a reset every 97 calls keeps the
//     adaptive filter: ERLE stays up, the stats stay sane. If a reset wiped the
//     guest's memory, the filter would start over each time and ERLE would sink.
//   normal run:       2,500 frames (25 resets)
//   HEARTH_SOAK=1:  100,000 frames
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { AudioChain } from '../../host/plugins/chain/audio-chain.js';
import { GuestHostApi } from '../../host/plugins/host-api.js';
import { instantiateGuest } from '../../host/plugins/extism-guest.js';
import { loadPluginFiles } from '../../host/plugins/manifest.js';
import { prepareModule } from '../../host/plugins/wasm-limits.js';
import { BASE_ROOM, buildEchoCase } from '../../host/dsp/aec-cases.js';
import { wasmPathFor } from '../../host/dsp/run-guest.js';
import { energy } from '../../host/dsp/room.js';

const LONG = process.env.HEARTH_SOAK === '1';
const FRAMES = LONG ? 100_000 : 2_500;
const test = suite(`dsp: echo canceller state (${FRAMES}-frame soak)`);
const MANIFEST = join(import.meta.dirname, '..', '..', '..', 'manifests', 'aec.json');
const F = 960;

async function files() {
  return loadPluginFiles(MANIFEST, { wasmPath: wasmPathFor(MANIFEST, 'aec', 'aec.wasm') });
}

async function instance() {
  const { manifest, wasm } = await files();
  const module = await prepareModule(wasm, { pluginId: 'aec', maxPages: manifest.limits.memoryMiB * 16, requiredExports: ['on_aec_raw'] });
  const config = { ...(manifest.config?.defaults ?? {}) };
  const grants = ['audio.intercept', 'config.read'];
  const api = new GuestHostApi({ pluginId: 'aec', grants: new Set(grants), config, kv: [], state: null, storageBytes: 0, hostAllocBytes: 8 << 20 });
  return instantiateGuest(module, api, { grants, config, memoryMiB: manifest.limits.memoryMiB });
}

test('on_aec_raw and hearth_frame_process give the same output, bit for bit', async () => {
  const c = buildEchoCase({ room: BASE_ROOM, seconds: 4, nearEnd: true });
  const a = await instance();
  const b = await instance();
  try {
    const frames = Math.floor(c.mic.length / F);
    const input = new Float32Array(2 * F);
    const exp = b.exports as { hearth_frame_buffer: () => number; hearth_frame_process: () => number };
    const ptr = Number(exp.hearth_frame_buffer());
    for (let f = 0; f < frames; f++) {
      input.set(c.mic.subarray(f * F, (f + 1) * F), 0);
      input.set(c.reference.subarray(f * F, (f + 1) * F), F);
      const viaHook = new Float32Array((await a.plugin.call('on_aec_raw', new Uint8Array(input.buffer)))!.bytes().slice().buffer);
      let viaFast: Float32Array;
      if (f === 0) {
        // The chain calls the hook first (it reads the config), then the fast path.
        viaFast = new Float32Array((await b.plugin.call('on_aec_raw', new Uint8Array(input.buffer)))!.bytes().slice().buffer);
      } else {
        new Float32Array(b.memory!.buffer, ptr, 2 * F).set(input);
        assert.is(exp.hearth_frame_process(), 0);
        viaFast = new Float32Array(b.memory!.buffer, ptr, F).slice();
      }
      if (f % 7 === 3) assert.ok(await a.plugin.reset(), 'reset() between calls');
      for (let i = 0; i < F; i++) {
        if (!Object.is(viaHook[i], viaFast[i])) assert.unreachable(`frame ${f} sample ${i}: hook ${viaHook[i]} fast ${viaFast[i]}`);
      }
    }
  } finally {
    await a.plugin.close();
    await b.plugin.close();
  }
});

test(`${FRAMES} frames through the chain with a reset every 97 calls: the filter stays converged`, async () => {
  // A 6 s far-end-only loop: the filter converges in the first pass and must stay converged.
  const c = buildEchoCase({ room: BASE_ROOM, seconds: 6 });
  const { manifest, wasm } = await files();
  const m = { ...manifest, limits: { ...manifest.limits, callMs: 2000, killMs: 10_000 } };
  const chain = await AudioChain.start({ guests: [{ manifest: m, wasm, grants: ['audio.intercept', 'config.read'], config: {} }], resetEvery: 97 });
  try {
    const loop = Math.floor(c.mic.length / F);
    const mic = new Float32Array(F);
    const ref = new Float32Array(F);
    const out = new Float32Array(F);
    let echoE = 0;
    let outE = 0;
    let checks = 0;
    for (let n = 0; n < FRAMES; n++) {
      const f = n % loop;
      mic.set(c.mic.subarray(f * F, (f + 1) * F));
      ref.set(c.reference.subarray(f * F, (f + 1) * F));
      const r = chain.process(mic, ref, out, 5000);
      if (!r.processed) assert.unreachable(`frame ${n}: ${r.status}`);
      for (let i = 0; i < F; i++) if (!Number.isFinite(out[i]!)) assert.unreachable(`frame ${n}: non-finite output`);
      if (n >= loop) {
        echoE += energy(mic);
        outE += energy(out);
      }
      // Every pass after the first: this pass's ERLE (a wiped filter would be near 0 dB).
      if (n >= 2 * loop - 1 && f === loop - 1) {
        const erle = 10 * Math.log10(echoE / outE);
        if (erle < 25) assert.unreachable(`pass ending at frame ${n}: ERLE ${erle.toFixed(1)} dB`);
        echoE = outE = 0;
        checks++;
        const s = chain.stats().guests[0]!;
        const p = s.published ?? {};
        if (p.referenceMisaligned !== 0 || !(p.erleDb! > 20) || Math.abs(p.delayMs! - 30) > 3) {
          assert.unreachable(`frame ${n}: stats ${JSON.stringify(p)}`);
        }
      }
    }
    const s = chain.stats();
    assert.is(s.processed, FRAMES);
    assert.is(s.restarts, 0, 'one chain thread for the whole run');
    const g = s.guests[0]!;
    assert.is(g.ok, FRAMES, 'every call succeeded');
    assert.is(g.faults, 0);
    assert.ok(g.memoryKiB <= manifest.limits.memoryMiB * 1024, `guest memory stayed bounded (${g.memoryKiB} KiB)`);
    assert.ok(checks >= Math.floor(FRAMES / loop) - 2, `${checks} passes checked`);
  } finally {
    await chain.close();
  }
});

test.run();
