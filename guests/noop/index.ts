// noop: the smallest useful Hearth plugin. It answers every hook without doing
// anything, so the host's per-call overhead can be measured against it, and it
// replies "pong" to the command "ping" (tests use it as the healthy neighbour
// of a misbehaving plugin).
import { inputJSON, outputString, ObjectWriter } from "../../sdk/assembly/index";

/** on_timer: a true no-op (does not even read its input). */
export function on_timer(): i32 {
  return 0;
}

/** on_chat: parses the message and lets it through unchanged. */
export function on_chat(): i32 {
  const msg = inputJSON();
  if (msg === null) {
    outputString('{"action":"allow"}');
    return 0;
  }
  outputString('{"action":"allow"}');
  return 0;
}

/** on_command: "ping" -> "pong", "echo" -> the args, anything else -> no reply. */
export function on_command(): i32 {
  const cmd = inputJSON();
  if (cmd === null) {
    outputString("{}");
    return 0;
  }
  const name = cmd.getString("command");
  if (name == "ping") outputString(new ObjectWriter().str("reply", "pong").done());
  else if (name == "echo") outputString(new ObjectWriter().str("reply", cmd.getString("args")).done());
  else outputString("{}");
  return 0;
}
