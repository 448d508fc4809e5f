// Hostile audio guest: spends (first sample x 1,000,000) loop iterations before
// halving the frame; a negative first sample spins forever. Used to test the
// late-frame bypass, the overrun limit and the hard kill.
import { inputF32, outputF32 } from "../../../../sdk/assembly/index";

let sink: u64 = 0;

export function on_audio_raw(): i32 {
  const samples = inputF32();
  const spin = samples.length > 0 ? samples[0] : 0;
  if (spin < 0) {
    while (true) sink++;
  }
  const n = <u64>(spin * 1000000);
  for (let i: u64 = 0; i < n; i++) sink += i ^ (sink >> 3);
  for (let i = 0; i < samples.length; i++) samples[i] = samples[i] * 0.5;
  outputF32(samples);
  return 0;
}
