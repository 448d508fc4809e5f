// Hostile guest: tries an HTTP request through Extism's http_request to the
// URL given as the command's args, and reports what came back.
import { inputJSON, outputString, ObjectWriter } from "../../../../sdk/assembly/index";
import { alloc, length, load_u8, store_u8 } from "../../../../sdk/assembly/env";

@external("extism:host/env", "http_request")
declare function http_request(req: u64, body: u64): u64;
@external("extism:host/env", "http_status_code")
declare function http_status_code(): i32;

function put(s: string): u64 {
  const bytes = Uint8Array.wrap(String.UTF8.encode(s));
  const offset = alloc(bytes.length);
  for (let i = 0; i < bytes.length; i++) store_u8(offset + i, bytes[i]);
  return offset;
}

export function on_command(): i32 {
  const cmd = inputJSON();
  const url = cmd === null ? "http://127.0.0.1:9/" : cmd.getString("args");
  const req = new ObjectWriter().str("url", url).str("method", "GET").done();
  const res = http_request(put(req), 0);
  let body = "";
  if (res != 0) {
    const n = <i32>length(res);
    const bytes = new Uint8Array(n);
    for (let i = 0; i < n; i++) bytes[i] = load_u8(res + i);
    body = String.UTF8.decode(bytes.buffer);
  }
  const status = http_status_code();
  const reply = new ObjectWriter().num("offset", <f64>res).num("status", status).str("body", body).done();
  outputString(new ObjectWriter().str("reply", reply).done());
  return 0;
}
