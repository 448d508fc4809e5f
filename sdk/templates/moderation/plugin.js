// {{name}}: a Hearth chat filter (JavaScript, host API v1; sdk/js/hearth.js).
//   on_chat   blocks messages that contain a word from the config ("words"),
//             counts strikes per user in storage, and mutes a user at
//             "muteAfter" strikes (0: never).
//
// Build:   npx hearth plugin build {{id}}   (clang, wasi-libc: scripts/ensure-toolchains.sh)
// Install: npx hearth plugin install {{id}}/manifest.json --grant-requested
// Reference: docs/PLUGINS.md. A complete filter: guests/wordfilter in the Hearth sources.
const { allow, block, config, kvGetInt, kvSetInt, log, moderate } = Hearth;

// Module state survives between calls (one engine per plugin instance).
let words = null;
let muteAfter = 3;

/** Reads the config once ("config.read" capability): defaults in manifest.json, overlaid by the admin's values. */
function configure() {
  if (words !== null) return;
  const cfg = config() || {};
  words = (cfg.words || []).filter((w) => typeof w === 'string' && w.length > 0).map((w) => w.toLowerCase());
  if (typeof cfg.muteAfter === 'number') muteAfter = cfg.muteAfter;
}

/** Every chat message passes here ("chat.intercept"): answer allow(), block(reason) or rewrite(text). */
function on_chat(ev) {
  configure();
  const text = ev.text.toLowerCase();
  if (!words.some((w) => text.includes(w))) return allow();
  const key = `strikes:${ev.user.id}`;
  const strikes = kvGetInt(key, 0) + 1;
  kvSetInt(key, strikes);
  if (muteAfter > 0 && strikes === muteAfter) {
    // "moderation" capability: the server carries the mute out after this call.
    moderate('mute', ev.user.id, `${strikes} filtered messages`);
    log('info', `muted user ${ev.user.id}`);
  }
  block('message contains a filtered word');
}
