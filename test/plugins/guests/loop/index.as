// Hostile guest: every hook loops forever (must be stopped by the per-call time limit).
import { outputString } from "../../../../sdk/assembly/index";

let spins: u64 = 0;

function forever(): void {
  while (true) spins++;
}

export function on_chat(): i32 {
  forever();
  outputString('{"action":"allow"}');
  return 0;
}

export function on_timer(): i32 {
  forever();
  return 0;
}
