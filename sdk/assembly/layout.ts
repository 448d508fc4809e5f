// Layout plugins (hook on_layout, capability ui.layout; docs/PLUGINS.md,
// "Layout plugins"). The host passes the coarse state a layout depends on
// (LayoutInput) and expects a LayoutTree: {"version":1,"title"?,"theme"?,"root"}
// whose nodes are rows, columns, tabs, panels, text and the known widgets
// (host/client/ui/components.ts). The tree only arranges: widgets read the
// live state themselves, so on_layout runs when the status, the role, a
// pending certificate or the viewport changes, not per snapshot.
//
// The builders below return JSON fragments (strings) so that a layout is
// written as nested calls:
//   outputLayout(tree(column([widget("connection"), row([widget("channels"), widget("chat")], [1, 2])]), "Hearth"));
import { Kind, quote, formatNumber } from "./json";
import { inputJSON, outputString } from "./index";

/** on_layout input: {"status","role","certificatePending","serverName","viewport":{width,height},"users","channels","errors"} */
export class LayoutInput {
  /** "disconnected" | "connecting" | "connected" | "reconnecting" | "failed" */
  status: string = "disconnected";
  /** "guest" | "member" | "moderator" | "admin", or "" when not connected. */
  role: string = "";
  certificatePending: bool = false;
  /** "" when unknown. */
  serverName: string = "";
  width: f64 = 1024;
  height: f64 = 768;
  users: i32 = 0;
  channels: i32 = 0;
  errors: i32 = 0;

  /** Connected, or connected before and trying again (the session's widgets make sense). */
  get inSession(): bool {
    return this.status == "connected" || this.status == "reconnecting";
  }
  get isModerator(): bool {
    return this.role == "moderator" || this.role == "admin";
  }
}

/** The on_layout input, or null when it is not a JSON object. */
export function layoutInput(): LayoutInput | null {
  const v = inputJSON();
  if (v === null || v.kind != Kind.Object) return null;
  const li = new LayoutInput();
  li.status = v.getString("status", "disconnected");
  li.role = v.getString("role", "");
  li.certificatePending = v.getBool("certificatePending", false);
  li.serverName = v.getString("serverName", "");
  const vp = v.get("viewport");
  if (vp !== null && vp.kind == Kind.Object) {
    li.width = vp.getNumber("width", 1024);
    li.height = vp.getNumber("height", 768);
  }
  li.users = <i32>v.getNumber("users", 0);
  li.channels = <i32>v.getNumber("channels", 0);
  li.errors = <i32>v.getNumber("errors", 0);
  return li;
}

// ---- nodes (each returns the node's JSON) ---------------------------------------

function list(items: Array<string>): string {
  return "[" + items.join(",") + "]";
}

function numbers(ns: Array<f64>): string {
  const parts = new Array<string>(ns.length);
  for (let i = 0; i < ns.length; i++) parts[i] = formatNumber(ns[i]);
  return list(parts);
}

/**
 * A known widget: "connect", "certificate", "connection", "channels", "chat",
 * "voice", "devices", "users", "plugins", "errors", "stats". An unknown name
 * makes the whole tree invalid (the UI falls back to its built-in layout).
 */
export function widget(name: string, dense: bool = false): string {
  return '{"kind":"widget","widget":' + quote(name) + (dense ? ',"dense":true' : "") + "}";
}

function flex(kind: string, children: Array<string>, weights: Array<f64> | null, gap: f64): string {
  let out = '{"kind":"' + kind + '","children":' + list(children);
  if (weights !== null) out += ',"weights":' + numbers(weights);
  if (gap >= 0) out += ',"gap":' + formatNumber(gap);
  return out + "}";
}

/** Children side by side; `weights` (positive, one per child) share the width. 1-16 children. */
export function row(children: Array<string>, weights: Array<f64> | null = null, gap: f64 = -1): string {
  return flex("row", children, weights, gap);
}

/** Children stacked top to bottom. 1-16 children. */
export function column(children: Array<string>, weights: Array<f64> | null = null, gap: f64 = -1): string {
  return flex("column", children, weights, gap);
}

/** A titled box around one child. */
export function panel(title: string, child: string): string {
  return '{"kind":"panel","title":' + quote(title) + ',"child":' + child + "}";
}

/** Text; style "heading" | "body" | "notice" ("" for the default). */
export function text(t: string, style: string = ""): string {
  return '{"kind":"text","text":' + quote(t) + (style.length > 0 ? ',"style":' + quote(style) : "") + "}";
}

/** A tab set: `label` names the tab list (accessibility); labels[i] names children[i]. 1-12 tabs. */
export function tabs(label: string, labels: Array<string>, children: Array<string>): string {
  const parts = new Array<string>();
  const n = labels.length < children.length ? labels.length : children.length;
  for (let i = 0; i < n; i++) parts.push('{"label":' + quote(labels[i]) + ',"child":' + children[i] + "}");
  return '{"kind":"tabs","label":' + quote(label) + ',"tabs":' + list(parts) + "}";
}

/** Theme of a tree: scale 0.75-3 (0: leave out), density "normal" | "compact", contrast "normal" | "high" ("" : leave out). */
export class Theme {
  constructor(
    public scale: f64 = 0,
    public density: string = "",
    public contrast: string = "",
  ) {}
  toJSON(): string {
    const parts = new Array<string>();
    if (this.scale > 0) parts.push('"scale":' + formatNumber(this.scale));
    if (this.density.length > 0) parts.push('"density":' + quote(this.density));
    if (this.contrast.length > 0) parts.push('"contrast":' + quote(this.contrast));
    return "{" + parts.join(",") + "}";
  }
}

/** The whole answer: {"version":1,"title"?,"theme"?,"root"}. */
export function layoutTree(root: string, title: string = "", theme: Theme | null = null): string {
  let out = '{"version":1';
  if (title.length > 0) out += ',"title":' + quote(title);
  if (theme !== null) out += ',"theme":' + theme.toJSON();
  return out + ',"root":' + root + "}";
}

/** Writes a tree built with layoutTree() as the hook's output. */
export function outputLayout(treeJson: string): void {
  outputString(treeJson);
}
