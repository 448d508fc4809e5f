// The WebSocket protocol between the page and the core (ui-server.ts).
// Every message is one JSON text frame.
//
// core → page
//   {"type":"hello","protocol":1,"ackWindow":2}
//       first message on every socket.
//   {"type":"snapshot","seq":17,"state":{...ClientSnapshot, compacted}}
//       the NEWEST snapshot; seq grows by one per snapshot sent on this socket.
//       The page answers {"type":"ack","seq":17} when a frame draws it (one a
//       newer snapshot replaced unread is never acked). At most `ackWindow` snapshots are ever un-acked; while
//       the window is full the core sends nothing, and when an ack arrives it
//       sends the newest snapshot, skipping every one in between (watch
//       semantics: a slow page skips snapshots, it never queues them).
//   {"type":"patch","seq":18,"base":17,"patch":Patch}
//       only to a page that opened the socket with ?patch=1 (ours does): the
//       newest snapshot as a patch (patch.ts) on the state of message `base`,
//       which is always the message sent before it on this socket (the first
//       message, and the one after a resync, is a full "snapshot"). The page
//       applies every patch in order and acks like a snapshot; credit, draining
//       and "newest only" are the same, so the states in between are skipped
//       by the core, never queued. A publication that changes nothing the page
//       gets sends nothing.
//   {"type":"layout","seq":3,"tree":{LayoutTree},"plugin":"layout-default"|null,
//    "notice":string|null,"choices":[{"id","name","description","active"}]}
//       the layout to draw (sent at connect and whenever it changes; never
//       queued either: only the newest is sent). `plugin` is the layout plugin
//       that made the tree, null for the built-in layout; `notice` says why the
//       built-in layout is shown instead of the chosen plugin (it is also in the
//       tree, as a text node with style "notice").
//   {"type":"refused","reason":"..."}
//       a page message that was not valid (it was dropped; the socket stays open).
//
// page → core
//   {"type":"action","action":{ClientAction}}    validated (zod) before core.push
//   {"type":"ack","seq":17}
//   {"type":"resync"}                           a patch did not apply: the core drops what is
//                                               in flight and sends a full snapshot next
//   {"type":"viewport","width":1280,"height":800} CSS pixels; the layout follows it
//   (also accepted, as shorthands of the matching actions:)
//   {"type":"servers.save","server":{id?,label,host,port,username,password?},"rememberPassword":bool}
//   {"type":"servers.remove","id":"..."}
//   {"type":"servers.connect","id":"...","password"?:"..."}
//
// The page's URL is http://127.0.0.1:PORT/SECRET/ ; its assets are relative
// (app.js, app.css) and the socket is ws://127.0.0.1:PORT/SECRET/ws
// (new URL('ws', location.href) with the scheme changed).
import type { ClientSnapshot } from '../core/snapshot.js';
import type { LayoutTree } from './components.js';
import type { Patch } from './patch.js';

export const UI_PROTOCOL = 1;
/** Snapshots a page may have un-acked at once. */
export const ACK_WINDOW = 2;

export interface LayoutChoiceView {
  id: string;
  name: string;
  description: string;
  active: boolean;
}

export type CoreToPage =
  | { type: 'hello'; protocol: number; ackWindow: number }
  | { type: 'snapshot'; seq: number; state: ClientSnapshot }
  | { type: 'patch'; seq: number; base: number; patch: Patch }
  | { type: 'layout'; seq: number; tree: LayoutTree; plugin: string | null; notice: string | null; choices: LayoutChoiceView[] }
  | { type: 'refused'; reason: string };
