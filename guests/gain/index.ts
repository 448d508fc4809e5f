// gain: an audio effect that multiplies every sample of the 960-sample capture
// frame by the configured gain (config key "gain", default 1.0, clamped to
// [0, 8]). Two entry points do the same work:
//   on_audio      JSON   {"samples":[...960 numbers...]} -> {"samples":[...]}
//   on_audio_raw  binary 3840 bytes of little-endian f32 -> 3840 bytes
// The host prefers on_audio_raw (see docs/PLUGINS.md for what each costs), and
// in the client's capture chain the zero-copy hearth_frame_process.
import { config, inputF32, inputJSON, outputF32, outputString, Kind, formatNumber, frameGet, frameSet, statSet } from "../../sdk/assembly/index";

// Zero-copy frames (docs/PLUGINS.md §13): the host writes the frame into
// FRAME_BUFFER and calls hearth_frame_process; the host calls on_audio_raw
// once first, which reads the config.
export { hearth_frame_buffer } from "../../sdk/assembly/index";

let gain: f32 = 1.0;
let configured = false;

function currentGain(): f32 {
  if (!configured) {
    configured = true;
    const cfg = config();
    if (cfg !== null) {
      const g = cfg.get("gain");
      if (g !== null && g.kind == Kind.Number) gain = <f32>Math.min(Math.max(g.n, 0), 8);
    }
  }
  return gain;
}

export function on_audio_raw(): i32 {
  const g = currentGain();
  const samples = inputF32();
  for (let i = 0; i < samples.length; i++) unchecked((samples[i] = samples[i] * g));
  outputF32(samples);
  return 0;
}

// Stats (published only to a host whose manifest names them in audio.stats):
// 0 = the gain in use, 1 = this frame's output peak (linear).
export function hearth_frame_process(): i32 {
  const g = gain;
  let peak: f32 = 0;
  for (let i = 0; i < 960; i++) {
    const y = frameGet(i) * g;
    frameSet(i, y);
    peak = max(peak, abs(y));
  }
  statSet(0, g);
  statSet(1, peak);
  return 0;
}

export function on_audio(): i32 {
  const g = currentGain();
  const frame = inputJSON();
  if (frame === null) {
    outputString('{"samples":[]}');
    return 0;
  }
  const samples = frame.get("samples");
  if (samples === null || samples.kind != Kind.Array) {
    outputString('{"samples":[]}');
    return 0;
  }
  const parts = new Array<string>(samples.items.length);
  for (let i = 0; i < samples.items.length; i++) {
    const v = <f32>unchecked(samples.items[i]).n;
    unchecked((parts[i] = formatNumber(<f64>(v * g))));
  }
  outputString('{"samples":[' + parts.join(",") + "]}");
  return 0;
}
