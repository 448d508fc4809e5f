// {{name}}: a Hearth chat bot (AssemblyScript, host API v1).
//   on_join   greets each user who joins a channel and counts their visits
//             in the plugin's storage (kept in the server's database).
//   /hello    answers "Hello, NAME!".
//
// Build:   npx hearth plugin build {{id}}
// Install: npx hearth plugin install {{id}}/manifest.json --grant-requested
// Reference: docs/PLUGINS.md (hooks, host functions, capabilities).
import { chatSend, commandEvent, done, kvGetInt, kvSetInt, presenceEvent, reply } from "hearth-sdk";

/** Called when a user enters a channel (needs the "state.read" capability). */
export function on_join(): i32 {
  const ev = presenceEvent();
  if (ev === null) {
    done();
    return 0;
  }
  // Storage ("storage" capability): a small key/value store per plugin.
  const key = "visits:" + ev.user.id.toString();
  const visits = kvGetInt(key, 0) + 1;
  kvSetInt(key, visits);
  const text = visits == 1 ? "Welcome, " + ev.user.name + "!" : "Welcome back, " + ev.user.name + "! Visit #" + visits.toString() + ".";
  // Post as the bot ("chat.inject" capability), in the channel the user joined.
  chatSend(text, ev.channelId);
  done();
  return 0;
}

/** Called for the commands listed in manifest.json ("commands"). */
export function on_command(): i32 {
  const ev = commandEvent();
  if (ev !== null && ev.command == "hello") reply("Hello, " + ev.user.name + "!");
  else done();
  return 0;
}
