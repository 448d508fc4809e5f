// The page's own state: the newest snapshot and layout from the core (only
// the newest is kept; older ones are dropped unseen), the transport to the
// core, and small page-local choices (selected tab, selected user, drafts).
import type { ClientAction, ClientSnapshot, LayoutTree } from './types.js';

/** What the page sends besides core actions (host/client/ui/protocol.ts). */
export type PageMessage = { type: 'action'; action: ClientAction } | { type: 'ack'; seq: number } | { type: 'resync' } | { type: 'viewport'; width: number; height: number };

export type Link = 'connecting' | 'open' | 'closed' | 'fixture';

export const store = {
  snapshot: null as ClientSnapshot | null,
  layout: null as LayoutTree | null,
  layoutPlugin: null as string | null,
  layoutChoices: [] as { id: string; name: string; description: string; active: boolean }[],
  refused: null as string | null,
  link: 'connecting' as Link,
  /** Set whenever something the page draws changed; cleared by the frame that draws it. */
  dirty: true,
  /** Snapshots received / frames drawn (for the tests and the stats widget). */
  received: 0,
  frames: 0,
  /** Time the last draw took, and the longest one (ms): the page's own budget check. */
  /** Bumped by every page-local change (ui.*): part of each widget's memo key. */
  uiStamp: 0,
  drawMs: 0,
  maxDrawMs: 0,
  /** Sum of every draw's time (ms): the bench divides it by `frames`. */
  drawMsTotal: 0,
  /** Of those: applying what arrived (parse, patches), building the widgets, patching the DOM. */
  phaseMs: { apply: 0, build: 0, patch: 0 },
};

/** Page-local UI choices that survive re-renders. */
export const ui = {
  tabs: new Map<string, number>(),
  /** Fixture mode only (the core keeps the real one in settings.json). */
  pttKey: 'Space',
  selectedSession: null as number | null,
  chatTarget: 'channel' as 'channel' | number /* userId for a direct message */,
  manageChannel: null as number | null,
  confirmDelete: null as number | null,
  /** The server the connect form was filled from (saved servers), so saving it replaces that entry. */
  formServerId: null as string | null,
  capturingKey: false,
  devicesListed: false,
  dismissedCert: null as string | null,
  dismissedErrorsAt: 0,
  /** Tags of the requests this page sent, newest last, with what they were. */
  requests: [] as { tag: string; what: string }[],
  registerMode: 'login' as 'login' | 'invite' | 'bootstrap',
};

let sender: ((m: PageMessage) => void) | null = null;
export function setSender(f: (m: PageMessage) => void): void {
  sender = f;
}

/** Sends a raw page message (never waits: the socket buffers it). */
export function post(m: PageMessage): void {
  (window as unknown as { __HEARTH_SENT__?: PageMessage[] }).__HEARTH_SENT__?.push(m);
  sender?.(m);
}

export function send(action: ClientAction): void {
  post({ type: 'action', action });
}

let seq = 0;
/** A passed-through server request (channel management, moderation); its result lands in snapshot.requests[tag]. */
export function request(method: string, fields: Record<string, unknown>, what: string): string {
  const tag = `ui-${Date.now().toString(36)}-${++seq}`;
  ui.requests.push({ tag, what });
  if (ui.requests.length > 20) ui.requests.shift();
  send({ type: 'request', method, fields, tag });
  invalidate();
  return tag;
}

const frameStart: (() => void)[] = [];
/**
 * Runs `f` at the start of the next animation frame, before anything is drawn:
 * DOM reads that need layout (scroll positions) go there, where the layout of
 * the frame before is still valid, instead of forcing one after the patch's writes.
 */
export function atFrameStart(f: () => void): void {
  frameStart.push(f);
}
export function runFrameStart(): void {
  for (const f of frameStart.splice(0)) {
    try {
      f();
    } catch {
      /* a detached element; nothing to do */
    }
  }
}

/** Something page-local changed (a tab, a selection, a draft choice): redraw, and bypass the widget memo. */
export function invalidate(): void {
  store.uiStamp++;
  store.dirty = true;
}
