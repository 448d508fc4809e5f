// Look-alike detection for names (UTS #39 "Unicode Security Mechanisms", section
// 4, Confusable Detection), from Unicode's own confusables.txt (generated into
// confusables-data.ts by scripts/gen-confusables.mjs), never a hand-made table.
// It lives in the protocol layer, next to roles.ts, because the database (the
// stored account key), the server (channel names) and the admin CLI all use it.
//
// skeleton(X), as UTS #39 defines it:
//   1. NFD(X);
//   2. remove every Default_Ignorable_Code_Point (ZWJ, soft hyphen, variation
//      selectors...: invisible, so "bo\u00ADss" must collide with "boss");
//   3. replace each code point by its prototype from confusables.txt;
//   4. NFD again.
// Two strings are confusable when their skeletons are equal. The skeleton is an
// internal comparison key only: it is never shown (it mixes scripts freely).
//
// Hearth's names are case-insensitive, which UTS #39's skeleton is not, and
// case and confusables pull apart: "I" looks like "l" (its prototype) but folds
// to "i", while Greek "Α" in "ΑLICE" only meets "alice" after folding. So a name
// has two keys, and two names clash when they share one:
//   - skeleton(fold(skeleton(name))): the name as shown, then case-folded
//     ("PayPaI" meets "PayPal", "B0SS" meets "boss");
//   - skeleton(fold(name)): case-folded first ("ΑLICE" meets "alice").
// JavaScript has no full case folding; toUpperCase().toLowerCase() is the usual
// approximation (it folds "ß" to "ss" and final sigma to sigma).
import { CONFUSABLES_DATA, CONFUSABLES_UNICODE_VERSION } from './confusables-data.js';

export { CONFUSABLES_UNICODE_VERSION };

let table: Map<number, string> | null = null;

/** Parsed on first use: 6.5k entries, a few milliseconds. */
function prototypes(): Map<number, string> {
  if (table) return table;
  const map = new Map<number, string>();
  for (const line of CONFUSABLES_DATA.split('\n')) {
    if (line === '') continue;
    const colon = line.indexOf(':');
    const proto = String.fromCodePoint(...line.slice(0, colon).split(' ').map((h) => parseInt(h, 16)));
    for (const src of line.slice(colon + 1).split(',')) map.set(parseInt(src, 16), proto);
  }
  table = map;
  return map;
}

const IGNORABLE = /\p{Default_Ignorable_Code_Point}/gu;

/** The UTS #39 skeleton of `text`. */
export function skeleton(text: string): string {
  const map = prototypes();
  let out = '';
  for (const ch of text.normalize('NFD').replace(IGNORABLE, '')) {
    out += map.get(ch.codePointAt(0)!) ?? ch;
  }
  return out.normalize('NFD');
}

const fold = (s: string): string => s.toUpperCase().toLowerCase();

/**
 * The comparison keys of a user or channel name (see above): two names look
 * alike, or differ only in case, when they share a key. Stored for accounts
 * (users.username_skeleton and users.username_skeleton_folded).
 */
export function nameKeys(name: string): [shown: string, folded: string] {
  return [skeleton(fold(skeleton(name))), skeleton(fold(name))];
}

export function confusable(a: string, b: string): boolean {
  const ka = nameKeys(a);
  return nameKeys(b).some((k) => ka.includes(k));
}
