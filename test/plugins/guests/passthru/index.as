// The cheapest possible audio guest: answers its input block unchanged,
// without copying it (SDK passThrough). bench/audio-chain uses it to measure
// the host's own cost per guest call.
import { passThrough } from "../../../../sdk/assembly/index";

export function on_audio_raw(): i32 {
  passThrough();
  return 0;
}
