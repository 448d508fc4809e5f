// Snapshot patches between the core and the page (protocol.ts, "patch").
//
// The core sends the page a full snapshot once (on connect, and on a resync)
// and then, for each newer snapshot it sends, only how it differs from the one
// it sent before: the page applies each patch to its copy, in order. Watch
// semantics are unchanged: the core still sends only when the page's credit
// allows, and always diffs the NEWEST snapshot against the last one sent, so
// every state in between is skipped, never queued.
//
// A patch describes JSON values (what JSON.stringify would send): `undefined`
// object members are absent, non-finite numbers are null. Grammar:
//
//   Patch   := [value]                  replace with value (a 1-element array)
//            | [2, Item[]]              rebuild an array from the old one
//            | { key: Patch | 0, … }    patch an object: 0 deletes the key;
//                                       keys not named are unchanged
//   Item    := i                        the old array's item i, unchanged
//            | [i, n]                   old items i … i+n-1, unchanged
//            | {"i": i, "p": Patch}     old item i, patched
//            | {"v": value}             a new item
//
// Array items are matched by a stable id when every item of both arrays has a
// unique one (id, sessionId, token, pluginId, tag, key: users by session,
// channels and messages by id, speakers by voice token), else by position; so
// a message appended to a 200-message log is one new item and two runs of old
// ones, and a user who starts speaking is one patched field.
//
// applyPatch() builds new objects only along the changed paths: whatever did
// not change keeps its identity, which the page's widgets use to skip work.
// Pure (no Node, no DOM): the page bundles it too.

export type Patch = [unknown] | [2, Item[]] | { [key: string]: Patch | 0 };
export type Item = number | [number, number] | { i: number; p: Patch } | { v: unknown };

const KEYS = ['id', 'sessionId', 'token', 'pluginId', 'tag', 'key'];

function isPlain(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
  const p = Object.getPrototypeOf(v) as unknown;
  return p === Object.prototype || p === null;
}

/** The field that identifies every item of both arrays uniquely, or null (match by position). */
function keyField(a: unknown[], b: unknown[]): string | null {
  if (!a.length || !b.length) return null;
  const first = a[0];
  if (!isPlain(first)) return null;
  outer: for (const k of KEYS) {
    const t = typeof first[k];
    if (t !== 'number' && t !== 'string') continue;
    for (const arr of [a, b]) {
      const seen = new Set<unknown>();
      for (const x of arr) {
        if (!isPlain(x)) return null;
        const v = x[k];
        if (typeof v !== t || seen.has(v)) continue outer;
        seen.add(v);
      }
    }
    return k;
  }
  return null;
}

function json(v: unknown): string | undefined {
  return JSON.stringify(v);
}

/**
 * How `next` differs from `prev`, or undefined when they are the same JSON
 * value (identical objects are never looked into).
 */
export function diff(prev: unknown, next: unknown): Patch | undefined {
  if (prev === next) return undefined;
  // As JSON has them: NaN and ±Infinity are null.
  if (typeof next === 'number' && !Number.isFinite(next)) next = null;
  if (typeof prev === 'number' && !Number.isFinite(prev)) prev = null;
  if (prev === next) return undefined;
  if (Array.isArray(prev) && Array.isArray(next)) return diffArray(prev, next);
  if (isPlain(prev) && isPlain(next)) return diffObject(prev, next);
  if ((prev !== null && typeof prev === 'object') || (next !== null && typeof next === 'object')) {
    // Different kinds, or objects that are not plain (compared as JSON).
    if (Array.isArray(prev) !== Array.isArray(next) || isPlain(prev) !== isPlain(next)) return [next];
    return json(prev) === json(next) ? undefined : [next];
  }
  return [next];
}

function diffObject(prev: Record<string, unknown>, next: Record<string, unknown>): Patch | undefined {
  let out: Record<string, Patch | 0> | undefined;
  for (const k of Object.keys(next)) {
    const nv = next[k];
    const pv = prev[k];
    if (nv === undefined || typeof nv === 'function') {
      if (pv !== undefined && typeof pv !== 'function') (out ??= {})[k] = 0;
      continue;
    }
    const d = pv === undefined || typeof pv === 'function' ? ([nv] as Patch) : diff(pv, nv);
    if (d !== undefined) (out ??= {})[k] = d;
  }
  for (const k of Object.keys(prev)) {
    if (k in next) continue;
    const pv = prev[k];
    if (pv !== undefined && typeof pv !== 'function') (out ??= {})[k] = 0;
  }
  return out;
}

