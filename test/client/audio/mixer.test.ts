// The stereo mixer: equal-power pan law, bit-exact pass-through under the
// limiter's threshold, and a limiter that keeps loud sums under -1 dBFS
// without the flat tops of hard clipping.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FRAME_SAMPLES, SAMPLE_RATE } from '../../../host/client/audio/format.js';
import { LIMIT_CEILING, Mixer, panGains, type MixSource } from '../../../host/client/audio/mixer.js';

function sine(freq: number, amp: number, frames: number, phase = 0): Float32Array {
  const x = new Float32Array(frames * FRAME_SAMPLES);
  for (let i = 0; i < x.length; i++) x[i] = amp * Math.sin((2 * Math.PI * freq * i) / SAMPLE_RATE + phase);
  return x;
}

/** Mixes whole signals frame by frame; returns the interleaved stereo result. */
function mixAll(mixer: Mixer, signals: { x: Float32Array; gain: number; pan: number }[], frames: number): Float32Array {
  const out = new Float32Array(frames * FRAME_SAMPLES * 2);
  const frame = new Float32Array(FRAME_SAMPLES * 2);
  const sources: MixSource[] = signals.map((s) => ({ pcm: new Float32Array(FRAME_SAMPLES), gain: s.gain, pan: s.pan }));
  for (let f = 0; f < frames; f++) {
    signals.forEach((s, k) => sources[k]!.pcm.set(s.x.subarray(f * FRAME_SAMPLES, (f + 1) * FRAME_SAMPLES)));
    mixer.mix(sources, frame);
    out.set(frame, f * FRAME_SAMPLES * 2);
  }
  return out;
}

/** Longest run of consecutive samples of one channel at the same level (within 1e-6) above 0.5: a clipped top. */
function longestPlateau(stereo: Float32Array, ch: number): number {
  let best = 0;
  let run = 0;
  for (let j = ch + 2; j < stereo.length; j += 2) {
    const a = Math.abs(stereo[j]!);
    if (a > 0.5 && Math.abs(a - Math.abs(stereo[j - 2]!)) < 1e-6) run++;
    else run = 0;
    best = Math.max(best, run + 1);
  }
  return best;
}

test('pan law: equal power, exactly √½ per side at centre, silent far side at the edges', () => {
  assert.equal(panGains(0), { left: Math.SQRT1_2, right: Math.SQRT1_2 });
  assert.equal(panGains(-1), { left: 1, right: 0 });
  assert.equal(panGains(1), { left: 0, right: 1 });
  assert.equal(panGains(5), panGains(1), 'clamped');
  assert.equal(panGains(Number.NaN), panGains(0));
  const h = panGains(0.5);
  assert.ok(Math.abs(h.left - Math.cos((3 * Math.PI) / 8)) < 1e-15 && Math.abs(h.right - Math.sin((3 * Math.PI) / 8)) < 1e-15);
  for (let p = -1; p <= 1; p += 0.125) {
    const g = panGains(p);
    assert.ok(Math.abs(g.left ** 2 + g.right ** 2 - 1) < 1e-12, `power at pan ${p}`);
  }
  assert.ok(Math.abs(20 * Math.log10(panGains(0).left) + 3.0103) < 1e-3, 'centre is -3 dB');
});

test('a source under the threshold passes bit-exactly: gain 1, centre → × √½ on each side', () => {
  const mixer = new Mixer();
  let seed = 9;
  const x = new Float32Array(50 * FRAME_SAMPLES);
  for (let i = 0; i < x.length; i++) x[i] = ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32 - 0.5) * 1.2;
  const out = mixAll(mixer, [{ x, gain: 1, pan: 0 }], 50);
  for (let i = 0; i < x.length; i++) {
    const want = Math.fround(x[i]! * Math.SQRT1_2);
    if (out[2 * i] !== want || out[2 * i + 1] !== want) assert.unreachable(`sample ${i}: ${out[2 * i]} ${out[2 * i + 1]} vs ${want}`);
  }
  assert.is(mixer.limiterGain, 1);
});

