// Faulty audio test guest: doubles the frame, except
//   sample 0 == 777    answers 100 bytes instead of 3840 (wrong length)
//   sample 0 == 666    traps (unreachable)
import { inputF32, output, outputF32 } from "../../../../sdk/assembly/index";

export function on_audio_raw(): i32 {
  const s = inputF32();
  const first = s.length > 0 ? unchecked(s[0]) : 0;
  if (first == 777) {
    output(new Uint8Array(100));
    return 0;
  }
  if (first == 666) unreachable();
  for (let i = 0; i < s.length; i++) unchecked((s[i] = s[i] * 2));
  outputF32(s);
  return 0;
}
