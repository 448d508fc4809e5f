// {{name}}: a Hearth chat bot (JavaScript, host API v1; sdk/js/hearth.js).
//   on_join   greets each user who joins a channel and counts their visits
//             in the plugin's storage (kept in the server's database).
//   /hello    answers "Hello, NAME!".
//
// Build:   npx hearth plugin build {{id}}   (clang, wasi-libc: scripts/ensure-toolchains.sh)
// Install: npx hearth plugin install {{id}}/manifest.json --grant-requested
// Reference: docs/PLUGINS.md (hooks, host functions, the JavaScript SDK).
//
// Hooks are top-level function declarations named like the hook; each gets
// the hook's input (parsed JSON) and answers by calling reply()/done()/... or
// by returning the answer. The engine is QuickJS (ES2020): no clock (use
// ev.ts), no timers, no files, no network.
const { chatSend, kvGetInt, kvSetInt, reply, done } = Hearth;

/** Called when a user enters a channel (needs the "state.read" capability). */
function on_join(ev) {
  // Storage ("storage" capability): a small key/value store per plugin.
  const key = `visits:${ev.user.id}`;
  const visits = kvGetInt(key, 0) + 1;
  kvSetInt(key, visits);
  const text = visits === 1 ? `Welcome, ${ev.user.name}!` : `Welcome back, ${ev.user.name}! Visit #${visits}.`;
  // Post as the bot ("chat.inject" capability), in the channel the user joined.
  chatSend(text, ev.channelId);
  done();
}

/** Called for the commands listed in manifest.json ("commands"). */
function on_command(ev) {
  if (ev.command === 'hello') reply(`Hello, ${ev.user.name}!`);
  else done();
}
