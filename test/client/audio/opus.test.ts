// The Opus binding against the real codec (the wasm @evan/opus ships): round
// trips of a sine and of speech, bitrate, exact 960-sample concealment, FEC
// recovery of a lost frame, and corrupt input.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fileURLToPath } from 'node:url';
import { FRAME_SAMPLES, SAMPLE_RATE } from '../../../host/client/audio/format.js';
import { OpusDecoder, OpusEncoder, type OpusEncoderOptions } from '../../../host/client/audio/opus.js';
import { readWav } from '../../../host/client/audio/wav.js';

const SPEECH = readWav(fileURLToPath(new URL('../../../../test/fixtures/speech.wav', import.meta.url))).samples;
const SINE = new Float32Array(2 * SAMPLE_RATE);
for (let i = 0; i < SINE.length; i++) SINE[i] = 0.5 * Math.sin((2 * Math.PI * 440 * i) / SAMPLE_RATE);

function encodeAll(sig: Float32Array, opts: OpusEncoderOptions = {}): Uint8Array[] {
  const enc = new OpusEncoder(opts);
  const packets: Uint8Array[] = [];
  for (let f = 0; (f + 1) * FRAME_SAMPLES <= sig.length; f++) packets.push(enc.encode(sig.subarray(f * FRAME_SAMPLES, (f + 1) * FRAME_SAMPLES)).slice());
  enc.close();
  return packets;
}

function decodeAll(packets: Uint8Array[]): Float32Array {
  const dec = new OpusDecoder();
  const out = new Float32Array(packets.length * FRAME_SAMPLES);
  const frame = new Float32Array(FRAME_SAMPLES);
  packets.forEach((p, f) => {
    dec.decode(p, frame);
    out.set(frame, f * FRAME_SAMPLES);
  });
  dec.close();
  return out;
}

/** SNR (dB) and correlation of out[i + lag] against ref[i], skipping the codec's first 100 ms. */
function compare(ref: Float32Array, out: Float32Array, lag: number): { snr: number; corr: number } {
  let es = 0, en = 0, xy = 0, yy = 0;
  for (let i = 4800; i + lag < out.length; i++) {
    const x = ref[i]!, y = out[i + lag]!;
    es += x * x;
    en += (x - y) ** 2;
    xy += x * y;
    yy += y * y;
  }
  return { snr: 10 * Math.log10(es / en), corr: xy / Math.sqrt(es * yy) };
}

/** Starting from the reported lookahead, the best alignment within ±8 samples. */
function bestAlignment(ref: Float32Array, out: Float32Array, lookahead: number): { lag: number; snr: number; corr: number } {
  let best = { lag: lookahead, snr: -Infinity, corr: 0 };
  for (let lag = lookahead - 8; lag <= lookahead + 8; lag++) {
    const c = compare(ref, out, lag);
    if (c.snr > best.snr) best = { lag, ...c };
  }
  return best;
}

function kbps(packets: Uint8Array[]): number {
  const bytes = packets.reduce((s, p) => s + p.length, 0);
  return (bytes * 8) / (packets.length * 0.02) / 1000;
}

function snrDb(ref: Float32Array, x: Float32Array): number {
  let es = 0, en = 0;
  for (let i = 0; i < ref.length; i++) {
    es += ref[i]! * ref[i]!;
    en += (ref[i]! - x[i]!) ** 2;
  }
  return 10 * Math.log10(es / en);
}

test('lookahead is 312 samples (6.5 ms) at 48 kHz', () => {
  const enc = new OpusEncoder();
  assert.is(enc.lookaheadSamples, 312);
  enc.close();
});

test('440 Hz sine round trip: aligned near the lookahead, SNR above 25 dB', () => {
  const out = decodeAll(encodeAll(SINE));
  const b = bestAlignment(SINE, out, 312);
  // Measured: best lag 309 (the SILK/hybrid path is 3 samples shorter than the reported lookahead), 35.2 dB, 0.9998.
  assert.ok(Math.abs(b.lag - 312) <= 5, `lag ${b.lag}`);
  assert.ok(b.snr > 25, `SNR ${b.snr.toFixed(1)} dB`);
  assert.ok(b.corr > 0.99, `corr ${b.corr.toFixed(4)}`);
});

