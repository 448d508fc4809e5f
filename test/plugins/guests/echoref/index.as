// Echo-canceller slot test guest (on_aec_raw): answers mic - reference, so a
// test can check that the reference arrives with the mic frame it belongs to,
// sample for sample.
import { inputAec, outputF32 } from "../../../../sdk/assembly/index";

export function on_aec_raw(): i32 {
  const f = inputAec();
  const mic = f.mic;
  const ref = f.reference;
  for (let i = 0; i < mic.length; i++) unchecked((mic[i] = mic[i] - ref[i]));
  outputF32(mic);
  return 0;
}
