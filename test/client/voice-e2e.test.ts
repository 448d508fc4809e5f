// End to end through a real server: client A plays a speech WAV into its
// capture chain, client B records what it hears. Real TLS and UDP on
// 127.0.0.1, real Opus, real jitter buffers, the audio engine on its own thread.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { readWav, writeWav } from '../../host/client/audio/wav.js';
import { OpusDecoder, OpusEncoder } from '../../host/client/audio/opus.js';
import { FRAME_SAMPLES } from '../../host/client/audio/format.js';
import { createUser, startServer, tempDir, type TestServer } from '../helpers/server.js';
import { connectCore, startCore } from '../helpers/client.js';
import { blockAlignedQuality, db, findLag, longestSilentRun, rms, stereoToMono } from '../helpers/audio-analysis.js';
import { UdpRelay } from '../helpers/udp-relay.js';
import { repoRoot } from '../plugins/helpers.js';
import type { ClientSnapshot } from '../../host/client/core/snapshot.js';
import { loadChainGuest } from '../../host/client/headless/effects.js';
import type { ChainGuestSpec } from '../../host/client/audio/engine-protocol.js';
import { testGuestWasm, testManifest } from '../plugins/helpers.js';

const SPEECH = join(repoRoot, 'test', 'fixtures', 'speech.wav');

/** What B should hear if the network were perfect: the input through one Opus encoder and decoder. */
function directOpus(input: Float32Array): Float32Array {
  const enc = new OpusEncoder({ bitrate: 48_000, fec: true, expectedLossPercent: 0 });
  const dec = new OpusDecoder();
  const out = new Float32Array(Math.floor(input.length / FRAME_SAMPLES) * FRAME_SAMPLES);
  const frame = new Float32Array(FRAME_SAMPLES);
  for (let at = 0; at + FRAME_SAMPLES <= input.length; at += FRAME_SAMPLES) {
    const pkt = enc.encode(input.subarray(at, at + FRAME_SAMPLES));
    dec.decode(pkt, frame);
    out.set(frame, at);
  }
  enc.close();
  dec.close();
  return out;
}

/** A speaks the fixture, B records; returns B's recording (mono) and its core (closed). */
async function talk(t: TestServer, opts: { relay?: UdpRelay; effects?: string[]; effectConfig?: Record<string, unknown>; guests?: ChainGuestSpec[]; input?: string; onSpeaking?: () => void } = {}): Promise<{ recorded: Float32Array; input: Float32Array; stats: ClientSnapshot; speakerStats: ClientSnapshot }> {
  const out = join(tempDir('hearth-rec-'), 'b.wav');
  const input = opts.input ?? SPEECH;
  const chain: ChainGuestSpec[] = [...(opts.guests ?? [])];
  for (const m of opts.effects ?? []) chain.push(await loadChainGuest(m, ['audio.intercept', 'config.read'], opts.effectConfig ?? {}));
  // Voice activation with a threshold only digital silence stays under: A's encoder
  // starts on the file's first frame, as the reference encoder does.
  const a = await startCore({ settings: { gate: { mode: 'vad', thresholdDb: -100, hangoverMs: 0 } }, chain });
  const b = await startCore({ playback: { kind: 'wav', path: out }, ...(opts.relay ? { udpPort: opts.relay.port } : {}) });
  try {
    await connectCore(b, t, 'bob');
    await connectCore(a, t, 'ann');
    // B must know A's voice token (user list) before A speaks.
    await b.state.until((s) => s.users.some((u) => u.username === 'ann' && u.voiceToken !== undefined));
    a.push({ type: 'devices.select', capture: { kind: 'wav', path: input } });
    opts.onSpeaking?.();
    await a.state.until((s) => s.audio.input?.ended === true, 60_000);
    // Let the tail through the jitter buffer.
    await new Promise((r) => setTimeout(r, 600));
    const stats = b.state.get();
    const speakerStats = a.state.get();
    await b.close();
    await a.close();
    const wav = readWav(out);
    assert.is(wav.sampleRate, 48_000);
    assert.is(wav.channels, 2);
    return { recorded: stereoToMono(wav.samples), input: readWav(input).samples, stats, speakerStats };
  } finally {
    await Promise.allSettled([a.close(), b.close()]);
  }
}

