// Hostile guest for the host-call checks (test/plugins/hostile-*.test.ts):
//   on_command "call"     args "<fn> <json>": sends any request to a host function, replies with its reply
//   on_command "kvflood"  args "N": stores a 60 KB value, then asks hearth_kv_get for it N times
//                         in this one call without ever freeing a reply (host memory the guest never pays for)
//   on_command "errbig"   args "N": fails with an N-byte error_set message
//   on_command "logs"     args "N": N log lines through hearth_log
import { commandEvent, outputString, rawCall, ObjectWriter } from "../../../../sdk/assembly/index";
import * as env from "../../../../sdk/assembly/env";

function allocString(s: string): u64 {
  const bytes = Uint8Array.wrap(String.UTF8.encode(s));
  const offset = env.alloc(<u64>bytes.length);
  for (let i = 0; i < bytes.length; i++) env.store_u8(offset + <u64>i, bytes[i]);
  return offset;
}

function replyWith(text: string): i32 {
  outputString(new ObjectWriter().str("reply", text).done());
  return 0;
}

export function on_command(): i32 {
  const ev = commandEvent();
  if (ev === null) return replyWith("no event");
  const args = ev.args;
  if (ev.command == "call") {
    const space = args.indexOf(" ");
    return replyWith(rawCall(args.substring(0, space), args.substring(space + 1)));
  }
  if (ev.command == "kvflood") {
    const n = I32.parseInt(args);
    const set = rawCall("kv_set", '{"key":"big","value":"' + "x".repeat(60000) + '"}');
    const req = allocString('{"key":"big"}');
    let total: u64 = 0;
    for (let i = 0; i < n; i++) total += env.length(env.hearth_kv_get(req));
    return replyWith("survived " + n.toString() + " reads of " + total.toString() + " bytes; kv_set said " + set);
  }
  if (ev.command == "errbig") {
    env.error_set(allocString("e".repeat(I32.parseInt(args))));
    return 1;
  }
  if (ev.command == "logs") {
    const n = I32.parseInt(args);
    for (let i = 0; i < n; i++) rawCall("log", '{"level":"warn","msg":"line ' + i.toString() + '"}');
    return replyWith("logged");
  }
  return replyWith("unknown command");
}
