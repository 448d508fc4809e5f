// The layout contract between a layout plugin and the UI (docs/PLUGINS.md,
// "Layout plugins"): a layout guest (hook on_layout, capability ui.layout)
// turns a summary of the client state (LayoutInput) into a JSON tree of known
// components (LayoutTree); the page's renderer draws that tree. The tree only
// arranges things: widgets read the live state themselves, so the layout is
// asked again only when what it depends on changes (connection status, role,
// viewport), never per snapshot.
//
// It lives here, in the plugin layer, because the plugin runtime validates a
// guest's on_layout output with LayoutTreeSchema; host/client/ui/components.ts
// re-exports all of it for the UI.
import { z } from 'zod';

/** The widgets the renderer knows. Each reads the snapshot and sends actions itself. */
export const WIDGETS = [
  'connect', // server list, host/port/user/password form, register (bootstrap token / invite)
  'certificate', // first-use fingerprint prompt and the loud "certificate changed" refusal
  'connection', // status, server name, ping, loss, reconnect countdown, disconnect
  'channels', // nested channel tree with users, speaking lights, mute/deaf icons; join; manage channels (role permitting)
  'chat', // channel chat with history, direct messages
  'voice', // self mute / deafen, push-to-talk or voice activation with threshold and input meter
  'devices', // input/output device choice, loopback test
  'users', // the selected user: volume, local mute, jitter-buffer stats; kick / ban / server-mute for moderators
  'plugins', // client plugins: enable/disable, capabilities, grant
  'errors', // recent errors, plainly
  'stats', // voice statistics (per speaker)
] as const;
export type WidgetName = (typeof WIDGETS)[number];

export type LayoutNode =
  | { kind: 'row' | 'column'; children: LayoutNode[]; weights?: number[]; gap?: number }
  | { kind: 'tabs'; label: string; tabs: { label: string; child: LayoutNode }[] }
  | { kind: 'panel'; title: string; child: LayoutNode }
  | { kind: 'widget'; widget: WidgetName; dense?: boolean }
  | { kind: 'text'; text: string; style?: 'heading' | 'body' | 'notice' };

export interface LayoutTree {
  version: 1;
  /** Shown in the window title and the page's heading. */
  title?: string;
  theme?: { scale?: number; density?: 'normal' | 'compact'; contrast?: 'normal' | 'high' };
  root: LayoutNode;
}

const MAX_DEPTH = 12;
const text = z.string().max(200);

const Node: z.ZodType<LayoutNode> = z.lazy(() =>
  z.discriminatedUnion('kind', [
    z.object({ kind: z.enum(['row', 'column']), children: z.array(Node).min(1).max(16), weights: z.array(z.number().positive().max(100)).max(16).optional(), gap: z.number().min(0).max(64).optional() }).strict(),
    z.object({ kind: z.literal('tabs'), label: text.min(1), tabs: z.array(z.object({ label: text.min(1), child: Node }).strict()).min(1).max(12) }).strict(),
    z.object({ kind: z.literal('panel'), title: text.min(1), child: Node }).strict(),
    z.object({ kind: z.literal('widget'), widget: z.enum(WIDGETS), dense: z.boolean().optional() }).strict(),
    z.object({ kind: z.literal('text'), text: z.string().max(2000), style: z.enum(['heading', 'body', 'notice']).optional() }).strict(),
  ]),
);

export const LayoutTreeSchema = z
  .object({
    version: z.literal(1),
    title: text.optional(),
    theme: z
      .object({ scale: z.number().min(0.75).max(3).optional(), density: z.enum(['normal', 'compact']).optional(), contrast: z.enum(['normal', 'high']).optional() })
      .strict()
      .optional(),
    root: Node,
  })
  .strict()
  .superRefine((t, ctx) => {
    const depth = (n: LayoutNode): number =>
      n.kind === 'row' || n.kind === 'column' ? 1 + Math.max(...n.children.map(depth)) : n.kind === 'tabs' ? 1 + Math.max(...n.tabs.map((x) => depth(x.child))) : n.kind === 'panel' ? 1 + depth(n.child) : 1;
    if (depth(t.root) > MAX_DEPTH) ctx.addIssue({ code: 'custom', message: `layout nests deeper than ${MAX_DEPTH}` });
  });

/** What a layout guest is given (hook on_layout): the coarse state a layout depends on. */
export interface LayoutInput {
  status: 'disconnected' | 'connecting' | 'connected' | 'reconnecting' | 'failed';
  /** Role of this user on the server (null when not connected). */
  role: 'guest' | 'member' | 'moderator' | 'admin' | null;
  /** A certificate decision is pending (first use or changed). */
  certificatePending: boolean;
  serverName: string | null;
  /** Viewport in CSS pixels. */
  viewport: { width: number; height: number };
  /** Counts, so a layout can adapt (e.g. hide chat when alone). */
  users: number;
  channels: number;
  errors: number;
}
