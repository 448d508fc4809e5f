// The Hearth desktop page. One WebSocket to the client core: the newest
// {snapshot, layout} replaces the previous one (older ones are never drawn),
// and a requestAnimationFrame loop draws the newest state at most once per
// frame, only when something changed. Nothing here waits on the network.
import { builtinLayout } from '../builtin-layout.js';
import { applyTheme, node } from './layout.js';
import { invalidate, post, runFrameStart, send, setSender, store, ui, type PageMessage } from './state.js';
import type { ClientSnapshot, LayoutTree } from './types.js';
import { h, render, type VChild } from './vdom.js';
import { isPttKey } from './widgets/index.js';
import { emptySnapshot } from '../../core/snapshot.js';
import { applyPatch, share, type Patch } from '../patch.js';

declare global {
  interface Window {
    __HEARTH_FIXTURE__?: { snapshot: ClientSnapshot; layout?: LayoutTree | null; choices?: LayoutChoice[] };
    __HEARTH_SENT__?: PageMessage[];
    __HEARTH_PAGE__?: { store: typeof store; ui: typeof ui; apply: (m: unknown) => void };
  }
}

// ---------------------------------------------------------------------------
// Incoming messages (host/client/ui/protocol.ts)
//   {"type":"hello","protocol":1,"ackWindow":2}
//   {"type":"snapshot","seq":N,"state":ClientSnapshot}   answered with {"type":"ack","seq":N} when drawn
//   {"type":"patch","seq":N,"base":N-1,"patch":Patch}     the state of seq N as a patch (../patch.ts) on
//       the state of seq N-1; applied in order, acked like a snapshot; one whose base is not the
//       state held is answered with {"type":"resync"} (the core then sends a full snapshot)
//   {"type":"layout","seq":N,"tree":LayoutTree,"plugin","notice","choices":[...]}
//   {"type":"refused","reason":"..."}
// Also accepted (fixtures, older cores): {"type":"snapshot","snapshot":...,"layout":...}.

export interface LayoutChoice {
  id: string;
  name: string;
  description: string;
  active: boolean;
}

interface Incoming {
  type?: string;
  seq?: number;
  state?: ClientSnapshot;
  snapshot?: ClientSnapshot;
  layout?: LayoutTree | null;
  tree?: LayoutTree;
  plugin?: string | null;
  notice?: string | null;
  choices?: LayoutChoice[];
  reason?: string;
}

function apply(raw: unknown): void {
  const m = raw as Incoming;
  if (!m || typeof m !== 'object') return;
  switch (m.type) {
    case 'snapshot': {
      if (typeof m.seq === 'number') post({ type: 'ack', seq: m.seq });
      const snap = m.state ?? m.snapshot;
      if (!snap) return;
      // What did not change keeps its identity (the widgets' memo compares by identity).
      store.snapshot = store.snapshot ? share(store.snapshot, snap) : snap;
      store.received++;
      if (m.layout && typeof m.layout === 'object') setLayout(m.layout);
      store.dirty = true;
      return;
    }
    case 'layout':
      if (m.tree && typeof m.tree === 'object') setLayout(m.tree);
      store.layoutPlugin = m.plugin ?? null;
      store.layoutChoices = Array.isArray(m.choices) ? m.choices : [];
      invalidate();
      return;
    case 'refused':
      store.refused = m.reason ?? 'refused';
      // The core logs the refusal (pino, in its log file); the person is told here.
      showProblem(`The client refused a request from this page: ${store.refused}`);
      invalidate();
      return;
    case 'hello':
    default:
      return;
  }
}

let layoutJson = '';
function setLayout(t: LayoutTree): void {
  const j = JSON.stringify(t);
  if (j === layoutJson && store.layout) return;
  layoutJson = j;
  store.layout = t;
  applyTheme(t);
}

// ---------------------------------------------------------------------------
// Transport

function socketUrl(): string {
  // The page lives at http://127.0.0.1:PORT/SECRET/ and its socket at .../SECRET/ws.
  const u = new URL('ws', location.href);
  u.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const s = new URLSearchParams(location.search).get('s');
  if (s) u.searchParams.set('s', s);
  // Patches instead of whole snapshots (host/client/ui/patch.ts).
  u.searchParams.set('patch', '1');
  u.hash = '';
  return u.href;
}

