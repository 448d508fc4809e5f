// Stateful audio test guest: proves a guest keeps its state for the whole
// life of the chain thread (Extism's reset() must not wipe it).
//   sample 0 = its call count (mod 2^24, exact in f32), kept in a global
//   sample 1 = the count it wrote into linear memory (a heap ring of 256
//              slots) 255 calls ago: count - 255 once count > 255, so a lost
//              heap shows as a jump
// Other samples pass through. It reads into a buffer allocated once (no
// per-frame allocation).
import { inputF32Into, outputF32 } from "../../../../sdk/assembly/index";

const frame = new Float32Array(960);
const ring = new Uint32Array(256);
let count: u32 = 0;

export function on_audio_raw(): i32 {
  const n = inputF32Into(frame);
  count++;
  unchecked((ring[count & 255] = count));
  unchecked((frame[0] = <f32>(count & 0xffffff)));
  unchecked((frame[1] = <f32>(unchecked(ring[(count + 1) & 255]) & 0xffffff)));
  outputF32(n == 960 ? frame : frame.subarray(0, n));
  return 0;
}
