// {{name}}: a Hearth layout plugin (AssemblyScript, host API v1).
//
// The desktop client asks a layout plugin how to arrange its window: hook
// on_layout (capability ui.layout) gets a summary of the client state
//   {"status":"connected","role":"member","certificatePending":false,
//    "serverName":"Den","viewport":{"width":1280,"height":800},
//    "users":3,"channels":4,"errors":0}
// and answers a tree of known components:
//   {"version":1,"title":"…","theme":{"scale":1,"density":"normal","contrast":"normal"},
//    "root":{"kind":"column","children":[{"kind":"widget","widget":"connection"}, …]}}
// Nodes: row / column (children, weights, gap), tabs (label, tabs[{label, child}]),
// panel (title, child), text (text, style heading|body|notice) and widget
// (connect, certificate, connection, channels, chat, voice, devices, users,
// plugins, errors, stats; dense). Widgets draw the live state themselves: the
// tree is asked again only when status, role, certificate or viewport change.
// A tree the UI cannot use (or a slow or failing plugin) makes the UI fall
// back to its built-in layout, with a notice: it never goes blank.
//
// This template: the connect form when signed out (the certificate prompt on
// top when one is pending); when connected, channels and chat side by side
// with voice controls above, and the rest in tabs; one column below 700 px.
//
// Build:   npx hearth plugin build {{id}}
// Use:     npx hearth client --layout {{id}}/manifest.json
// Reference: docs/PLUGINS.md, "Layout plugins".
import { column, LayoutInput, layoutInput, layoutTree, outputLayout, panel, row, tabs, Theme, widget } from "hearth-sdk";

function build(li: LayoutInput): string {
  const items = new Array<string>();
  if (!li.inSession) {
    if (li.certificatePending) items.push(panel("Server certificate", widget("certificate")));
    items.push(panel("Connect", widget("connect")));
    items.push(widget("errors"));
    return column(items);
  }
  items.push(widget("connection", true));
  if (li.certificatePending) items.push(widget("certificate"));
  items.push(widget("voice"));
  if (li.width < 700) {
    items.push(tabs("Sections", ["Channels", "Chat"], [widget("channels"), widget("chat")]));
  } else {
    items.push(row([panel("Channels", widget("channels")), panel("Chat", widget("chat"))], [1, 2]));
  }
  items.push(tabs("More", ["User", "Devices", "Plugins", "Statistics", "Errors"], [widget("users"), widget("devices"), widget("plugins"), widget("stats"), widget("errors")]));
  return column(items);
}

export function on_layout(): i32 {
  let li = layoutInput(); // null when the input is not a JSON object
  if (li === null) li = new LayoutInput();
  outputLayout(layoutTree(build(li), "{{name}}", new Theme(1, "normal", "normal")));
  return 0;
}
