// The layout contract between a layout plugin and the UI (docs/PLUGINS.md,
// "Layout plugins"): a layout guest turns a summary of the client state into
// a JSON tree of known components; the page's renderer draws that tree. The
// tree only arranges things: widgets read the live state themselves, so the
// layout is asked again only when what it depends on changes (connection
// status, role, viewport), never per snapshot.
//
// The schema itself lives in host/plugins/layout.ts (the lowest layer that
// uses it: the plugin runtime validates on_layout output with it); this
// module re-exports it unchanged for the UI.
export { WIDGETS, LayoutTreeSchema, type WidgetName, type LayoutNode, type LayoutTree, type LayoutInput } from '../../plugins/layout.js';