const SNAPSHOT_HEAD = /^\{"type":"snapshot","seq":(\d+),"state":/;
const PATCH_HEAD = /^\{"type":"patch","seq":(\d+),"base":(\d+),/;
/** The newest full snapshot not yet parsed, and the patches received after it (in order). */
let pendingFull: { seq: number; raw: string } | null = null;
let pendingPatches: { seq: number; base: number; raw: string }[] = [];
/** Seq of the state in store.snapshot (what patches apply to). */
let heldSeq = 0;
/** A patch did not fit: patches are dropped until the full snapshot the core sends next. */
let awaitingFull = false;

function resync(): void {
  awaitingFull = true;
  pendingPatches = [];
  post({ type: 'resync' });
}

function takePending(): void {
  if (pendingFull === null && !pendingPatches.length) return;
  const full = pendingFull;
  const patches = pendingPatches;
  pendingFull = null;
  pendingPatches = [];
  let state = store.snapshot;
  let seq = heldSeq;
  if (full) {
    try {
      const m = JSON.parse(full.raw) as Incoming;
      if (m.state) {
        state = state ? share(state, m.state) : m.state;
        seq = full.seq;
      }
    } catch {
      /* dropped; the next one replaces it */
    }
  }
  for (const p of patches) {
    try {
      if (p.base !== seq || !state) throw new Error('not the state held');
      const m = JSON.parse(p.raw) as { patch: Patch };
      state = applyPatch(state, m.patch) as ClientSnapshot;
      seq = p.seq;
    } catch {
      // Keep drawing what is held (it was consistent), and ask for a full snapshot.
      resync();
      break;
    }
  }
  store.snapshot = state;
  // Acked when drawn, not when received: the core then sends about one
  // snapshot per frame the page draws (its credit is two un-acked), instead
  // of every one it can, most of which a newer one would replace unread.
  if (seq !== heldSeq) post({ type: 'ack', seq });
  heldSeq = seq;
}

function connectSocket(): void {
  const url = socketUrl();
  let delay = 250;
  let ws: WebSocket | null = null;
  const outbox: string[] = [];
  setSender((m) => {
    const j = JSON.stringify(m);
    if (ws && ws.readyState === WebSocket.OPEN) ws.send(j);
    else if (m.type === 'action' && outbox.length < 100) outbox.push(j);
  });
  const open = (): void => {
    ws = new WebSocket(url);
    ws.onopen = () => {
      delay = 250;
      // A new socket starts with a full snapshot and its own seq numbers.
      pendingFull = null;
      pendingPatches = [];
      heldSeq = 0;
      awaitingFull = false;
      store.link = 'open';
      for (const j of outbox.splice(0)) ws!.send(j);
      sendViewport();
      invalidate();
    };
    ws.onmessage = (ev) => {
      if (typeof ev.data !== 'string') return;
      // A snapshot is parsed and acked only when a frame draws it: one that
      // a newer one replaces before the next frame is never parsed.
      const head = ev.data.slice(0, 64);
      const m = SNAPSHOT_HEAD.exec(head);
      if (m) {
        // A full snapshot replaces everything received before it.
        pendingFull = { seq: Number(m[1]), raw: ev.data };
        pendingPatches = [];
        awaitingFull = false;
        store.received++;
        store.dirty = true;
        return;
      }
      const pm = PATCH_HEAD.exec(head);
      if (pm) {
        // Every patch is applied, in order (each builds on the one before), when a frame draws.
        if (!awaitingFull) pendingPatches.push({ seq: Number(pm[1]), base: Number(pm[2]), raw: ev.data });
        store.received++;
        store.dirty = true;
        return;
      }
      try {
        apply(JSON.parse(ev.data));
      } catch {
        /* a malformed message is dropped; the next snapshot replaces it anyway */
      }
    };
    ws.onclose = () => {
      store.link = 'closed';
      invalidate();
      window.setTimeout(open, delay);
      delay = Math.min(delay * 2, 5000);
    };
  };
  open();
}

function useFixture(f: NonNullable<Window['__HEARTH_FIXTURE__']>): void {
  store.link = 'fixture';
  window.__HEARTH_SENT__ ??= [];
  setSender(() => undefined);
  apply({ type: 'snapshot', snapshot: f.snapshot, layout: f.layout ?? null });
  if (f.choices) apply({ type: 'layout', tree: f.layout ?? undefined, plugin: null, notice: null, choices: f.choices });
}

let vpTimer = 0;
function sendViewport(): void {
  post({ type: 'viewport', width: window.innerWidth, height: window.innerHeight });
}
window.addEventListener('resize', () => {
  window.clearTimeout(vpTimer);
  vpTimer = window.setTimeout(() => {
    sendViewport();
    // Redraw (the built-in layout follows the window), but no widget reads the
    // window's size: their memo stays (invalidate() would rebuild every one).
    store.dirty = true;
  }, 150);
});

// ---------------------------------------------------------------------------
// Push-to-talk while the window has focus

let pttHeld = false;
function typingIn(t: EventTarget | null): boolean {
  const el = t as HTMLElement | null;
  if (!el || !el.tagName) return false;
  if (el.tagName === 'TEXTAREA' || el.isContentEditable) return true;
  if (el.tagName === 'INPUT') {
    const type = (el as HTMLInputElement).type;
    return !['checkbox', 'radio', 'range', 'button', 'submit'].includes(type);
  }
  return el.tagName === 'SELECT';
}
window.addEventListener('keydown', (e) => {
  if (ui.capturingKey) {
    if (e.key === 'Tab') return; // never trap the keyboard
    e.preventDefault();
    if (e.key !== 'Escape') {
      ui.pttKey = e.code;
      send({ type: 'ptt.key', key: e.code });
    }
    ui.capturingKey = false;
    invalidate();
    return;
  }
  if (store.snapshot?.audio.mode !== 'ptt' || !isPttKey(e) || typingIn(e.target)) return;
  e.preventDefault();
  if (!pttHeld && !e.repeat) {
    pttHeld = true;
    send({ type: 'ptt', down: true });
  }
});
window.addEventListener('keyup', (e) => {
  if (pttHeld && isPttKey(e)) {
    e.preventDefault();
    pttHeld = false;
    send({ type: 'ptt', down: false });
  }
});
window.addEventListener('blur', () => {
  if (pttHeld) {
    pttHeld = false;
    send({ type: 'ptt', down: false });
  }
});

// ---------------------------------------------------------------------------
// Drawing

const LINK_TEXT: Record<string, string> = {
  connecting: 'Connecting to the Hearth client…',
  closed: 'Lost the connection to the Hearth client on this computer. Trying again…',
};

function layoutInputOf(s: ClientSnapshot): Parameters<typeof builtinLayout>[0] {
  return {
    status: s.connection.status,
    role: (s.self?.role ?? null) as 'guest' | 'member' | 'moderator' | 'admin' | null,
    certificatePending: !!s.connection.certificate,
    serverName: s.connection.server?.name ?? null,
    viewport: { width: window.innerWidth, height: window.innerHeight },
    users: s.users.length,
    channels: s.channels.length,
    errors: s.errors.length,
  };
}

function layoutChooser(): VChild | null {
  const choices = store.layoutChoices;
  if (choices.length < 2) return null;
  const active = choices.find((c) => c.active)?.id ?? '';
  return h(
    'div',
    { class: 'layout-choice' },
    h('label', { for: 'layout-select' }, 'Layout'),
    h(
      'select',
      { id: 'layout-select', value: active, on: { change: (e) => send({ type: 'layout.select', pluginId: (e.target as HTMLSelectElement).value || null }) } },
      choices.map((c) => h('option', { key: c.id, value: c.id, title: c.description }, c.name)),
    ),
  );
}

function draw(): void {
  const t0 = performance.now();
  takePending();
  const t1 = performance.now();
  const s = store.snapshot ?? emptySnapshot();
  // Until the core has sent a layout (or in a fixture without one), the built-in layout.
  const tree = store.layout ?? builtinLayout(layoutInputOf(s));
  applyTheme(tree);
  const linkText = LINK_TEXT[store.link];
  const children: VChild[] = [
    h(
      'header',
      { class: 'top' },
      h('h1', null, tree.title ?? 'Hearth'),
      h('p', { class: 'link', role: 'status' }, linkText && (store.link !== 'connecting' || !store.snapshot) ? linkText : s.quitting ? 'Hearth has quit. You can close this window.' : ''),
      layoutChooser(),
      store.link === 'fixture' || store.link === 'open' ? h('button', { type: 'button', class: 'quiet', on: { click: () => send({ type: 'quit' }) } }, 'Quit Hearth') : null,
    ),
    h(
      'main',
      { id: 'main' },
      node(tree.root, 'L', s, 2),
    ),
  ];
  const t2 = performance.now();
  render(document.getElementById('app')!, children);
  const ms = store.phaseMs;
  ms.apply += t1 - t0;
  ms.build += t2 - t1;
  ms.patch += performance.now() - t2;
}

function frame(): void {
  requestAnimationFrame(frame);
  runFrameStart();
  if (!store.dirty) return;
  store.dirty = false;
  store.frames++;
  try {
    const t0 = performance.now();
    draw();
    const dt = performance.now() - t0;
    store.drawMs = dt;
    store.drawMsTotal += dt;
    if (dt > store.maxDrawMs) store.maxDrawMs = dt;
  } catch (err) {
    // Never leave the window blank or frozen: say so (outside the tree that failed), and try again next frame.
    showProblem(`Part of the window could not be drawn: ${(err as Error).message ?? String(err)}`);
    store.dirty = true;
  }
}

// The reconnect countdown ticks without new snapshots.
window.setInterval(() => {
  if (store.snapshot?.connection.status === 'reconnecting') invalidate();
}, 500);

window.__HEARTH_PAGE__ = { store, ui, apply };
if (window.__HEARTH_FIXTURE__) useFixture(window.__HEARTH_FIXTURE__);
else connectSocket();
requestAnimationFrame(frame);

/** A problem of the page itself, shown in a fixed alert outside the rendered tree (the page has no logger; the core has). */
function showProblem(text: string): void {
  const el = document.getElementById('page-problem');
  if (!el) return;
  el.textContent = text;
  el.hidden = false;
}
