// {{name}}: a Hearth chat filter (AssemblyScript, host API v1).
//   on_chat   blocks messages that contain a word from the config ("words"),
//             counts strikes per user in storage, and mutes a user at
//             "muteAfter" strikes (0: never).
//
// Build:   npx hearth plugin build {{id}}
// Install: npx hearth plugin install {{id}}/manifest.json --grant-requested
// Reference: docs/PLUGINS.md. A complete filter (masking, flood limit, kick):
// guests/wordfilter in the Hearth sources.
import { allow, block, chatEvent, config, Kind, kvGetInt, kvSetInt, log, moderate } from "hearth-sdk";

let loaded = false;
const words = new Array<string>();
let muteAfter: i64 = 3;

/** Reads the config once ("config.read" capability): defaults in manifest.json, overlaid by the admin's values. */
function configure(): void {
  if (loaded) return;
  loaded = true;
  const cfg = config();
  if (cfg === null) return;
  const list = cfg.get("words");
  if (list !== null && list.kind == Kind.Array) {
    for (let i = 0; i < list.items.length; i++) {
      const w = list.items[i];
      if (w.kind == Kind.String && w.s.length > 0) words.push(w.s.toLowerCase());
    }
  }
  muteAfter = <i64>cfg.getNumber("muteAfter", <f64>muteAfter);
}

/** Every chat message passes here ("chat.intercept"): answer allow(), block(reason) or rewrite(text). */
export function on_chat(): i32 {
  configure();
  const ev = chatEvent();
  if (ev === null) {
    allow();
    return 0;
  }
  const text = ev.text.toLowerCase();
  for (let i = 0; i < words.length; i++) {
    if (!text.includes(words[i])) continue;
    const key = "strikes:" + ev.user.id.toString();
    const strikes = kvGetInt(key, 0) + 1;
    kvSetInt(key, strikes);
    if (muteAfter > 0 && strikes == muteAfter) {
      // "moderation" capability: the server carries the mute out after this call.
      moderate("mute", ev.user.id, strikes.toString() + " filtered messages");
      log("info", "muted user " + ev.user.id.toString());
    }
    block("message contains a filtered word");
    return 0;
  }
  allow();
  return 0;
}