test('speech round trip: correlation above 0.93 and SNR above 7 dB', () => {
  const out = decodeAll(encodeAll(SPEECH));
  const b = bestAlignment(SPEECH, out, 312);
  // Measured: lag 309, 10.8 dB waveform SNR, correlation 0.958 (a perceptual codec at 48 kbps).
  assert.ok(Math.abs(b.lag - 312) <= 5, `lag ${b.lag}`);
  assert.ok(b.snr > 7, `SNR ${b.snr.toFixed(1)} dB`);
  assert.ok(b.corr > 0.93, `corr ${b.corr.toFixed(4)}`);
});

test('packet sizes follow ~48 kbps VBR and the bitrate setting', () => {
  const speech = encodeAll(SPEECH);
  const sine = encodeAll(SINE);
  // Measured: speech 45.1 kbps (55..151 bytes), sine 48.9 kbps.
  assert.ok(kbps(speech) > 35 && kbps(speech) < 60, `speech ${kbps(speech).toFixed(1)} kbps`);
  assert.ok(kbps(sine) > 40 && kbps(sine) < 60, `sine ${kbps(sine).toFixed(1)} kbps`);
  const sizes = speech.map((p) => p.length);
  assert.ok(Math.max(...sizes) - Math.min(...sizes) > 30, 'VBR: sizes vary with the content');
  assert.ok(Math.max(...sizes) <= 400);
  const low = encodeAll(SPEECH, { bitrate: 16_000 });
  assert.ok(kbps(low) < 22, `16 kbps setting gave ${kbps(low).toFixed(1)} kbps`);
});

test('encode clamps out-of-range input and checks the frame length', () => {
  const loud = new Float32Array(SINE.length);
  const clipped = new Float32Array(SINE.length);
  for (let i = 0; i < loud.length; i++) {
    loud[i] = SINE[i]! * 8;
    clipped[i] = Math.max(-1, Math.min(32767 / 32768, loud[i]!));
  }
  // Wrapped int16 samples would make different packets from the pre-clipped signal's.
  const a = encodeAll(loud);
  const b = encodeAll(clipped);
  assert.equal(a.map((p) => Buffer.from(p).toString('hex')), b.map((p) => Buffer.from(p).toString('hex')));
  const enc = new OpusEncoder();
  assert.throws(() => enc.encode(new Float32Array(480)), /opus: encode needs 960 samples/);
  enc.setExpectedLoss(1000); // clamped to 100; Opus itself rejects > 100
  enc.setExpectedLoss(-5);
  enc.close();
});

test('concealment yields exactly 960 samples that continue the signal', () => {
  const packets = encodeAll(SINE);
  const dec = new OpusDecoder();
  const frame = new Float32Array(FRAME_SAMPLES);
  for (let f = 0; f < 20; f++) dec.decode(packets[f]!, frame);
  const out = new Float32Array(FRAME_SAMPLES + 1).fill(7);
  dec.conceal(out);
  assert.is(out[FRAME_SAMPLES], 7, 'wrote no more than 960 samples');
  let e = 0;
  for (let i = 0; i < FRAME_SAMPLES; i++) {
    assert.is.not(out[i], 7);
    e += out[i]! * out[i]!;
  }
  assert.ok(Math.sqrt(e / FRAME_SAMPLES) > 0.1, 'PLC extrapolates the sine instead of going silent');
  dec.decode(packets[21]!, frame); // and decoding carries on
  dec.close();
});

