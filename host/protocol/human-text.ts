// Which characters a human-text field may hold (docs/PROTOCOL.md §4, "Human
// text"). Names and reasons end up on other people's screens and in the admin's
// terminal (`hearth ban list`, `channel list`, `user list`): an ESC, OSC or BEL
// there is a terminal command, a bidi override reorders what follows it, and an
// invisible format character makes two different names look the same. They are
// refused at input with INVALID_TEXT; the CLI also escapes whatever it prints
// (host/cli/output.ts), for rows written before this rule or by hand.
//
// Two kinds of field:
// - "line" (user and channel names, kick and ban reasons): no control character
//   at all (C0, DEL, C1, so no newline or tab either), no lone surrogate, no line
//   or paragraph separator, and no format character (Cf: bidi marks, embeddings,
//   overrides and isolates, soft hyphen, zero-width space, word joiner, BOM, tag
//   characters...) except ZWJ and ZWNJ, which emoji sequences and Persian or
//   Indic spelling need. Look-alikes built from ZWJ/ZWNJ are caught by the
//   confusable check (their skeleton drops them).
// - "text" (chat messages, channel descriptions): as "line" but newline and tab
//   are allowed, and of the format characters only the bidi embeddings,
//   overrides and isolates (U+202A-U+202E, U+2066-U+2069) are refused: they
//   carry state past the end of the field (the "Trojan Source" trick), whereas
//   the marks (LRM, RLM, ALM), ZWJ, soft hyphens and emoji tags are ordinary
//   parts of written text.
import { ProtocolError } from './errors.js';

export type HumanTextKind = 'line' | 'text';

const LINE_FORBIDDEN = /[\p{Cc}\p{Cs}\p{Zl}\p{Zp}]|(?![\u200C\u200D])\p{Cf}/u;
const TEXT_FORBIDDEN = /[\0-\x08\x0B-\x1F\x7F-\x9F\p{Cs}\p{Zl}\p{Zp}\u202A-\u202E\u2066-\u2069]/u;

/** The first forbidden code point of `value`, or null when it is clean. */
export function forbiddenCharacter(value: string, kind: HumanTextKind): number | null {
  const m = (kind === 'line' ? LINE_FORBIDDEN : TEXT_FORBIDDEN).exec(value);
  return m ? m[0].codePointAt(0)! : null;
}

/**
 * `value` with every character its kind of field may not hold removed. For text
 * the server did not get from a person and cannot refuse (a plugin's rewrite):
 * a person's input is refused instead, so they learn what was wrong.
 */
export function stripForbidden(value: string, kind: HumanTextKind): string {
  return value.replace(new RegExp((kind === 'line' ? LINE_FORBIDDEN : TEXT_FORBIDDEN).source, 'gu'), '');
}

export const codePointLabel = (cp: number): string => `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;

/**
 * Throws INVALID_TEXT when `value` holds a character its kind of field may not.
 * `field` names the field in the message and in details (e.g. "name", "reason").
 */
export function requireHumanText(value: string, field: string, kind: HumanTextKind): void {
  const cp = forbiddenCharacter(value, kind);
  if (cp === null) return;
  const what = kind === 'line' ? 'control, bidi or invisible format characters' : 'control characters (other than newline and tab) or bidi embeddings and overrides';
  throw new ProtocolError('INVALID_TEXT', `${field} may not contain ${what} (found ${codePointLabel(cp)})`, {
    field,
    codePoint: codePointLabel(cp),
  });
}
