// Audio test guest that loops forever in its start function (while being
// instantiated, before any frame): the chain thread's start-up must time
// out, blame it and start without it.
import { inputF32, outputF32 } from "../../../../sdk/assembly/index";

let spins: u64 = 0;
while (true) spins++;

export function on_audio_raw(): i32 {
  outputF32(inputF32());
  return 0;
}
