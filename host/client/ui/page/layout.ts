// Draws a LayoutTree (components.ts): rows and columns as flex boxes with
// weights, tabs as an accessible tablist, panels as labelled regions, text as
// headings/paragraphs/notices, widgets by name.
import { h, type Child, type VChild, type VElement } from './vdom.js';
import { invalidate, store, ui } from './state.js';
import type { ClientSnapshot, LayoutNode, LayoutTree, WidgetName } from './types.js';
import { WIDGET_RENDERERS } from './widgets/index.js';

function tabsNode(n: Extract<LayoutNode, { kind: 'tabs' }>, path: string, s: ClientSnapshot, level: number): VElement {
  // The chosen tab is remembered by the tab list's name, not by its place in
  // the tree: a layout that adds a notice above it (an error appeared) moves
  // it, and the person's choice must not jump back to the first tab.
  const remember = n.label ? `label:${n.label}` : path;
  const sel = Math.min(ui.tabs.get(remember) ?? 0, n.tabs.length - 1);
  const id = (i: number, what: 'tab' | 'panel'): string => `${path}-${what}${i}`;
  const choose = (i: number, focus: boolean): void => {
    ui.tabs.set(remember, i);
    invalidate();
    if (focus) document.getElementById(id(i, 'tab'))?.focus();
  };
  const onKey = (e: Event): void => {
    const k = (e as KeyboardEvent).key;
    const last = n.tabs.length - 1;
    // From the focused tab, not the last render: two quick presses move two tabs.
    const at = Number((e.target as HTMLElement).closest('[role=tab]')?.getAttribute('data-index') ?? sel);
    const next = k === 'ArrowRight' ? (at === last ? 0 : at + 1) : k === 'ArrowLeft' ? (at === 0 ? last : at - 1) : k === 'Home' ? 0 : k === 'End' ? last : -1;
    if (next >= 0) {
      e.preventDefault();
      choose(next, true);
    }
  };
  return h(
    'div',
    { class: 'tabs' },
    h(
      'div',
      { role: 'tablist', 'aria-label': n.label, class: 'tablist', on: { keydown: onKey } },
      n.tabs.map((t, i) =>
        h(
          'button',
          {
            key: `${i}:${t.label}`,
            type: 'button',
            role: 'tab',
            id: id(i, 'tab'),
            'data-index': i,
            'aria-selected': i === sel ? 'true' : 'false',
            'aria-controls': id(i, 'panel'),
            tabindex: i === sel ? 0 : -1,
            on: { click: () => choose(i, false) },
          },
          t.label,
        ),
      ),
    ),
    // Every tab's panel stays mounted (hidden ones are out of the accessibility
    // tree), so a half-typed form survives switching tabs.
    n.tabs.map((t, i) =>
      h('div', { key: `${i}:${t.label}`, role: 'tabpanel', id: id(i, 'panel'), 'aria-labelledby': id(i, 'tab'), hidden: i !== sel, class: 'tabpanel' }, node(t.child, `${path}.${i}`, s, level)),
    ),
  );
}

// Widget memo: a widget is rebuilt only when the parts of the snapshot it
// reads (or page-local state) changed; otherwise its previous VNode subtree is
// reused as is and patch() skips it. The page keeps the identity of every part
// of the snapshot that did not change (patches, and share() for full
// snapshots: ../patch.ts), so a slice is compared by identity (===), without
// serialising it. A slice narrower than an array (the users' names for the
// chat's conversation list) is derived once per array and compared as a string.
// At 200 snapshots/s most frames change only the speaking lights, the meters
// and the statistics, so the chat, devices, plugins and user widgets are skipped.
type Slice = (s: ClientSnapshot) => unknown;

/** f(x), computed once per object identity. */
function per<T extends object>(f: (x: T) => string): (x: T) => string {
  const cache = new WeakMap<T, string>();
  return (x) => {
    let v = cache.get(x);
    if (v === undefined) cache.set(x, (v = f(x)));
    return v;
  };
}
/** Who can be written to (the chat's conversations) and where each user is. */
const chatUsers = per((users: ClientSnapshot['users']) => users.map((u) => `${u.userId}:${u.channelId}:${u.username}`).join('\n'));
/** The user chooser's options. */
const userList = per((users: ClientSnapshot['users']) => users.map((u) => `${u.sessionId}:${u.username}`).join('\n'));
const selected = (s: ClientSnapshot) => s.users.find((u) => u.sessionId === ui.selectedSession);

