// A small keyed renderer (about 150 lines, no dependencies). Each frame the
// page describes the whole UI as a tree of plain VNodes; patch() compares it
// with the previous tree and touches only the DOM nodes whose tag, attributes,
// text or children changed. Children are matched by key (channel ids, session
// ids, message ids), so a user moving between channels moves one <li> instead
// of re-creating the list.
//
// Inputs are "uncontrolled" while the user is on them: `value` is written
// only when it differs from the element's live value AND the element does not
// have focus, so a re-render at 60 fps never clobbers what is being typed or
// a slider being dragged.

export type Handler = (ev: Event) => void;
export type Props = Record<string, unknown> & {
  key?: string | number;
  on?: Record<string, Handler | undefined>;
  /** Called after the element is created or patched. */
  hook?: (el: HTMLElement, created: boolean) => void;
};

export interface VElement {
  t: string;
  p: Props;
  c: VChild[];
  el?: Node;
}
export interface VText {
  t: '#';
  s: string;
  el?: Node;
}
export type VChild = VElement | VText;
export type Child = VChild | string | number | null | undefined | false | Child[];

export function h(tag: string, props?: Props | null, ...children: Child[]): VElement {
  const c: VChild[] = [];
  flatten(children, c);
  return { t: tag, p: props ?? {}, c };
}

function flatten(xs: Child[], out: VChild[]): void {
  for (const x of xs) {
    if (x === null || x === undefined || x === false) continue;
    if (Array.isArray(x)) flatten(x, out);
    else if (typeof x === 'string' || typeof x === 'number') out.push({ t: '#', s: String(x) });
    else out.push(x);
  }
}

interface HandlerHost {
  __h?: Record<string, Handler | undefined>;
}

function dispatch(this: HTMLElement & HandlerHost, ev: Event): void {
  this.__h?.[ev.type]?.(ev);
}

const PROP_KEYS = new Set(['value', 'defaultValue', 'checked', 'selected', 'indeterminate']);
/** Elements whose value/checked are live properties (an <option>'s value stays an attribute). */
const LIVE = new Set(['INPUT', 'SELECT', 'TEXTAREA', 'METER', 'PROGRESS']);

function setProp(el: HTMLElement, name: string, v: unknown, old: unknown): void {
  if (name === 'key' || name === 'hook') return;
  if (name === 'defaultValue') {
    // Uncontrolled: the initial value only; afterwards the control is the user's.
    if (old === undefined && v !== undefined) (el as HTMLInputElement).value = String(v);
    return;
  }
  if (name === 'defaultChecked') {
    if (old === undefined && v !== undefined) (el as HTMLInputElement).checked = !!v;
    return;
  }
  if (name === 'on') {
    const host = el as HTMLElement & HandlerHost;
    const next = (v ?? {}) as Record<string, Handler | undefined>;
    const prev = (old ?? {}) as Record<string, Handler | undefined>;
    host.__h ??= {};
    for (const type of Object.keys(next)) {
      if (!(type in prev) || !host.__h[type]) el.addEventListener(type, dispatch);
      host.__h[type] = next[type];
    }
    for (const type of Object.keys(prev)) {
      if (!(type in next)) {
        el.removeEventListener(type, dispatch);
        delete host.__h[type];
      }
    }
    return;
  }
  if (name !== 'defaultValue' && PROP_KEYS.has(name) && LIVE.has(el.tagName)) {
    const rec = el as unknown as Record<string, unknown>;
    if (name === 'value') {
      const s = v === undefined || v === null ? '' : String(v);
      if (String(rec.value) !== s && (document.activeElement !== el || old === undefined)) rec.value = s;
    } else if (rec[name] !== !!v) rec[name] = !!v;
    return;
  }
  if (v === old) return;
  if (name === 'class') {
    if (el instanceof HTMLElement) el.className = (v as string) ?? '';
    else (el as Element).setAttribute('class', (v as string) ?? '');
  } else if (v === undefined || v === null || v === false) {
    el.removeAttribute(name);
  } else {
    el.setAttribute(name, v === true ? '' : String(v));
  }
}

const isText = (v: VChild): v is VText => v.t === '#';

