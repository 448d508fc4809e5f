// Overrun test guest: spins, then halves the frame (so a test sees whether
// its output was used). Guests have no clock, so the work is given in
// kilo-iterations of a loop (a test calibrates it against the host's timing):
//   config "kiloIters"   spun on every frame (default 0)
//   sample 0 >= 1000     this frame spins sample-0 kilo-iterations instead
import { config, inputF32, outputF32, Kind } from "../../../../sdk/assembly/index";

let base: f64 = -1;
let sink: u64 = 0;

export function on_audio_raw(): i32 {
  if (base < 0) {
    base = 0;
    const c = config();
    if (c !== null) {
      const v = c.get("kiloIters");
      if (v !== null && v.kind == Kind.Number) base = v.n;
    }
  }
  const s = inputF32();
  let k = base;
  if (s.length > 0 && unchecked(s[0]) >= 1000) k = <f64>unchecked(s[0]);
  const n = <u64>(k * 1000);
  for (let i: u64 = 0; i < n; i++) sink += i ^ (sink >> 3);
  for (let i = 0; i < s.length; i++) unchecked((s[i] = s[i] * 0.5));
  if (sink == 0xdeadbeef) s[1] = 0; // keeps the loop from being optimised away
  outputF32(s);
  return 0;
}
