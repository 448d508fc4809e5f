// Kill test guest: passes the frame through, except that a frame whose
// sample 0 is <= -1000 makes it loop forever (only terminating its thread
// stops it).
import { inputF32, outputF32 } from "../../../../sdk/assembly/index";

let spins: u64 = 0;

export function on_audio_raw(): i32 {
  const s = inputF32();
  if (s.length > 0 && unchecked(s[0]) <= -1000) {
    while (true) spins++;
  }
  outputF32(s);
  return 0;
}
