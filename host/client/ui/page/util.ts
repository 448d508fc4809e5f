// Small helpers shared by the widgets.
import { h, type Handler, type Props, type VElement } from './vdom.js';
import type { ClientError, ClientSnapshot, UserSnapshot } from './types.js';

export type Role = 'guest' | 'member' | 'moderator' | 'admin';
const RANK: Record<Role, number> = { guest: 0, member: 1, moderator: 2, admin: 3 };
export function atLeast(role: Role | null | undefined, required: Role): boolean {
  return role ? RANK[role] >= RANK[required] : false;
}

export function button(label: string, onclick: Handler, props: Props = {}): VElement {
  return h('button', { type: 'button', ...props, on: { click: onclick, ...(props.on ?? {}) } }, label);
}

export function toggle(label: string, pressed: boolean, onclick: Handler, props: Props = {}): VElement {
  return h('button', { type: 'button', 'aria-pressed': pressed ? 'true' : 'false', class: pressed ? 'toggle on' : 'toggle', ...props, on: { click: onclick } }, label);
}

/** A labelled input: the label is a real <label for>, so the accessible name is the visible text. */
export function field(id: string, label: string, input: Props, hint?: string): VElement {
  return h(
    'div',
    { class: 'field' },
    h('label', { for: id }, label),
    h('input', { id, name: id.split('-').pop(), ...input, ...(hint ? { 'aria-describedby': `${id}-hint` } : {}) }),
    hint ? h('small', { id: `${id}-hint`, class: 'hint' }, hint) : null,
  );
}

export function db(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v) || v <= -120) return '−∞ dB';
  return `${v.toFixed(0)} dB`;
}

export function ms(v: number | null | undefined): string {
  return v === null || v === undefined ? '—' : `${Math.round(v)} ms`;
}

export function pct(v: number | null | undefined): string {
  return v === null || v === undefined ? '—' : `${v < 10 ? v.toFixed(1) : v.toFixed(0)} %`;
}

const whenCache = new Map<number, string>();
export function when(ts: number | null | undefined): string {
  if (!ts) return '';
  const hit = whenCache.get(ts);
  if (hit !== undefined) return hit;
  if (whenCache.size > 2000) whenCache.clear();
  const v = whenUncached(ts);
  whenCache.set(ts, v);
  return v;
}
// Formatters made once: toLocaleTimeString() builds one per call (a third of a millisecond).
const timeFormat = new Intl.DateTimeFormat([], { hour: '2-digit', minute: '2-digit' });
const dateFormat = new Intl.DateTimeFormat();
function whenUncached(ts: number): string {
  const d = new Date(ts);
  const today = new Date();
  const time = timeFormat.format(d);
  return d.toDateString() === today.toDateString() ? time : `${dateFormat.format(d)} ${time}`;
}

export function selfUser(s: ClientSnapshot): UserSnapshot | undefined {
  return s.self ? s.users.find((u) => u.sessionId === s.self!.sessionId) : undefined;
}

export function isSpeaking(s: ClientSnapshot, u: UserSnapshot): boolean {
  return u.speaking || s.speaking.includes(u.sessionId);
}

/** A person's words for an error: what happened and what to do. */
export function explain(e: ClientError): string {
  const d = e.details ?? {};
  switch (e.code) {
    case 'AUTH_FAILED':
      return 'Wrong username or password. Check them and connect again.';
    case 'BANNED': {
      const reason = typeof d.reason === 'string' && d.reason ? ` Reason: “${d.reason}”.` : '';
      const exp = typeof d.expiresAt === 'number' ? ` The ban ends ${new Date(d.expiresAt).toLocaleString()}.` : d.expiresAt === null ? ' The ban does not expire.' : '';
      return `You are banned from this server.${reason}${exp}`;
    }
    case 'KICKED':
      return `You were kicked from the server${typeof d.reason === 'string' && d.reason ? `: “${d.reason}”` : ''}. You can connect again.`;
    case 'CERT_CHANGED':
      return 'The server’s certificate changed since you last connected. Hearth refused to connect. See the certificate warning.';
    case 'SERVER_UNREACHABLE':
      return `The server cannot be reached. ${e.message}`;
    case 'SHUTDOWN':
      return 'The server shut down. Hearth reconnects when it is back.';
    case 'SESSION_REPLACED':
      return 'You connected from somewhere else; this session was closed.';
    case 'DEVICE_FAILED':
    case 'DEVICE_NOT_FOUND':
    case 'DEVICE_AMBIGUOUS':
    case 'DEVICE_UNAVAILABLE':
    case 'DEVICE_FORMAT':
      return `Audio device problem: ${e.message} Pick another device or reopen it under Devices.`;
    default:
      return e.message;
  }
}

export function describeDevice(s: ClientSnapshot['audio']['input']): string {
  if (!s) return 'none';
  return `${s.name || s.kind}${s.open ? '' : ' (closed)'}`;
}
