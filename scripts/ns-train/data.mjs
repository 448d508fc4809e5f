// Training data for the learned noise-suppression gain: speech synthesised
// with espeak-ng (sentences.txt, several voices and speeds, none of them the
// test fixtures' sentences), noise generated here with our own seeds. Nothing
// from test/fixtures is read. WAVs are cached in /tmp/ns-train (not in the
// repository). Needs espeak-ng and sox on PATH (a developer tool: CI only
// builds the committed weights).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { gaussian, rng } from '../../dist/host/dsp/room.js';
import { activeLevelDbfs, levelDbfs } from '../../dist/host/dsp/spectral.js';

const here = new URL('.', import.meta.url).pathname;
export const CACHE = '/tmp/ns-train';
// Not en-gb+f3 at 140 nor en-us at 150 with those sentences (the fixtures); the
// voices differ in pitch, formants and timing.
const VOICES = ['en-us+m3', 'en-gb', 'en+f2', 'en-us+f4', 'en-gb-scotland', 'en-gb-x-rp+m7', 'en-029+f1', 'en-us-nyc', 'en+f5', 'en-gb-x-gbcwmd+m2', 'en-us', 'en+klatt3'];

export function readWav16(path) {
  const b = readFileSync(path);
  let at = 12;
  let rate = 0;
  while (at + 8 <= b.length) {
    const id = b.toString('ascii', at, at + 4);
    const size = b.readUInt32LE(at + 4);
    if (id === 'fmt ') rate = b.readUInt32LE(at + 12);
    if (id === 'data') {
      const n = Math.floor(Math.min(size, b.length - at - 8) / 2);
      const x = new Float32Array(n);
      for (let i = 0; i < n; i++) x[i] = b.readInt16LE(at + 8 + 2 * i) / 32768;
      return { rate, x };
    }
    at += 8 + size + (size & 1);
  }
  throw new Error(`${path}: no data chunk`);
}

export function sentences() {
  return readFileSync(join(here, 'sentences.txt'), 'utf8').split('\n').filter((l) => l.trim() && !l.startsWith('#'));
}

/** Each sentence spoken by `perSentence` voices (round robin, seeded speeds 130–170), 48 kHz mono. */
export function utterances(perSentence = 2, seed = 7) {
  mkdirSync(CACHE, { recursive: true });
  const u = rng(seed);
  const out = [];
  sentences().forEach((text, i) => {
    for (let r = 0; r < perSentence; r++) {
      const voice = VOICES[(i * perSentence + r) % VOICES.length];
      const speed = 130 + Math.floor(u() * 41);
      const file = join(CACHE, `utt-${i}-${r}-${voice.replace(/[^a-z0-9]/gi, '_')}-${speed}.wav`);
      if (!existsSync(file)) {
        // Written under this process's own names and renamed into place (atomic on one
        // file system): two training runs started together share the cache, and the
        // slower one must never read a half-written WAV.
        const raw = `${file}.${process.pid}.raw.wav`;
        const tmp = `${file}.${process.pid}.tmp.wav`;
        execFileSync('espeak-ng', ['-v', voice, '-s', String(speed), '-w', raw, text]);
        execFileSync('sox', [raw, '-r', '48000', '-c', '1', '-b', '16', tmp]);
        renameSync(tmp, file);
        rmSync(raw, { force: true });
      }
      out.push({ sentence: i, voice, speed, x: readWav16(file).x });
    }
  });
  return out;
}

/**
 * Seeded noise of one colour: white, pink (Kellet's filter), voss (pink by the
 * Voss–McCartney row sum: another pink with its own ripple), brown (leaky
 * integrator), or a random tilt between them.
 */
