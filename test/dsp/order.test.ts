// The capture chain's order (docs/DSP.md "Why the canceller runs first
// (measured)"): on the base room with pink noise at 5 dB SNR, the client's
// mic → AEC → NS must cancel at least as much echo as mic → NS → AEC, with our
// guests through the real chain (bench/dsp-order.ts measures all the pairings).
// Both splits of the residual echo are checked: the phase-inversion one on the
// full canceller (which flatters AEC first by a few dB), and the exact one on
// its linear filter alone (the robust one). About 10 s.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { buildOrderCase, measureOrders, nsFiles } from '../../bench/dsp-order.js';

const test = suite('dsp: chain order');

test('base room, pink 5 dB: AEC → NS cancels at least as much echo as NS → AEC', async () => {
  const f = await measureOrders(buildOrderCase('base', 'pink', 5), await nsFiles(), { stoi: false });
  const detail = JSON.stringify({ aecFirst: f.aecFirst, nsFirst: f.nsFirst, linear: f.linear });
  // Measured 23.9 vs 14.1 dB (phase inversion) and 13.7 vs 9.0 dB (linear filter, exact).
  assert.ok(f.aecFirst.erleDb >= f.nsFirst.erleDb, detail);
  assert.ok(f.linear.aecFirstErleDb >= f.linear.nsFirstErleDb, detail);
  // The split itself: on the suppressor, where the shadow filter gives the exact split, the half sum agrees.
  assert.ok(Math.abs(f.splitCheckDb) < 0.5, detail);
});

test.run();
