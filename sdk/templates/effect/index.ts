// {{name}}: a Hearth audio effect (AssemblyScript, host API v1).
//   on_audio_raw   gets each 20 ms capture frame (960 mono f32 samples at
//                  48 kHz, little-endian, before Opus) and returns it
//                  processed: here a gain followed by a soft limiter, so that
//                  loud input does not clip.
// Audio hooks run on the audio path: stay well inside limits.callMs, do not
// allocate per sample, and never read JSON per frame.
//
// Build:   npx hearth plugin build {{id}}
// Install: npx hearth plugin install {{id}}/manifest.json --grant-requested
// Reference: docs/PLUGINS.md (section 6: audio frames).
import { config, inputF32, outputF32 } from "hearth-sdk";

let loaded = false;
let gain: f32 = 1.0;

function configure(): void {
  if (loaded) return;
  loaded = true;
  const cfg = config(); // "config.read" capability
  if (cfg !== null) gain = <f32>cfg.getNumber("gain", 1.0);
}

export function on_audio_raw(): i32 {
  configure();
  const samples = inputF32();
  for (let i = 0; i < samples.length; i++) {
    const x = unchecked(samples[i]) * gain;
    // Soft limiter: linear below 0.5, then bends smoothly towards +-1.
    const a = Mathf.abs(x);
    const y = a <= 0.5 ? x : Mathf.sign(x) * (0.5 + 0.5 * Mathf.tanh((a - 0.5) * 2.0));
    unchecked((samples[i] = y));
  }
  outputF32(samples);
  return 0;
}
