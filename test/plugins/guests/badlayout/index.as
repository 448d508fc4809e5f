// Hostile layout guest (hook on_layout). What it does depends on the
// LayoutInput it is given, so one guest covers every way a layout can fail:
//   serverName "garbage"  answers text that is not JSON
//   serverName "badtree"  answers JSON that breaks the LayoutTree schema
//   serverName "loop"     loops forever (killed at killMs)
//   serverName "trap"     throws (traps)
//   serverName "slow"     its first call with this name spins far past callMs, later calls answer at once
//   anything else         a valid tree: one chat widget, titled "badlayout <status>"
import { inputJSON, outputString } from "../../../../sdk/assembly/index";

let calls: i32 = 0;
let slowDone = false;
let sink: u64 = 0;

export function on_layout(): i32 {
  calls++;
  const input = inputJSON();
  const name = input === null ? "" : input.getString("serverName");
  const status = input === null ? "" : input.getString("status");
  if (name == "garbage") {
    outputString("<html>not a layout");
    return 0;
  }
  if (name == "badtree") {
    outputString('{"version":1,"root":{"kind":"widget","widget":"rm -rf"}}');
    return 0;
  }
  if (name == "loop") {
    while (true) sink++;
  }
  if (name == "trap") throw new Error("layout exploded");
  if (name == "slow" && !slowDone) {
    slowDone = true;
    for (let i: u64 = 0; i < 1000000000; i++) sink += i ^ (sink >> 3);
  }
  outputString('{"version":1,"title":"badlayout ' + status + '","root":{"kind":"column","children":[{"kind":"widget","widget":"chat"}]}}');
  return 0;
}
