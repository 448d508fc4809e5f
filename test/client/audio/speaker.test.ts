// A speaker's playout with real Opus packets of the speech fixture: what it
// plays must be exactly what a decoder fed the same decisions produces, with
// the fade at a spurt's end, levels and the speaking flag on top.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fileURLToPath } from 'node:url';
import { FRAME_SAMPLES } from '../../../host/client/audio/format.js';
import { OpusDecoder, OpusEncoder } from '../../../host/client/audio/opus.js';
import { SpeakerPlayout } from '../../../host/client/audio/speaker.js';
import { readWav } from '../../../host/client/audio/wav.js';

const SPEECH = readWav(fileURLToPath(new URL('../../../../test/fixtures/speech.wav', import.meta.url))).samples;

/** 2 s of the fixture (1.0 s..3.0 s: continuous speech) as Opus packets with FEC. */
const PACKETS: Uint8Array[] = (() => {
  const enc = new OpusEncoder({ expectedLossPercent: 10 });
  const out: Uint8Array[] = [];
  for (let f = 50; f < 150; f++) out.push(enc.encode(SPEECH.subarray(f * FRAME_SAMPLES, (f + 1) * FRAME_SAMPLES)).slice());
  enc.close();
  return out;
})();

interface Played {
  now: number;
  playing: boolean;
  pcm: Float32Array;
}

/** Sends PACKETS (minus `lost`) every 20 ms with a 10 ms delay; ticks at 5 + 20k ms, pulling a frame each. */
function play(sp: SpeakerPlayout, lost: Set<number> = new Set(), ticks = 120, corrupt = -1): Played[] {
  const out: Played[] = [];
  let k = 0;
  for (let t = 0; t < ticks; t++) {
    const now = 5 + 20 * t;
    while (k < PACKETS.length && k * 20 + 10 <= now) {
      if (!lost.has(k)) sp.push(k, k === corrupt ? Uint8Array.of(0xff, 0xff, 0xff) : PACKETS[k]!, k * 20 + 10);
      k++;
    }
    const pcm = new Float32Array(FRAME_SAMPLES).fill(0.25);
    const playing = sp.pull(now, pcm);
    out.push({ now, playing, pcm });
  }
  return out;
}

const same = (a: Float32Array, b: Float32Array): boolean => a.every((v, i) => v === b[i]);

test('plays every packet through its own decoder, bit for bit, after the 40 ms hold', () => {
  const sp = new SpeakerPlayout();
  const frames = play(sp).filter((f) => f.playing);
  const ref = new OpusDecoder();
  const want = new Float32Array(FRAME_SAMPLES);
  for (let i = 0; i < PACKETS.length; i++) {
    ref.decode(PACKETS[i]!, want);
    assert.ok(same(frames[i]!.pcm, want), `frame ${i}`);
  }
  assert.is(frames[0]!.now, 65);
  ref.close();
  sp.close();
});

test('idle pulls return false with the frame zero-filled', () => {
  const sp = new SpeakerPlayout();
  const out = new Float32Array(FRAME_SAMPLES).fill(1);
  assert.is(sp.pull(0, out), false);
  assert.ok(out.every((v) => v === 0));
  sp.close();
});

test('a lost packet is recovered from the next packet in-band FEC, two in a row are concealed then recovered', () => {
  const sp = new SpeakerPlayout();
  const frames = play(sp, new Set([30, 60, 61])).filter((f) => f.playing);
  const ref = new OpusDecoder();
  const want = new Float32Array(FRAME_SAMPLES);
  for (let i = 0; i < PACKETS.length; i++) {
    if (i === 30 || i === 61) ref.decodeFec(PACKETS[i + 1]!, want);
    else if (i === 60) ref.conceal(want);
    else ref.decode(PACKETS[i]!, want);
    assert.ok(same(frames[i]!.pcm, want), `frame ${i}`);
  }
  const s = sp.stats();
  assert.equal([s.lost, s.fecRecovered, s.concealed], [3, 2, 1]);
  ref.close();
  sp.close();
});

test('the spurt end fades the last concealed frame to exactly zero, then silence', () => {
  const sp = new SpeakerPlayout();
  const frames = play(sp);
  const last = frames.findIndex((f) => !f.playing && f.now > 100);
  // After the last packet: three concealed frames, the third one faded.
  const tail = frames.slice(last - 3, last);
  assert.ok(tail.every((f) => f.playing));
  const ref = new OpusDecoder();
  const plc = new Float32Array(FRAME_SAMPLES);
  for (const p of PACKETS) ref.decode(p, plc);
  ref.conceal(plc);
  assert.ok(same(tail[0]!.pcm, plc), 'first tail frame is plain PLC');
  ref.conceal(plc);
  ref.conceal(plc);
  const faded = tail[2]!.pcm;
  assert.is(faded[FRAME_SAMPLES - 1], 0, 'ends at zero');
  assert.ok(Math.abs(faded[0]! - plc[0]!) <= Math.abs(plc[0]!) * 1e-4 + 1e-9, 'starts at full level: no step from the frame before');
  let maxStep = 0;
  for (let i = 1; i < FRAME_SAMPLES; i++) maxStep = Math.max(maxStep, Math.abs(faded[i]! - faded[i - 1]!));
  let plcStep = 0;
  for (let i = 1; i < FRAME_SAMPLES; i++) plcStep = Math.max(plcStep, Math.abs(plc[i]! - plc[i - 1]!));
  assert.ok(maxStep <= plcStep * 1.01 + 1e-3, 'the ramp adds no step of its own');
  assert.ok(frames[last]!.pcm.every((v) => v === 0));
  ref.close();
  sp.close();
});

test('a corrupt packet is concealed, counted, and playout carries on', () => {
  const sp = new SpeakerPlayout();
  const frames = play(sp, new Set(), 120, 40).filter((f) => f.playing);
  assert.is(sp.stats().decodeErrors, 1);
  assert.is(frames.length, PACKETS.length + 3);
  sp.close();
});

test('levels and the speaking flag with its hangover', () => {
  const sp = new SpeakerPlayout({ hangoverMs: 200 });
  const seen: { now: number; speaking: boolean; rms: number; peak: number }[] = [];
  let k = 0;
  const out = new Float32Array(FRAME_SAMPLES);
  for (let now = 5; now < 3000; now += 20) {
    while (k < PACKETS.length && k * 20 + 10 <= now) sp.push(k, PACKETS[k]!, k++ * 20 + 10);
    sp.pull(now, out);
    const s = sp.stats();
    seen.push({ now, speaking: s.speaking, rms: s.rmsDb, peak: s.peakDb });
  }
  const playing = seen.filter((x) => x.now >= 65 && x.now < 65 + 20 * PACKETS.length);
  assert.ok(playing.every((x) => x.speaking));
  const meanRms = playing.reduce((a, x) => a + x.rms, 0) / playing.length;
  // Measured: mean frame RMS -27.6 dBFS for the fixture's speech; peaks above RMS.
  assert.ok(meanRms > -35 && meanRms < -10, `mean RMS ${meanRms.toFixed(1)} dBFS`);
  assert.ok(playing.every((x) => x.peak >= x.rms));
  const lastPlayed = 65 + 20 * (PACKETS.length + 2);
  assert.ok(seen.filter((x) => x.now > lastPlayed && x.now <= lastPlayed + 200).every((x) => x.speaking && x.rms === -120), 'hangover');
  assert.ok(seen.filter((x) => x.now > lastPlayed + 200).every((x) => !x.speaking));
  sp.close();
  sp.close();
});

test.run();
