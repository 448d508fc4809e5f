// layout-default: Hearth's default desktop layout, as a layout plugin (hook
// on_layout, capability ui.layout; docs/PLUGINS.md, "Layout plugins").
//
//   not connected   [certificate, when one is pending]
//                   connect form | errors           (stacked when narrow)
//   connected       connection bar
//                   [certificate, when one is pending]
//                   channels | chat | voice, user, statistics
//                   tabs: devices, plugins, errors
//   narrow (< 760 px) connection bar, voice, then one tab per section
//
// The tree only arranges widgets; each widget reads the live state itself.
import {
  column,
  LayoutInput,
  layoutInput,
  layoutTree,
  outputLayout,
  panel,
  row,
  tabs,
  text,
  Theme,
  widget,
} from "../../sdk/assembly/index";

/** Below this width (CSS px) the three columns become tabs. */
const NARROW: f64 = 760;

function certificate(): string {
  return panel("Server certificate", widget("certificate"));
}

function signedOut(li: LayoutInput, narrow: bool): string {
  const items = new Array<string>();
  if (li.certificatePending) items.push(certificate());
  items.push(text("Connect to a Hearth server: pick a saved server or enter its address, your name and password.", "body"));
  const connect = panel("Connect", widget("connect"));
  const errors = panel("Problems", widget("errors"));
  if (narrow) {
    items.push(connect);
    items.push(errors);
  } else {
    items.push(row([connect, errors], [2, 1], 16));
  }
  return column(items, null, 12);
}

function inSession(li: LayoutInput, narrow: bool): string {
  const userTitle = li.isModerator ? "User and moderation" : "User";
  const items = new Array<string>();
  items.push(widget("connection"));
  if (li.certificatePending) items.push(certificate());
  if (li.status == "reconnecting") items.push(text("Connection lost: reconnecting…", "notice"));
  if (narrow) {
    items.push(panel("Voice", widget("voice", true)));
    items.push(
      tabs(
        "Sections",
        ["Channels", "Chat", userTitle, "Devices", "Plugins", "Statistics", "Errors"],
        [widget("channels"), widget("chat"), widget("users"), widget("devices"), widget("plugins"), widget("stats"), widget("errors")],
      ),
    );
  } else {
    const side = column([panel("Voice", widget("voice")), panel(userTitle, widget("users")), panel("Statistics", widget("stats", true))], null, 12);
    items.push(row([panel("Channels", widget("channels")), panel("Chat", widget("chat")), side], [1, 2, 1], 12));
    items.push(tabs("Settings", ["Devices", "Plugins", "Errors"], [widget("devices"), widget("plugins"), widget("errors")]));
  }
  return column(items, null, 12);
}

export function on_layout(): i32 {
  let li = layoutInput();
  if (li === null) li = new LayoutInput();
  const narrow = li.width < NARROW;
  const root = li.inSession ? inSession(li, narrow) : signedOut(li, narrow);
  // The server's name in the title, unless it is just "Hearth" (the default name).
  const title = li.serverName.length > 0 && li.serverName != "Hearth" && li.inSession ? "Hearth: " + li.serverName : "Hearth";
  outputLayout(layoutTree(root, title, new Theme(1, "normal", "normal")));
  return 0;
}
