// Hostile guest: traps.
//   on_chat     throws (AssemblyScript abort -> the SDK reports "boom" and traps)
//   on_timer    executes `unreachable`
//   on_command  reads far outside its linear memory
import { outputString } from "../../../../sdk/assembly/index";

export function on_chat(): i32 {
  throw new Error("boom");
}

export function on_timer(): i32 {
  unreachable();
  return 0;
}

export function on_command(): i32 {
  const v = load<u8>(0xfffffff0);
  outputString('{"reply":"' + v.toString() + '"}');
  return 0;
}
