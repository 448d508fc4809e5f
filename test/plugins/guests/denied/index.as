// Hostile guest: calls every host function, granted or not, and reports the
// host's replies: {"reply": "[<reply of state_read>, <chat_send>, ...]"}.
import { rawCall, outputString, ObjectWriter } from "../../../../sdk/assembly/index";

export function on_command(): i32 {
  const replies = [
    rawCall("state_read", "{}"),
    rawCall("chat_send", '{"text":"spam"}'),
    rawCall("kv_set", '{"key":"k","value":"v"}'),
    rawCall("kv_get", '{"key":"k"}'),
    rawCall("moderate", '{"action":"kick","userId":1,"reason":"because"}'),
    rawCall("config_get", "{}"),
    rawCall("log", '{"level":"info","msg":"hello from denied"}'),
  ];
  outputString(new ObjectWriter().str("reply", "[" + replies.join(",") + "]").done());
  return 0;
}
