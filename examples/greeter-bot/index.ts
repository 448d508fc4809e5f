// greeter-bot: the bot you get by following examples/greeter-bot/README.md —
// `hearth plugin new` with --kind bot, then two edits:
//   1. the greeting names the channel (read from the server state), and
//   2. a new command, /coin, flips a coin.
//
//   on_join   greets each user who joins a channel and counts their visits in
//             the plugin's storage (the server keeps it in its database, so
//             the count survives restarts).
//   /hello    answers "Hello, NAME!".
//   /coin     "NAME flips a coin: heads" (or tails).
import { chatSend, commandEvent, done, kvGetInt, kvSetInt, presenceEvent, readState, reply, Rng } from "hearth-sdk";

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
  // Edit 1: the channel's name, from the server state ("state.read").
  const state = readState();
  const channel = state === null ? "the server" : state.channelName(ev.channelId);
  const text =
    visits == 1
      ? "Welcome to " + channel + ", " + ev.user.name + "!"
      : "Welcome back to " + channel + ", " + ev.user.name + "! Visit #" + visits.toString() + ".";
  // Post as the bot ("chat.inject" capability), in the channel the user joined.
  chatSend(text, ev.channelId);
  done();
  return 0;
}

/** Called for the commands listed in manifest.json ("commands"). */
export function on_command(): i32 {
  const ev = commandEvent();
  if (ev === null) {
    done();
    return 0;
  }
  if (ev.command == "hello") {
    reply("Hello, " + ev.user.name + "!");
  } else if (ev.command == "coin") {
    // Edit 2. Plugins have no clock and no randomness of their own: seed a
    // generator from what the host passes in (the event's time and user id).
    const rng = Rng.fromEvent(ev.ts, ev.user.id, "coin");
    reply(ev.user.name + " flips a coin: " + (rng.int(0, 1) == 0 ? "heads" : "tails"));
  } else {
    done();
  }
  return 0;
}