function create(v: VChild): Node {
  if (isText(v)) return (v.el = document.createTextNode(v.s));
  const el = v.t === 'svg' || v.t === 'path' ? document.createElementNS('http://www.w3.org/2000/svg', v.t) : document.createElement(v.t);
  v.el = el;
  const isSelect = v.t === 'select';
  for (const k of Object.keys(v.p)) if (!(isSelect && PROP_KEYS.has(k))) setProp(el as HTMLElement, k, v.p[k], undefined);
  for (const c of v.c) el.appendChild(create(c));
  if (isSelect) for (const k of Object.keys(v.p)) if (PROP_KEYS.has(k)) setProp(el as HTMLElement, k, v.p[k], undefined);
  v.p.hook?.(el as HTMLElement, true);
  return el;
}

function same(a: VChild, b: VChild): boolean {
  if (a.t !== b.t) return false;
  if (a.t === '#') return true;
  return (a as VElement).p.key === (b as VElement).p.key;
}

function patchNode(old: VChild, next: VChild): void {
  if (old === next) return; // a memoized subtree (layout.ts): nothing in it changed
  const el = old.el!;
  next.el = el;
  if (isText(next)) {
    if ((old as VText).s !== next.s) el.nodeValue = next.s;
    return;
  }
  const o = old as VElement;
  const isSelect = next.t === 'select';
  for (const k of Object.keys(next.p)) if (!(isSelect && PROP_KEYS.has(k))) setProp(el as HTMLElement, k, next.p[k], o.p[k]);
  for (const k of Object.keys(o.p)) if (!(k in next.p)) setProp(el as HTMLElement, k, undefined, o.p[k]);
  patchChildren(el, o.c, next.c);
  if (isSelect) for (const k of Object.keys(next.p)) if (PROP_KEYS.has(k)) setProp(el as HTMLElement, k, next.p[k], o.p[k]);
  next.p.hook?.(el as HTMLElement, false);
}

export function patchChildren(parent: Node, oldC: VChild[], newC: VChild[]): void {
  // Fast path: same length and every position matches (the common frame).
  if (oldC.length === newC.length) {
    let ok = true;
    for (let i = 0; i < newC.length; i++) if (!same(oldC[i]!, newC[i]!)) { ok = false; break; }
    if (ok) {
      for (let i = 0; i < newC.length; i++) patchNode(oldC[i]!, newC[i]!);
      return;
    }
  }
  // Keyed match: old children by (tag, key); unkeyed ones by (tag, position among unkeyed).
  const pool = new Map<string, VChild[]>();
  const id = (v: VChild, n: number): string => (v.t === '#' ? `#${n}` : (v as VElement).p.key !== undefined ? `${v.t}|k${String((v as VElement).p.key)}` : `${v.t}|u${n}`);
  let n = 0;
  for (const v of oldC) {
    const k = id(v, v.t !== '#' && (v as VElement).p.key !== undefined ? 0 : n++);
    const list = pool.get(k);
    if (list) list.push(v);
    else pool.set(k, [v]);
  }
  n = 0;
  // The old nodes' elements, taken before patching: a memoized VNode reused
  // elsewhere may get a new element, and the old one must still go.
  const oldEls = oldC.map((v) => v.el);
  const used = new Set<VChild>();
  for (const v of newC) {
    const k = id(v, v.t !== '#' && (v as VElement).p.key !== undefined ? 0 : n++);
    const match = pool.get(k)?.shift();
    if (match) {
      used.add(match);
      patchNode(match, v);
    } else create(v);
  }
  const keep = new Set<Node | undefined>(newC.map((v) => v.el));
  for (const el of oldEls) if (el && !keep.has(el) && el.parentNode === parent) parent.removeChild(el);
  // Put the nodes in order, moving only those that are out of place.
  let cursor: Node | null = parent.firstChild;
  for (const v of newC) {
    const el = v.el!;
    if (el === cursor) cursor = cursor.nextSibling;
    else parent.insertBefore(el, cursor);
  }
}

/** Renders `tree` into `root`, patching against the tree rendered last time. */
export function render(root: HTMLElement & { __v?: VChild[] }, tree: VChild[]): void {
  patchChildren(root, root.__v ?? [], tree);
  root.__v = tree;
}
