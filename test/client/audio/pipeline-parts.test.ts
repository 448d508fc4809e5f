// Parts of the capture pipeline: the voice gate (threshold with hangover,
// push-to-talk, self-mute) and the echo canceller's reference alignment.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { EchoReference } from '../../../host/client/audio/echo-reference.js';
import { frameLevelDb, VoiceGate } from '../../../host/client/audio/gate.js';

test('voice activation opens above the threshold and holds for the hangover', () => {
  const g = new VoiceGate();
  g.settings = { mode: 'vad', thresholdDb: -40, hangoverMs: 60 };
  assert.is(g.decide(-60), false);
  assert.is(g.decide(-30), true);
  // 60 ms hangover = 3 frames of 20 ms below the threshold still sent
  assert.equal([g.decide(-60), g.decide(-60), g.decide(-60), g.decide(-60)], [true, true, true, false]);
});

test('push-to-talk follows the key; continuous always sends; self-mute always wins', () => {
  const g = new VoiceGate();
  g.settings = { mode: 'ptt', thresholdDb: -40, hangoverMs: 0 };
  assert.is(g.decide(0), false);
  g.pttDown = true;
  assert.is(g.decide(-120), true);
  g.settings = { mode: 'continuous', thresholdDb: -40, hangoverMs: 0 };
  assert.is(g.decide(-120), true);
  g.selfMute = true;
  assert.is(g.decide(0), false);
});

test('frame levels in dBFS', () => {
  const f = new Float32Array(960).fill(0.5);
  const { rmsDb, peakDb } = frameLevelDb(f);
  assert.ok(Math.abs(rmsDb - -6.02) < 0.01);
  assert.ok(Math.abs(peakDb - -6.02) < 0.01);
  assert.is(frameLevelDb(new Float32Array(960)).rmsDb, -120);
});

test('the echo reference of mic frame n is playback frame n-1 (plus device delay), sample for sample', () => {
  const ref = new EchoReference();
  const out = new Float32Array(960);
  const stereo = (n: number) => {
    const s = new Float32Array(1920);
    for (let i = 0; i < 960; i++) s[2 * i] = s[2 * i + 1] = n * 1000 + i;
    return s;
  };
  ref.pushPlayed(stereo(1));
  ref.read(out);
  assert.ok(out.every((v) => v === 0), 'nothing played before frame 1');
  ref.pushPlayed(stereo(2));
  ref.read(out);
  for (let i = 0; i < 960; i++) assert.is(out[i], 1000 + i);
  // 100 samples of device latency on top: the reference shifts by exactly 100.
  const late = new EchoReference(100);
  for (let n = 1; n <= 3; n++) late.pushPlayed(stereo(n));
  late.read(out);
  assert.is(out[100], 2000);
  assert.is(out[99], 1000 + 959);
  assert.is(late.delay, 1060);
});

test.run();
