// Chat test guest for fail-open / fail-closed filtering and command leaks
// (test/plugins/moderation-load.test.ts). Guests have no clock, so "slow" is
// given as work, not time:
//   on_chat     text containing "#hang" loops forever (only killMs stops it);
//               text containing "#block" is blocked; anything else allowed.
//   on_command  /secret ARGS: loops forever when ARGS contain "hang", else
//               replies "ok".
import { allow, block, chatEvent, commandEvent, reply } from "../../../../sdk/assembly/index";

let spins: u64 = 0;

export function on_chat(): i32 {
  const ev = chatEvent();
  if (ev !== null && ev.text.includes("#hang")) {
    while (true) spins++;
  }
  if (ev !== null && ev.text.includes("#block")) block("blocked by slowchat");
  else allow();
  return 0;
}

export function on_command(): i32 {
  const ev = commandEvent();
  if (ev !== null && ev.args.includes("hang")) {
    while (true) spins++;
  }
  reply("ok");
  return 0;
}
