// Hostile guest: its start function (run while the module is instantiated)
// fills its storage quota (limits.storageKiB 65536) with 60 KB values, which
// the sandbox thread keeps in its JS heap: the thread runs out of heap and
// dies before the plugin ever loads. The server must mark it faulty and not
// load it again until the admin re-enables it.
import { rawCall, outputString } from "../../../../sdk/assembly/index";

const value = "v".repeat(60000);
for (let i = 0; i < 2000; i++) rawCall("kv_set", '{"key":"k' + i.toString() + '","value":"' + value + '"}');

export function on_command(): i32 {
  outputString('{"reply":"loaded"}');
  return 0;
}
