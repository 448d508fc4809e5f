// Hostile guest: loops forever while the module is being instantiated (its start
// function), before any hook is called. Loading it must time out, not hang the host.
import { outputString } from "../../../../sdk/assembly/index";

let spins: u64 = 0;
while (true) spins++;

export function on_chat(): i32 {
  outputString('{"action":"allow"}');
  return 0;
}
