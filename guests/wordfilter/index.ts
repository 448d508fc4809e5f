// wordfilter: a chat moderation bot.
//   on_chat     masks (mode "rewrite") or blocks (mode "block") messages that
//               contain one of the configured words, and counts them in storage.
//   on_join     greets the user in their channel and says how many are online.
//   on_command  "filterstats" replies with the number of filtered messages.
// Config: {"words": ["..."], "mode": "rewrite" | "block", "greet": true}.
import {
  chatSend,
  config,
  inputJSON,
  kvGet,
  kvSet,
  log,
  ObjectWriter,
  outputString,
  Parser,
  stateRead,
  Kind,
} from "../../sdk/assembly/index";

let words: Array<string> = new Array<string>();
let mode = "rewrite";
let greet = true;
let configured = false;

function configure(): void {
  if (configured) return;
  configured = true;
  const cfg = config();
  if (cfg === null) return;
  const list = cfg.get("words");
  if (list !== null && list.kind == Kind.Array) {
    for (let i = 0; i < list.items.length; i++) {
      const w = list.items[i];
      if (w.kind == Kind.String && w.s.length > 0) words.push(w.s.toLowerCase());
    }
  }
  mode = cfg.getString("mode", "rewrite");
  greet = cfg.getBool("greet", true);
}

function mask(text: string): string {
  let lower = text.toLowerCase();
  let out = text;
  for (let i = 0; i < words.length; i++) {
    const w = words[i];
    let at = lower.indexOf(w);
    while (at >= 0) {
      out = out.substring(0, at) + "*".repeat(w.length) + out.substring(at + w.length);
      lower = lower.substring(0, at) + "*".repeat(w.length) + lower.substring(at + w.length);
      at = lower.indexOf(w, at + w.length);
    }
  }
  return out;
}

function bumpCounter(): i32 {
  const current = kvGet("filtered");
  let n: i32 = 0;
  if (current !== null) n = I32.parseInt(current);
  n++;
  kvSet("filtered", n.toString());
  return n;
}

export function on_chat(): i32 {
  configure();
  const msg = inputJSON();
  if (msg === null) {
    outputString('{"action":"allow"}');
    return 0;
  }
  const text = msg.getString("text");
  const masked = mask(text);
  if (masked == text) {
    outputString('{"action":"allow"}');
    return 0;
  }
  const n = bumpCounter();
  log("info", "filtered message #" + n.toString());
  if (mode == "block") {
    outputString(new ObjectWriter().str("action", "block").str("reason", "message contains a filtered word").done());
  } else {
    outputString(new ObjectWriter().str("action", "rewrite").str("text", masked).done());
  }
  return 0;
}

export function on_join(): i32 {
  configure();
  const ev = inputJSON();
  if (ev === null || !greet) {
    outputString("{}");
    return 0;
  }
  const user = ev.get("user");
  const name = user === null ? "someone" : user.getString("name", "someone");
  const channelId = <i32>ev.getNumber("channelId", -1);
  let online: i32 = 0;
  const state = Parser.parse(stateRead());
  if (state !== null) {
    const users = state.get("users");
    if (users !== null && users.kind == Kind.Array) online = users.items.length;
  }
  chatSend("Welcome, " + name + "! " + online.toString() + " online.", channelId);
  outputString("{}");
  return 0;
}

export function on_command(): i32 {
  const cmd = inputJSON();
  if (cmd === null || cmd.getString("command") != "filterstats") {
    outputString("{}");
    return 0;
  }
  const current = kvGet("filtered");
  const n = current === null ? "0" : current;
  outputString(new ObjectWriter().str("reply", n + " messages filtered").done());
  return 0;
}
