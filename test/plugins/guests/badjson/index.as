// Hostile guest: answers with output that is not what the hook promises.
//   on_chat     not JSON at all
//   on_command  JSON of the wrong shape ({"reply": 42})
import { outputString } from "../../../../sdk/assembly/index";

export function on_chat(): i32 {
  outputString('{"action": "allow", oops');
  return 0;
}

export function on_command(): i32 {
  outputString('{"reply": 42}');
  return 0;
}