let t: TestServer;
test.before(async () => {
  t = await startServer();
  await createUser(t, 'ann');
  await createUser(t, 'bob');
});
test.after(async () => {
  await t.stop();
});

test('B hears what A plays: matches a direct Opus encode/decode after alignment', async () => {
  const { recorded, input, stats } = await talk(t);
  const ref = directOpus(input);
  const lag = findLag(ref, recorded, recorded.length - ref.length);
  const { segSnrDb: snr, correlation: corr } = blockAlignedQuality(ref, recorded, lag);
  const sp0 = stats.voice.speakers.find((s) => s.username === 'ann');
  process.stderr.write(`voice-e2e clean: lag ${lag} samples, segSNR ${snr.toFixed(1)} dB, correlation ${corr.toFixed(4)}, inserted ${sp0?.inserted} dropped ${sp0?.dropped}\n`);
  // Bit-exact decoding gives the 35 dB cap; a frame the jitter buffer drops to
  // shrink its delay costs part of one 0.5 s block.
  assert.ok(corr > 0.97, `correlation ${corr}`);
  assert.ok(snr > 25, `segmental SNR ${snr} dB`);
  const sp = stats.voice.speakers.find((s) => s.username === 'ann');
  assert.ok(sp, 'B has a jitter buffer for ann');
  assert.is(sp!.lost, 0);
  assert.ok(sp!.received >= input.length / FRAME_SAMPLES - 1, `received ${sp!.received}`);
});

test('5 % loss, 30 ms jitter, reordering and duplication: loss accounted for, no gap, quality kept, depth adapts', async () => {
  const relay = await UdpRelay.start(t.server.voice.port);
  // Twice the fixture (13 s): impaired for the first 6 s, then a calm network,
  // so the jitter buffer has to grow and then shrink back.
  const speech = readWav(SPEECH).samples;
  const twice = new Float32Array(speech.length * 2);
  twice.set(speech);
  twice.set(speech, speech.length);
  const long = join(tempDir('hearth-in-'), 'speech-twice.wav');
  await writeWav(long, twice, { channels: 1, sampleRate: 48_000, format: 'f32' });
  const impairment = { loss: 0.05, jitterMs: 30, duplicate: 0.03, seed: 12345 };
  let calm: NodeJS.Timeout | undefined;
  try {
    const { recorded, input, stats } = await talk(t, {
      relay,
      input: long,
      onSpeaking: () => {
        relay.setImpairment(impairment);
        calm = setTimeout(() => relay.setImpairment(null), 6000);
      },
    });
    const ref = directOpus(input);
    const lag = findLag(ref, recorded, recorded.length - ref.length);
    const { segSnrDb: snr, correlation: corr } = blockAlignedQuality(ref, recorded, lag);
    const sp = stats.voice.speakers.find((s) => s.username === 'ann')!;
    process.stderr.write(
      `voice-e2e impaired: relay ${JSON.stringify(relay.impaired)}, speaker ${JSON.stringify({ received: sp.received, lost: sp.lost, concealed: sp.concealed, fec: sp.fecRecovered, dup: sp.duplicate, late: sp.late, inserted: sp.inserted, dropped: sp.dropped, depth: sp.depthMs, maxDepth: sp.maxDepthMs, target: sp.targetMs })}, segSNR ${snr.toFixed(1)} dB, correlation ${corr.toFixed(4)}, B clock ${JSON.stringify(stats.audio.clock)}\n`,
    );
    assert.ok(relay.impaired.dropped > 10, 'the relay dropped packets');
    // Every lost packet was either recovered from FEC or concealed, and they add up to what was dropped
    // (late packets count as lost too: they arrived after their turn).
    assert.is(sp.concealed + sp.fecRecovered, sp.lost);
    // A drop just before the spurt's first packet is not a loss the receiver can know of (the
    // spurt starts at the first packet it sees); allow those two.
    assert.ok(sp.lost >= relay.impaired.dropped - 2, `lost ${sp.lost} >= dropped ${relay.impaired.dropped} - 2`);
    // On a loaded machine B's clock may run late or skip ticks; a packet that
    // arrives after its turn then counts as late, one dropped to shrink as dropped.
    const slack = sp.late + sp.dropped + stats.audio.clock.underruns + 2;
    assert.ok(sp.lost <= relay.impaired.dropped + slack, `lost ${sp.lost} accounts for dropped ${relay.impaired.dropped} (+ ${slack} late, shrink drops and clock underruns)`);
    assert.ok(sp.duplicate >= 1, 'duplicates were seen and dropped');
    assert.ok(sp.maxDepthMs > 40, `depth grew under jitter (max ${sp.maxDepthMs} ms)`);
    assert.is(sp.targetMs, 40, `depth shrank back once the network calmed (now ${sp.targetMs} ms)`);
    // No unconcealed gap: inside the speech, no run of digital silence longer than 10 ms.
    const speechStart = Math.max(0, lag);
    const gap = longestSilentRun(recorded, speechStart + 4800, speechStart + ref.length - 4800);
    assert.ok(gap < 480, `longest silent run ${gap} samples`);
    assert.ok(corr > 0.8, `correlation ${corr}`);
    assert.ok(snr > 3, `segmental SNR ${snr} dB`);
  } finally {
    clearTimeout(calm);
    relay.close();
  }
});

