// Hostile guest: allocates without bound.
//   on_chat              grows its own heap 1 MiB at a time, forever (AssemblyScript's
//                        allocator traps when memory.grow fails at the host's cap)
//   on_command "grow"    asks memory.grow for `args` pages and reports the answer
//   on_command "hostalloc" allocates 1 MiB host-side blocks (Extism alloc) forever
import { inputJSON, outputString, ObjectWriter } from "../../../../sdk/assembly/index";
import { alloc } from "../../../../sdk/assembly/env";

const hoard = new Array<Uint8Array>();

export function on_chat(): i32 {
  while (true) {
    const chunk = new Uint8Array(1 << 20);
    chunk[0] = 1;
    hoard.push(chunk);
  }
  outputString('{"action":"allow"}');
  return 0;
}

export function on_command(): i32 {
  const cmd = inputJSON();
  if (cmd === null) {
    outputString("{}");
    return 0;
  }
  const name = cmd.getString("command");
  if (name == "grow") {
    const want = I32.parseInt(cmd.getString("args", "1"));
    const before = memory.size();
    const result = memory.grow(want);
    const reply = new ObjectWriter().num("before", before).num("result", result).num("after", memory.size()).done();
    outputString(new ObjectWriter().str("reply", reply).done());
    return 0;
  }
  if (name == "hostalloc") {
    let n = 0;
    while (true) {
      const offset = alloc(1 << 20);
      if (offset == 0) break;
      n++;
    }
    outputString(new ObjectWriter().str("reply", "allocated " + n.toString() + " MiB").done());
    return 0;
  }
  outputString("{}");
  return 0;
}