export function makeNoise(kind, len, seed) {
  const u = rng(seed);
  const g = gaussian(u);
  const x = new Float32Array(len);
  let b0 = 0, b1 = 0, b2 = 0, b3 = 0, b4 = 0, b5 = 0, b6 = 0, br = 0;
  const leak = 0.995 + 0.004 * u();
  const mixW = [u(), u(), u()];
  const ROWS = 16;
  const rows = new Float64Array(ROWS);
  let rowSum = 0;
  for (let i = 0; i < len; i++) {
    const w = g();
    if (kind === 'voss') {
      // Row r is redrawn every 2^(r+1) samples (at the index's lowest set bit), plus white on top.
      const r = Math.min(31 - Math.clz32((i + 1) & -(i + 1)), ROWS - 1);
      const v = g();
      rowSum += v - rows[r];
      rows[r] = v;
      x[i] = (rowSum + w) / 4;
      continue;
    }
    b0 = 0.99886 * b0 + w * 0.0555179;
    b1 = 0.99332 * b1 + w * 0.0750759;
    b2 = 0.969 * b2 + w * 0.153852;
    b3 = 0.8665 * b3 + w * 0.3104856;
    b4 = 0.55 * b4 + w * 0.5329522;
    b5 = -0.7616 * b5 - w * 0.016898;
    const pink = b0 + b1 + b2 + b3 + b4 + b5 + b6 + w * 0.5362;
    b6 = w * 0.115926;
    br = leak * br + w * 0.05;
    if (kind === 'white') x[i] = w;
    else if (kind === 'pink') x[i] = pink;
    else if (kind === 'brown') x[i] = br;
    else x[i] = mixW[0] * w * 0.3 + mixW[1] * pink + mixW[2] * br * 2;
  }
  return x;
}

/**
 * Mixtures of ~11 s: 0.3–0.6 s of noise first, then three utterances with
 * 0.15–0.9 s gaps (so noise-only stretches occur, as in a call), in one noise
 * at an SNR (active level over the noise's mean power, as the bench defines
 * it: 0–15 dB; 15% of them at 20–35 dB and 10% at 40–60 dB, so clean speech is seen too).
 */
export function mixtures(utts, { seed = 11, repeats = 2 } = {}) {
  const u = rng(seed);
  const kinds = ['pink', 'brown', 'voss', 'white', 'tilt', 'pink', 'brown', 'voss'];
  const groups = [];
  for (let i = 0; i + 3 <= utts.length; i += 3) groups.push(utts.slice(i, i + 3));
  const out = [];
  let n = 0;
  for (let r = 0; r < repeats; r++) {
    for (const grp of groups) {
      const parts = [];
      parts.push(new Float32Array(Math.round(48000 * (0.3 + 0.3 * u()))));
      for (const ut of grp) {
        parts.push(ut.x);
        parts.push(new Float32Array(Math.round(48000 * (0.15 + 0.75 * u()))));
      }
      const len = parts.reduce((a, p) => a + p.length, 0);
      const speech = new Float32Array(len);
      let at = 0;
      for (const p of parts) {
        speech.set(p, at);
        at += p.length;
      }
      // Speech level −35…−15 dBFS active: the features are ratios, but the SILENCE test is absolute.
      const sg = 10 ** ((-35 + 20 * u() - activeLevelDbfs(speech)) / 20);
      for (let i = 0; i < len; i++) speech[i] *= sg;
      const kind = kinds[n % kinds.length];
      // 10% nearly clean (40–60 dB: a quiet room, which the suppressor must leave alone), 15% at 20–35 dB, the rest 0–15 dB.
      const pick = u();
      const snr = pick < 0.1 ? 40 + 20 * u() : pick < 0.25 ? 20 + 15 * u() : 15 * u();
      const noise = makeNoise(kind, len, 1000 + n);
      const ng = 10 ** ((activeLevelDbfs(speech) - levelDbfs(noise) - snr) / 20);
      for (let i = 0; i < len; i++) noise[i] *= ng;
      out.push({ speech, noise, kind, snr, sentences: grp.map((x) => x.sentence) });
      n++;
    }
  }
  return out;
}