test('an effect guest built from source changes what B hears: gain 0.5 halves the level (±0.5 dB)', async () => {
  const plain = await talk(t);
  const halved = await talk(t, { effects: [join(repoRoot, 'manifests', 'gain.json')], effectConfig: { gain: 0.5 } });
  const lp = db(rms(plain.recorded));
  const lh = db(rms(halved.recorded));
  process.stderr.write(`voice-e2e gain: plain ${lp.toFixed(2)} dBFS, gain 0.5 ${lh.toFixed(2)} dBFS, difference ${(lp - lh).toFixed(2)} dB\n`);
  assert.ok(Math.abs(lp - lh - 6.02) <= 0.5, `level difference ${lp - lh} dB`);
});

test('a guest that overruns its share is bypassed: no gap, the frame goes out unprocessed, the guest is reported', async () => {
  // spin halves the frame after a busy loop far longer than its 1 ms share.
  const manifest = testManifest('spin', { hooks: ['on_audio_raw'], capabilities: ['audio.intercept', 'config.read'], limits: { callMs: 1, killMs: 2000, overrunLimit: 10 } });
  const guest: ChainGuestSpec = { manifest, wasm: testGuestWasm('spin'), grants: ['audio.intercept', 'config.read'], config: { kiloIters: 20_000 }, slot: 'effect', enabled: true };
  const plain = await talk(t);
  const spun = await talk(t, { guests: [guest] });
  const lp = db(rms(plain.recorded));
  const ls = db(rms(spun.recorded));
  const g = spun.speakerStats.plugins.find((p) => p.pluginId === 'spin');
  const sp = spun.stats.voice.speakers.find((s) => s.username === 'ann')!;
  process.stderr.write(`voice-e2e overrun: plain ${lp.toFixed(2)} dBFS, with the overrunning guest ${ls.toFixed(2)} dBFS, guest ${JSON.stringify(g)}, B lost ${sp.lost}\n`);
  assert.ok(g, 'the guest is in the stats');
  assert.ok(g!.overruns + g!.bypassed > 0, 'overruns or bypasses were counted');
  assert.ok(['disabled', 'killed', 'faulted'].includes(g!.state) || g!.overruns >= 10, `the guest was disabled (state ${g!.state})`);
  // Its halving never reached B: the level is the plain one, and B got every frame.
  assert.ok(Math.abs(lp - ls) <= 0.5, `level difference ${lp - ls} dB`);
  assert.is(sp.lost, 0);
  const ref = directOpus(spun.input);
  const lag = findLag(ref, spun.recorded, spun.recorded.length - ref.length);
  assert.ok(longestSilentRun(spun.recorded, lag + 4800, lag + ref.length - 4800) < 480, 'no gap');
});

test.run();
