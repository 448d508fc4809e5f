// {{name}}: a Hearth audio effect (JavaScript, host API v1; sdk/js/hearth.js).
//   on_audio_raw   gets each 20 ms capture frame (960 mono f32 samples at
//                  48 kHz, as a Float32Array) and returns it processed: a gain
//                  followed by a soft limiter.
// A JavaScript engine runs each frame in about a millisecond: fine for a
// simple effect; write heavy DSP in C or AssemblyScript (docs/PLUGINS.md §8).
//
// Build:   npx hearth plugin build {{id}}   (clang, wasi-libc: scripts/ensure-toolchains.sh)
// Install: npx hearth plugin install {{id}}/manifest.json --grant-requested
const { config } = Hearth;

let gain = null;

function on_audio_raw(samples) {
  if (gain === null) {
    const cfg = config() || {}; // "config.read" capability
    gain = typeof cfg.gain === 'number' ? cfg.gain : 1;
  }
  for (let i = 0; i < samples.length; i++) {
    const x = samples[i] * gain;
    // Soft limiter: linear below 0.5, then bends smoothly towards +-1.
    const a = Math.abs(x);
    samples[i] = a <= 0.5 ? x : Math.sign(x) * (0.5 + 0.5 * Math.tanh((a - 0.5) * 2));
  }
  return samples;
}
