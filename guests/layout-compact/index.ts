// layout-compact: a second layout plugin (hook on_layout, capability
// ui.layout) that shows the same widgets in one dense column, without panel
// frames, at a smaller scale: for a small window kept beside other work.
//
//   not connected   [certificate], connect, errors
//   connected       connection bar, [certificate], voice, channels, chat,
//                   tabs "More": user, devices, plugins, statistics, errors
import { column, LayoutInput, layoutInput, layoutTree, outputLayout, tabs, text, Theme, widget } from "../../sdk/assembly/index";

export function on_layout(): i32 {
  let li = layoutInput();
  if (li === null) li = new LayoutInput();
  const items = new Array<string>();
  if (li.inSession) {
    items.push(widget("connection", true));
    if (li.certificatePending) items.push(widget("certificate"));
    if (li.status == "reconnecting") items.push(text("Reconnecting…", "notice"));
    items.push(widget("voice", true));
    items.push(widget("channels", true));
    items.push(widget("chat", true));
    items.push(
      tabs(
        "More",
        [li.isModerator ? "User and moderation" : "User", "Devices", "Plugins", "Statistics", "Errors"],
        [widget("users", true), widget("devices", true), widget("plugins", true), widget("stats", true), widget("errors", true)],
      ),
    );
  } else {
    if (li.certificatePending) items.push(widget("certificate"));
    items.push(text("Compact layout", "heading"));
    items.push(widget("connect", true));
    items.push(widget("errors", true));
  }
  outputLayout(layoutTree(column(items, null, 4), "Hearth (compact)", new Theme(0.9, "compact", "normal")));
  return 0;
}