test('gain, hard pan, mute and deafen', () => {
  const mixer = new Mixer();
  const x = sine(300, 0.5, 1);
  const left = mixAll(mixer, [{ x, gain: 0.5, pan: -1 }], 1);
  for (let i = 0; i < FRAME_SAMPLES; i++) {
    assert.is(left[2 * i], Math.fround(x[i]! * 0.5));
    assert.is(left[2 * i + 1], 0);
  }
  const muted = mixAll(mixer, [{ x, gain: 0, pan: 0 }], 1);
  assert.ok(muted.every((v) => v === 0));
  const frame = new Float32Array(FRAME_SAMPLES * 2).fill(1);
  mixer.mix([], frame);
  assert.ok(frame.every((v) => v === 0), 'deafened: no sources, silence');
});

test('two full-scale sines: the sum stays under -1 dBFS with no clipped plateau', () => {
  const frames = 100;
  const a = sine(440, 1, frames);
  const b = sine(554.37, 1, frames, 0.3);
  const mixer = new Mixer();
  const out = mixAll(mixer, [{ x: a, gain: 1, pan: 0 }, { x: b, gain: 1, pan: 0 }], frames);
  let peak = 0;
  for (const v of out) peak = Math.max(peak, Math.abs(v));
  // Unlimited, the sum reaches about √2 = +3 dBFS per side.
  assert.ok(peak <= LIMIT_CEILING + 1e-6, `peak ${peak} over ceiling ${LIMIT_CEILING}`);
  assert.ok(peak > LIMIT_CEILING * 0.97, `limited, not just attenuated: peak ${peak}`);
  const plateau = Math.max(longestPlateau(out, 0), longestPlateau(out, 1));
  assert.ok(plateau <= 2, `flat top of ${plateau} samples`);
  // The shape is kept: the output correlates with the unlimited sum (measured 0.99995; peak 0.891251, plateau 1).
  let xy = 0, xx = 0, yy = 0;
  for (let i = 0; i < a.length; i++) {
    const s = (a[i]! + b[i]!) * Math.SQRT1_2;
    xy += s * out[2 * i]!;
    xx += s * s;
    yy += out[2 * i]! ** 2;
  }
  assert.ok(xy / Math.sqrt(xx * yy) > 0.999, `correlation ${(xy / Math.sqrt(xx * yy)).toFixed(4)}`);
  // The measure does catch clipping: the same sum hard-clipped at the ceiling has long flat tops.
  const clipped = new Float32Array(out.length);
  for (let i = 0; i < a.length; i++) {
    const s = Math.max(-LIMIT_CEILING, Math.min(LIMIT_CEILING, (a[i]! + b[i]!) * Math.SQRT1_2));
    clipped[2 * i] = s;
    clipped[2 * i + 1] = s;
  }
  assert.ok(longestPlateau(clipped, 0) > 20);
});

test('a sudden loud onset is caught at once; the limiter releases smoothly back to exactly 1', () => {
  const mixer = new Mixer();
  const quiet = sine(200, 0.2, 150);
  const loud = sine(440, 1, 150);
  for (let i = 0; i < loud.length; i++) if (i < 10 * FRAME_SAMPLES + 300 || i >= 30 * FRAME_SAMPLES) loud[i] = 0;
  const out = mixAll(mixer, [{ x: quiet, gain: 1, pan: -0.3 }, { x: loud, gain: 1.5, pan: 0.3 }], 150);
  let peak = 0;
  for (const v of out) peak = Math.max(peak, Math.abs(v));
  assert.ok(peak <= LIMIT_CEILING + 1e-6, `peak ${peak}`);
  // Release: the gain rises without jumps, and within 1.5 s of the end of the loud part the quiet source is bit-exact again.
  const g = panGains(-0.3);
  let exactFrom = -1;
  for (let i = 30 * FRAME_SAMPLES; i < quiet.length; i++) {
    const exact = out[2 * i] === Math.fround(quiet[i]! * g.left);
    if (exact && exactFrom < 0) exactFrom = i;
    if (!exact) exactFrom = -1;
  }
  assert.ok(exactFrom > 0, 'back to unity gain');
  const releaseMs = ((exactFrom - 30 * FRAME_SAMPLES) / SAMPLE_RATE) * 1000;
  // Measured: 776 ms (a 60 ms time constant down to the 1e-6 snap, after a 12 ms hold).
  assert.ok(releaseMs > 100 && releaseMs < 1500, `release ${releaseMs.toFixed(0)} ms`);
  assert.is(mixer.limiterGain, 1);
});

test.run();
