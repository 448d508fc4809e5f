// STOI (host/dsp/stoi.ts) against a published implementation.
//
// Where the reference values come from: pystoi 0.4.1 (github.com/mpariente/
// pystoi, tag v0.4.1, commit 74872b0), the Python port whose own tests check
// it against Taal's MATLAB code, run here with numpy 2.4 / scipy 1.17 on the
// very signals below (built from the fixtures with fixed gains, float64):
//
//   from pystoi import stoi
//   s = speech_a[:240000]; pk = pink[:240000]; br = brown[:240000]   # int16 / 32768
//   stoi(s, s + 0.5 * pk, 48000)    -> 0.9425279775690063
//   stoi(s, s + 0.25 * br, 48000)   -> 0.9699396784420796
//   stoi(s, s + 1.0 * pk, 48000)    -> 0.866785705357831
//   stoi(s[::3], (s + 0.5 * pk)[::3], 16000) -> 0.938060805446078
//   the 10 kHz synthetic signal of synthetic10k() -> 0.8064380778843748
//   stoi(s, pk, 48000)              -> 0.4707735127069179  (noise alone)
//
// (48 kHz and 16 kHz exercise pystoi's Octave-compatible resampler, 10 kHz
// the measure alone.) Beyond those: identical signals give 1, independent
// noise gives STOI's floor (not 0, see below), and the value rises with the SNR.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFixture } from '../../host/dsp/room.js';
import { stoi } from '../../host/dsp/stoi.js';

const test = suite('dsp: STOI');

const N = 240_000;
const speech = Float64Array.from(readFixture('speech-a.wav').subarray(0, N));
const pink = Float64Array.from(readFixture('noise-pink.wav').subarray(0, N));
const brown = Float64Array.from(readFixture('noise-brown.wav').subarray(0, N));

const plus = (a: Float64Array, b: Float64Array, g: number): Float64Array => a.map((v, i) => v + g * b[i]!);
const every3 = (a: Float64Array): Float64Array => a.filter((_, i) => i % 3 === 0);

/** 3 s at 10 kHz: two amplitude-modulated tones, gated off 1.5 s of every 5,000 samples, plus LCG noise (same in the Python run). */
function synthetic10k(): [Float64Array, Float64Array] {
  const n = 30_000;
  const x = new Float64Array(n);
  const y = new Float64Array(n);
  let a = 12345;
  for (let i = 0; i < n; i++) {
    const t = i / 10_000;
    let v = Math.sin(2 * Math.PI * 440 * t) * (0.5 + 0.5 * Math.sin(2 * Math.PI * 3 * t)) + 0.5 * Math.sin(2 * Math.PI * 1250 * t) * (0.5 + 0.5 * Math.cos(2 * Math.PI * 5 * t));
    if (i % 5000 >= 3500) v = 0;
    x[i] = v;
    // a = (a * 1664525 + 1013904223) mod 2^32, exactly (the product exceeds 2^53 otherwise).
    a = (Math.imul(a, 1664525) + 1013904223) >>> 0;
    y[i] = v + 0.3 * (a / 4294967296 - 0.5);
  }
  return [x, y];
}

// Agreement to 1e-4 (the resampler's float rounding and summation order
// differ); a value off by a fraction of a percent would mean a different step.
const close = (got: number, want: number, what: string) => assert.ok(Math.abs(got - want) < 1e-4, `${what}: ${got} vs pystoi ${want}`);

test('matches pystoi 0.4.1 at 48 kHz (resampled to 10 kHz)', () => {
  close(stoi(speech, plus(speech, pink, 0.5), 48_000), 0.9425279775690063, 'pink ×0.5');
  close(stoi(speech, plus(speech, brown, 0.25), 48_000), 0.9699396784420796, 'brown ×0.25');
  close(stoi(speech, plus(speech, pink, 1.0), 48_000), 0.866785705357831, 'pink ×1');
});

test('matches pystoi 0.4.1 at 16 kHz and at 10 kHz (no resampling)', () => {
  close(stoi(every3(speech), every3(plus(speech, pink, 0.5)), 16_000), 0.938060805446078, '16 kHz');
  const [x, y] = synthetic10k();
  close(stoi(x, y, 10_000), 0.8064380778843748, '10 kHz synthetic');
});

test('identical signals give 1, a scaled copy too', () => {
  assert.ok(Math.abs(stoi(speech, speech, 48_000) - 1) < 1e-9);
  assert.ok(Math.abs(stoi(speech, speech.map((v) => v * 0.3), 48_000) - 1) < 1e-9, 'STOI ignores the overall level');
});

// Not 0: the clipping step, y' = min(α·y, (1 + 10^(15/20))·x), writes the
// clean envelope into every unit where the scaled noise exceeds it, so noise
// alone correlates with the speech. pystoi gives the same, and the same for
// Gaussian noise (0.4734); what matters is that it is far below any noisy speech.
test('noise alone (no speech at all) gives STOI\'s floor of about 0.47, as pystoi does', () => {
  const unrelated = stoi(speech, pink, 48_000);
  close(unrelated, 0.4707735127069179, 'pink noise alone');
  assert.ok(unrelated < stoi(speech, plus(speech, pink, 2), 48_000) - 0.1);
});

test('monotone in SNR', () => {
  const values = [2, 1, 0.5, 0.25, 0.1].map((g) => stoi(speech, plus(speech, pink, g), 48_000));
  for (let i = 1; i < values.length; i++) assert.ok(values[i]! > values[i - 1]!, `STOI rises as the noise falls: ${values.map((v) => v.toFixed(3)).join(' < ')}`);
});

test('unequal lengths are refused', () => {
  assert.throws(() => stoi(speech, speech.subarray(1), 48_000), /length/);
});

test.run();
