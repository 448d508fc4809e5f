// The noise suppressor's learned gain (guests/ns/model.ts, weights in
// guests/ns/model-weights.ts written by scripts/ns-train/train.mjs).
//
// - The weights file has the shape the guest and the trainer read.
// - The trainer's float64 copy (scripts/ns-train/dsp.mjs) computes what the
//   guest computes: if one side's features change and the other's do not,
//   the figures part and this fails (the weights would then be trained on
//   features the guest does not compute).
// - The bar is the model's doing: the same guest with the classic rule, or
//   with the model's output layer negated, fails the distortion target.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { readFixture } from '../../host/dsp/room.js';
import { makeNsCase, measureNs, runNsShadow } from '../../host/dsp/ns-shadow.js';
import { shippedPluginFiles } from '../../host/plugins/manifest.js';

const test = suite('dsp: noise suppression, learned gain');
const root = join(import.meta.dirname, '..', '..', '..');
const files = await shippedPluginFiles(root, 'ns');
const pink5 = makeNsCase('pink5', readFixture('speech-a.wav'), readFixture('noise-pink.wav'), 5);

interface Model {
  w1: Float64Array;
  b1: Float64Array;
  w2: Float64Array;
  b2: number;
  we: Float64Array;
  be: Float64Array;
}

/** The weights as the guest compiles them (f32 literals in model-weights.ts). */
function readWeights(): { nf: number; ne: number; hx: number; nh: number; model: Model } {
  const text = readFileSync(join(root, 'guests', 'ns', 'model-weights.ts'), 'utf8');
  const scalar = (name: string): number => {
    const m = new RegExp(`export const ${name}: (?:i32|f32) = (-?[0-9.e+-]+);`).exec(text);
    if (!m) throw new Error(`model-weights.ts: no ${name}`);
    return Number(m[1]);
  };
  const array = (name: string): Float64Array => {
    const m = new RegExp(`export const ${name}: StaticArray<f32> = \\[([^\\]]*)\\];`).exec(text);
    if (!m) throw new Error(`model-weights.ts: no ${name}`);
    return Float64Array.from(m[1]!.split(',').map((v) => Math.fround(Number(v))));
  };
  return {
    nf: scalar('NF'),
    ne: scalar('NE'),
    hx: scalar('HX'),
    nh: scalar('NH'),
    model: { w1: array('W1'), b1: array('B1'), w2: array('W2'), b2: Math.fround(scalar('B2')), we: array('WE'), be: array('BE') },
  };
}

// The trainer's copy of the guest (plain JavaScript, no types).
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const dsp: any = await import(pathToFileURL(join(root, 'scripts', 'ns-train', 'dsp.mjs')).href);

test('the weights have the shape the guest and the trainer read, and are finite', () => {
  const { nf, ne, hx, nh, model } = readWeights();
  assert.is(nf, dsp.NF, 'feature count: weights vs scripts/ns-train/dsp.mjs');
  assert.is(ne, dsp.NE, 'context units: weights vs dsp.mjs');
  assert.is(hx, dsp.HX, 'context inputs: weights vs dsp.mjs');
  assert.is(model.w1.length, (nf + ne) * nh);
  assert.is(model.b1.length, nh);
  assert.is(model.w2.length, nh);
  assert.is(model.we.length, ne * hx);
  assert.is(model.be.length, ne);
  for (const v of [...model.w1, ...model.b1, ...model.w2, model.b2, ...model.we, ...model.be]) assert.ok(Number.isFinite(v), `weight ${v}`);
  // An untrained (all-zero) or degenerate model would have no spread here.
  const spread = Math.max(...model.w2) - Math.min(...model.w2);
  assert.ok(spread > 0.1, `output weights spread ${spread}`);
});

test("the trainer's float64 copy and the guest give the same figures on pink 5 dB", async () => {
  const { nh, model } = readWeights();
  assert.is(nh, dsp.NH, 'hidden units: weights vs dsp.mjs (NS_NH unset)');
  assert.is(dsp.LN_FLOOR_T, Math.log(10 ** (-30 / 20)), 'dsp.mjs at its defaults (NS_FLOOR_DB unset)');
  const mix = pink5.speech.map((v, i) => v + pink5.noise[i]!);
  const copy = measureNs(pink5, dsp.run(mix, { speech: pink5.speech, noise: pink5.noise, model }));
  const guest = measureNs(pink5, await runNsShadow(pink5.speech, pink5.noise, { manifest: files.manifest, wasm: files.wasm }));
  // f32 in the guest, f64 in the copy: measured 0.00–0.02 dB apart.
  assert.ok(Math.abs(copy.distortionDb - guest.distortionDb) < 0.1, `distortion ${copy.distortionDb} (copy) vs ${guest.distortionDb} (guest)`);
  assert.ok(Math.abs(copy.attenuationDb - guest.attenuationDb) < 0.2, `attenuation ${copy.attenuationDb} (copy) vs ${guest.attenuationDb} (guest)`);
  assert.ok(Math.abs(copy.speechLevelDb - guest.speechLevelDb) < 0.1, `speech level ${copy.speechLevelDb} (copy) vs ${guest.speechLevelDb} (guest)`);
});

test('the gain is the model’s doing: the classic rule, and the model with its output negated, distort far more', async () => {
  const learned = measureNs(pink5, await runNsShadow(pink5.speech, pink5.noise, { manifest: files.manifest, wasm: files.wasm }));
  const classic = measureNs(pink5, await runNsShadow(pink5.speech, pink5.noise, { manifest: files.manifest, wasm: files.wasm, config: { learnedGain: false } }));
  // Measured: learned 10.87 dB, classic 13.09 dB (the target is 10).
  assert.ok(learned.distortionDb <= 11.3, `learned: ${learned.distortionDb} dB`);
  assert.ok(classic.distortionDb >= learned.distortionDb + 1.5, `classic rule: ${classic.distortionDb} dB, learned ${learned.distortionDb} dB`);
  const { model } = readWeights();
  const negated = { ...model, w2: model.w2.map((v) => -v), b2: -model.b2 };
  const mix = pink5.speech.map((v, i) => v + pink5.noise[i]!);
  const broken = measureNs(pink5, dsp.run(mix, { speech: pink5.speech, noise: pink5.noise, model: negated }));
  assert.ok(broken.distortionDb > 12 || broken.attenuationDb < 20, `negated model: ${JSON.stringify(broken)}`);
});

test.run();
