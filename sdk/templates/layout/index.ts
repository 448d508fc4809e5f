// {{name}}: a Hearth layout plugin (AssemblyScript, host API v1).
//   /tree   shows the channel tree with who is in each channel, indented:
//             Lobby: ann, cy
//               Games: bob (muted)
//               Quiet
// Host API v1 has no UI-layout hook yet: a layout plugin reads the server
// state ("state.read": channels with their parents, users with their
// channels) and renders a view of it, here as text for a chat command.
//
// Build:   npx hearth plugin build {{id}}
// Install: npx hearth plugin install {{id}}/manifest.json --grant-requested
// Reference: docs/PLUGINS.md.
import { commandEvent, done, readState, reply, State } from "hearth-sdk";

/** Deepest nesting shown (the host's channel tree is bounded too). */
const MAX_DEPTH = 16;

function render(st: State, parentId: i32, depth: i32, out: Array<string>): void {
  if (depth >= MAX_DEPTH) return;
  for (let i = 0; i < st.channels.length; i++) {
    const c = st.channels[i];
    if (c.parentId != parentId || c.id == parentId) continue;
    const users = st.usersIn(c.id);
    let line = "  ".repeat(depth) + c.name;
    if (users.length > 0) {
      const names = new Array<string>();
      for (let j = 0; j < users.length; j++) names.push(users[j].muted ? users[j].name + " (muted)" : users[j].name);
      line += ": " + names.join(", ");
    }
    out.push(line);
    render(st, c.id, depth + 1, out);
  }
}

export function on_command(): i32 {
  const ev = commandEvent();
  if (ev === null || ev.command != "tree") {
    done();
    return 0;
  }
  const st = readState();
  if (st === null) {
    reply("I cannot see the channels (the state.read capability was not granted).");
    return 0;
  }
  const lines = new Array<string>();
  render(st, -1, 0, lines); // root channels have no parent (-1)
  reply(lines.length == 0 ? "No channels." : lines.join("\n"));
  return 0;
}
