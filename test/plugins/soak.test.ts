// Long runs. Extism plugins stop working after 16,383 calls in some modes
// (memory-block indexes overflow; DESIGN.md); at 50 frames/s that is 5.5
// minutes. The runtime must serve far more calls than that.
//   normal run:       20,000 audio frames + 20,000 JSON commands
//   HEARTH_SOAK=1:   100,000 of each, plus a check of the SDK behaviour itself
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import createPlugin from '@extism/extism';
import { PluginHost } from '../../host/plugins/runtime.js';
import { captureLogger, guestWasm, shippedManifest } from './helpers.js';

const LONG = process.env.HEARTH_SOAK === '1';
const CALLS = LONG ? 100_000 : 20_000;
const test = suite(`plugins: soak (${CALLS} calls)`);

async function soakHost(): Promise<PluginHost> {
  const host = new PluginHost({ logger: captureLogger().logger });
  for (const id of ['gain', 'noop']) {
    const m = shippedManifest(id);
    // Measures endurance, not latency: a scheduler hiccup on a busy CI machine must not count as a failure.
    await host.load({ manifest: { ...m, limits: { ...m.limits, callMs: 2000, killMs: 10_000 } }, wasm: guestWasm(id), grants: m.capabilities, config: id === 'gain' ? { gain: 2 } : {} });
  }
  return host;
}

test(`${CALLS} audio frames through the binary path, every one processed`, async () => {
  const host = await soakHost();
  try {
    const frame = new Float32Array(960);
    for (let i = 0; i < CALLS; i++) {
      frame[0] = i;
      frame[959] = -i;
      const out = host.callAudioSync('gain', frame, 'raw');
      if (out.status !== 'ok' || out.value[0] !== 2 * i || out.value[959] !== -2 * i) {
        assert.unreachable(`call ${i}: ${out.status} ${out.status === 'fault' ? out.fault.message : ''}`);
      }
    }
    const info = host.info('gain');
    assert.is(info.stats.ok, CALLS);
    assert.is(info.stats.faults, 0);
    assert.ok(info.memoryKiB <= 4096, `guest memory stayed bounded (${info.memoryKiB} KiB)`);
  } finally {
    await host.close();
  }
});

test(`${CALLS} JSON commands, every reply right`, async () => {
  const host = await soakHost();
  try {
    for (let i = 0; i < CALLS; i++) {
      const r = await host.command({ command: 'echo', args: `n${i}`, user: { id: 1, name: 'ann' }, channelId: 1, ts: i });
      if (r?.reply !== `n${i}`) assert.unreachable(`call ${i}: ${JSON.stringify(r)}`);
    }
    assert.is(host.info('noop').stats.ok, CALLS);
  } finally {
    await host.close();
  }
});

if (LONG) {
  test('the SDK itself (worker mode, no reset) fails at call 16,384; reset() every 1,000 calls avoids it', async () => {
    const opts = { useWasi: false, runInWorker: true, functions: { 'extism:host/user': { hearth_abort: () => 0n } } };
    const run = async (resetEvery: number): Promise<number> => {
      const plugin = await createPlugin({ wasm: [{ data: guestWasm('noop') }] }, opts);
      try {
        for (let i = 0; i < 20_000; i++) {
          try {
            const out = await plugin.call('on_command', '{"command":"ping"}');
            if (out?.text() !== '{"reply":"pong"}') return i;
          } catch {
            return i;
          }
          if (resetEvery && (i + 1) % resetEvery === 0) await plugin.reset();
        }
        return 20_000;
      } finally {
        await plugin.close();
      }
    };
    const failsAt = await run(0);
    assert.ok(failsAt < 20_000 && failsAt >= 16_000, `without reset the SDK stops answering (at call ${failsAt})`);
    assert.is(await run(1000), 20_000, 'with reset every 1,000 calls all 20,000 succeed');
  });
}

test.run();