function diffArray(prev: unknown[], next: unknown[]): Patch | undefined {
  if (prev.length === next.length) {
    let same = true;
    for (let i = 0; i < next.length; i++) if (prev[i] !== next[i]) { same = false; break; }
    if (same) return undefined;
  }
  const key = keyField(prev, next);
  let index: Map<unknown, number> | null = null;
  if (key) {
    index = new Map();
    for (let i = 0; i < prev.length; i++) index.set((prev[i] as Record<string, unknown>)[key], i);
  } else if (next.length && next.every((x) => x === null || typeof x !== 'object') && prev.every((x) => x === null || typeof x !== 'object')) {
    // Primitives (a list of session ids): equal, or replaced whole.
    return prev.length === next.length && prev.every((x, i) => x === next[i] || json(x) === json(next[i])) ? undefined : [next];
  }
  const items: Item[] = [];
  let runStart = -1;
  let runLen = 0;
  const flush = (): void => {
    if (runLen === 1) items.push(runStart);
    else if (runLen > 1) items.push([runStart, runLen]);
    runLen = 0;
  };
  let changed = prev.length !== next.length;
  for (let j = 0; j < next.length; j++) {
    const nv = next[j];
    const i = index ? index.get((nv as Record<string, unknown>)[key!]) : j < prev.length ? j : undefined;
    if (i === undefined) {
      flush();
      changed = true;
      items.push({ v: nv === undefined || typeof nv === 'function' ? null : nv });
      continue;
    }
    const d = nv === undefined || typeof nv === 'function' ? (prev[i] === null ? undefined : ([null] as Patch)) : diff(prev[i], nv);
    if (d !== undefined) {
      flush();
      changed = true;
      items.push({ i, p: d });
      continue;
    }
    if (i !== j) changed = true;
    if (runLen && runStart + runLen === i) runLen++;
    else {
      flush();
      runStart = i;
      runLen = 1;
    }
  }
  flush();
  return changed ? [2, items] : undefined;
}

export class PatchError extends Error {}

/** `prev` with `patch` applied; unchanged parts keep their identity. Throws PatchError on a patch that does not fit. */
export function applyPatch(prev: unknown, patch: Patch): unknown {
  if (Array.isArray(patch)) {
    if (patch.length === 1) return patch[0];
    if (patch.length === 2 && patch[0] === 2 && Array.isArray(patch[1])) {
      if (!Array.isArray(prev)) throw new PatchError('an array patch on a non-array');
      const out: unknown[] = [];
      for (const it of patch[1] as unknown[]) {
        if (typeof it === 'number') {
          if (!(it >= 0 && it < prev.length)) throw new PatchError('item out of range');
          out.push(prev[it]);
        } else if (Array.isArray(it)) {
          const [s, n] = it as [number, number];
          if (!(s >= 0 && n >= 0 && s + n <= prev.length)) throw new PatchError('run out of range');
          for (let k = s; k < s + n; k++) out.push(prev[k]);
        } else if (it && typeof it === 'object' && 'v' in it) out.push((it as { v: unknown }).v);
        else if (it && typeof it === 'object' && 'i' in it) {
          const { i, p } = it as { i: number; p: Patch };
          if (!(i >= 0 && i < prev.length)) throw new PatchError('item out of range');
          out.push(applyPatch(prev[i], p));
        } else throw new PatchError('bad item');
      }
      return out;
    }
    throw new PatchError('bad patch');
  }
  if (patch === null || typeof patch !== 'object') throw new PatchError('bad patch');
  if (!isPlain(prev)) throw new PatchError('an object patch on a non-object');
  const out: Record<string, unknown> = { ...prev };
  for (const k of Object.keys(patch)) {
    const p = patch[k]!;
    if (p === 0) delete out[k];
    else out[k] = applyPatch(prev[k], p);
  }
  return out;
}

/**
 * `next`, sharing every part that equals `prev`'s (same JSON) with `prev`: a
 * full snapshot made to keep the identities of what did not change.
 */
export function share<T>(prev: T, next: T): T {
  const d = diff(prev, next);
  return d === undefined ? prev : (applyPatch(prev, d) as T);
}