test('FEC: the next packet recovers a lost frame far better than concealment', () => {
  const measure = (opts: OpusEncoderOptions): { fec: number; plc: number } => {
    const packets = encodeAll(SPEECH, opts);
    const reference = new OpusDecoder();
    const a = new OpusDecoder();
    const b = new OpusDecoder();
    const want = new Float32Array(FRAME_SAMPLES);
    const fec = new Float32Array(FRAME_SAMPLES);
    const plc = new Float32Array(FRAME_SAMPLES);
    let es = 0, ef = 0, ep = 0;
    for (let f = 0; f + 1 < packets.length; f++) {
      reference.decode(packets[f]!, want);
      if (f % 10 === 5) {
        a.decodeFec(packets[f + 1]!, fec);
        b.conceal(plc);
        for (let i = 0; i < FRAME_SAMPLES; i++) {
          es += want[i]! ** 2;
          ef += (want[i]! - fec[i]!) ** 2;
          ep += (want[i]! - plc[i]!) ** 2;
        }
      } else {
        a.decode(packets[f]!, fec);
        b.decode(packets[f]!, plc);
      }
    }
    // SNR against the lossless decode of the lost frame; silence would score 0 dB.
    return { fec: 10 * Math.log10(es / ef), plc: 10 * Math.log10(es / ep) };
  };
  const on = measure({ fec: true, expectedLossPercent: 10 });
  // Measured: FEC 13.8 dB, PLC 1.1 dB.
  assert.ok(on.fec > 8, `FEC ${on.fec.toFixed(1)} dB`);
  assert.ok(on.fec > on.plc + 6, `FEC ${on.fec.toFixed(1)} dB vs PLC ${on.plc.toFixed(1)} dB`);
  // Opus spends no FEC bits when told to expect no loss: decodeFec then only conceals (measured 1.3 dB).
  const none = measure({ fec: true, expectedLossPercent: 0 });
  assert.ok(none.fec < 4, `FEC without expected loss ${none.fec.toFixed(1)} dB`);
});

test('a corrupt packet throws a clear error and the decoder keeps working', () => {
  const packets = encodeAll(SPEECH.subarray(0, 48_000));
  const dec = new OpusDecoder();
  const ref = new OpusDecoder();
  const frame = new Float32Array(FRAME_SAMPLES);
  const want = new Float32Array(FRAME_SAMPLES);
  for (let f = 0; f < 10; f++) {
    dec.decode(packets[f]!, frame);
    ref.decode(packets[f]!, want);
  }
  assert.throws(() => dec.decode(Uint8Array.of(0xff, 0xff, 0xff), frame), /^opus: decode: corrupted stream \(-4\)$/);
  assert.throws(() => dec.decode(new Uint8Array(0), frame), /opus: decode: empty packet/);
  assert.throws(() => dec.decode(new Uint8Array(2000), frame), /exceeds 1500/);
  dec.decode(packets[10]!, frame);
  ref.decode(packets[10]!, want);
  assert.ok(snrDb(want, frame) > 30, 'the rejected packet left the decoder state untouched');
  // Random garbage: each packet either decodes or throws an opus error, never crashes the thread.
  let seed = 1;
  const rnd = (): number => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
  for (let k = 0; k < 500; k++) {
    const junk = new Uint8Array(1 + Math.floor(rnd() * 300));
    for (let i = 0; i < junk.length; i++) junk[i] = rnd() * 256;
    try {
      dec.decode(junk, frame);
    } catch (e) {
      assert.match(String(e), /^Error: opus: /);
    }
  }
  dec.decode(packets[11]!, frame);
  dec.close();
  ref.close();
});

test('close() is idempotent and a closed codec refuses work', () => {
  const enc = new OpusEncoder();
  const dec = new OpusDecoder();
  enc.close();
  enc.close();
  dec.close();
  dec.close();
  assert.throws(() => enc.encode(new Float32Array(FRAME_SAMPLES)), /opus: encoder is closed/);
  assert.throws(() => dec.conceal(new Float32Array(FRAME_SAMPLES)), /opus: decoder is closed/);
});

test('encode returns a view valid until the next call; many instances share one module', () => {
  const enc = new OpusEncoder();
  const a = enc.encode(SPEECH.subarray(48_000, 48_960));
  const copy = a.slice();
  assert.equal(Array.from(a), Array.from(copy));
  const all = Array.from({ length: 50 }, () => new OpusDecoder());
  for (const d of all) d.close();
  const b = enc.encode(SPEECH.subarray(48_960, 49_920));
  assert.ok(b.length > 0);
  enc.close();
});

test.run();
