// What the widgets share: their signature, a form-field lookup, and the
// list of a widget's recent request results.
import { h, type Child, type VElement } from '../vdom.js';
import { ui } from '../state.js';
import type { ClientSnapshot } from '../types.js';

/** A widget draws from the newest snapshot; `idp` prefixes its element ids (its place in the layout). */
export type Widget = (s: ClientSnapshot, idp: string, dense: boolean) => Child;

export const input = (form: HTMLFormElement, name: string): HTMLInputElement | null => form.elements.namedItem(name) as HTMLInputElement | null;

/** The last three results of this widget's requests whose description matches `what`. */
export function requestResults(s: ClientSnapshot, what: RegExp): VElement | null {
  const recent = ui.requests.filter((r) => what.test(r.what)).slice(-3);
  const shown = recent.map((r) => ({ r, res: s.requests[r.tag] })).filter((x) => x.res || true);
  if (!shown.length) return null;
  return h(
    'ul',
    { class: 'plain results', role: 'status', 'aria-label': 'Results' },
    shown.map(({ r, res }) => h('li', { key: r.tag, class: res ? (res.ok ? 'ok' : 'err') : 'pending' }, res ? (res.ok ? `Done: ${r.what}.` : `Could not ${r.what}: ${res.error?.message ?? 'refused'}`) : `Working: ${r.what}…`)),
  );
}