const SLICES: Record<WidgetName, Slice[]> = {
  connect: [(s) => s.connection, (s) => s.servers],
  certificate: [(s) => s.connection.certificate, (s) => s.connection.fingerprint],
  connection: [(s) => s.connection, (s) => s.self, (s) => s.voice.rttMs, (s) => s.voice.lossPercent, (s) => s.voice.listenerLossPercent, (s) => s.voice.mode, (s) => (s.connection.nextRetryAt ? Math.ceil((s.connection.nextRetryAt - Date.now()) / 1000) : 0)],
  channels: [(s) => s.channels, (s) => s.users, (s) => s.speaking, (s) => s.self, (s) => s.requests],
  chat: [(s) => s.chat, (s) => chatUsers(s.users), (s) => s.channels, (s) => s.self],
  voice: [(s) => s.audio.mode, (s) => s.audio.thresholdDb, (s) => s.audio.selfMute, (s) => s.audio.selfDeaf, (s) => s.audio.pttDown, (s) => s.audio.transmitting, (s) => Math.round(s.audio.inputLevelDb), (s) => s.pttKey],
  devices: [(s) => s.audio.available, (s) => s.audio.input, (s) => s.audio.output, (s) => s.audio.loopback, (s) => s.audio.outputVolume],
  users: [
    (s) => userList(s.users),
    (s) => s.self,
    (s) => s.requests,
    selected,
    (s) => {
      const u = selected(s);
      return u ? s.voice.speakers.find((x) => x.sessionId === u.sessionId) : undefined;
    },
    (s) => {
      const u = selected(s);
      return !!u && s.speaking.includes(u.sessionId);
    },
  ],
  plugins: [(s) => s.plugins, (s) => s.clientPlugins],
  errors: [(s) => s.errors],
  stats: [(s) => s.voice, (s) => s.audio.clock, (s) => s.audio.cpu],
};
/**
 * Figures that only a person reads (packet counters, jitter-buffer depths, the
 * ping): redrawn at most every `ms`, not at the snapshot rate; what changes
 * the meaning (a slice listed in `now`: the connection's status) is drawn at once.
 * Speaking lights and the level meter are never held back.
 */
const THROTTLE: Partial<Record<WidgetName, { ms: number; now: number[] }>> = {
  stats: { ms: 250, now: [] },
  connection: { ms: 250, now: [0, 1, 5, 6] },
};
let throttleTimer = 0;
const memo = new Map<string, { stamp: number; dense: boolean; vals: unknown[]; v: VElement; at: number }>();
function sliceValues(w: WidgetName, s: ClientSnapshot): unknown[] {
  return (SLICES[w] ?? []).map((f) => f(s));
}
function sameValues(a: unknown[], b: unknown[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i] && !(Number.isNaN(a[i]) && Number.isNaN(b[i]))) return false;
  return true;
}

export function node(n: LayoutNode, path: string, s: ClientSnapshot, level: number): VChild {
  switch (n.kind) {
    case 'row':
    case 'column': {
      const gap = n.gap ?? 8;
      return h(
        'div',
        { class: `flex ${n.kind}`, style: `gap:${gap}px` },
        n.children.map((c, i) => h('div', { key: i, class: 'cell', style: `flex:${n.weights?.[i] ?? 1} 1 0` }, node(c, `${path}.${i}`, s, level))),
      );
    }
    case 'tabs':
      return tabsNode(n, path, s, level);
    case 'panel': {
      const hid = `${path}-h`;
      return h('section', { class: 'panel', 'aria-labelledby': hid }, h(`h${Math.min(6, level)}`, { id: hid, class: 'panel-title' }, n.title), node(n.child, `${path}.0`, s, level + 1));
    }
    case 'text':
      if (n.style === 'heading') return h(`h${Math.min(6, level)}`, { class: 'text-heading' }, n.text);
      if (n.style === 'notice') return h('div', { class: 'notice', role: 'status' }, n.text);
      return h('p', { class: 'text-body' }, n.text);
    case 'widget': {
      const r = WIDGET_RENDERERS[n.widget];
      if (!r) return h('p', { class: 'notice' }, `Unknown widget ${String(n.widget)}`);
      const vals = sliceValues(n.widget, s);
      const dense = !!n.dense;
      const hit = memo.get(path);
      const now = performance.now();
      if (hit && hit.stamp === store.uiStamp && hit.dense === dense) {
        if (sameValues(hit.vals, vals)) return hit.v;
        const t = THROTTLE[n.widget];
        if (t && now - hit.at < t.ms && t.now.every((i) => hit.vals[i] === vals[i])) {
          // Held back: draw it when its interval is over, even if no snapshot comes.
          if (!throttleTimer) throttleTimer = window.setTimeout(() => ((throttleTimer = 0), (store.dirty = true)), t.ms - (now - hit.at) + 1);
          return hit.v;
        }
      }
      let out: Child;
      try {
        out = r(s, path.replace(/[^a-zA-Z0-9_-]/g, '_'), !!n.dense);
      } catch (err) {
        out = h('p', { class: 'notice', role: 'alert' }, `This part of the window failed to draw: ${(err as Error).message}`);
      }
      const v = h('div', { class: `widget w-${n.widget}${n.dense ? ' dense' : ''}`, 'data-widget': n.widget }, out);
      memo.set(path, { stamp: store.uiStamp, dense, vals, v, at: now });
      if (memo.size > 200) memo.clear();
      return v;
    }
  }
}

let lastTheme = '';
export function applyTheme(t: LayoutTree): void {
  // Only when it changed: a root font-size write restyles the whole document.
  const key = JSON.stringify([t.theme ?? null, t.title ?? null]);
  if (key === lastTheme) return;
  lastTheme = key;
  const root = document.documentElement;
  const scale = t.theme?.scale ?? 1;
  root.style.fontSize = `${Math.round(scale * 100)}%`;
  root.dataset.density = t.theme?.density ?? 'normal';
  root.dataset.contrast = t.theme?.contrast ?? 'normal';
  document.title = t.title ?? 'Hearth';
}
