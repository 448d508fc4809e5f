// One user: per-user volume and local mute, their jitter buffer, moderation.
import { h, type VElement } from '../vdom.js';
import { invalidate, request, send, ui } from '../state.js';
import type { ClientSnapshot, UserSnapshot } from '../types.js';
import { atLeast, button, isSpeaking, ms, toggle, type Role } from '../util.js';
import { requestResults, type Widget } from './shared.js';

const DURATIONS: [string, number | null][] = [
  ['1 hour', 3600],
  ['1 day', 86400],
  ['1 week', 7 * 86400],
  ['30 days', 30 * 86400],
  ['Permanent', null],
];

function speakerStats(s: ClientSnapshot, u: UserSnapshot): VElement {
  const sp = s.voice.speakers.find((x) => x.sessionId === u.sessionId);
  if (!sp) return h('p', { class: 'muted' }, 'No voice received from this user yet.');
  return h(
    'dl',
    { class: 'kv', 'aria-label': `Jitter buffer of ${u.username}` },
    h('dt', null, 'Buffer depth / target'),
    h('dd', null, `${ms(sp.depthMs)} / ${ms(sp.targetMs)}`),
    h('dt', null, 'Jitter'),
    h('dd', null, ms(sp.jitterMs)),
    h('dt', null, 'Playout delay'),
    h('dd', null, ms(sp.playoutDelayMs)),
    h('dt', null, 'Received / late / lost'),
    h('dd', null, `${sp.received} / ${sp.late} / ${sp.lost}`),
    h('dt', null, 'Recovered (FEC) / concealed'),
    h('dd', null, `${sp.fecRecovered} / ${sp.concealed}`),
  );
}

export const usersW: Widget = (s, idp) => {
  const me = s.self;
  if (!me || !s.users.length) return h('p', { class: 'muted' }, 'Connect to see users.');
  const u = s.users.find((x) => x.sessionId === ui.selectedSession);
  const chooser = h(
    'div',
    { class: 'field' },
    h('label', { for: `${idp}-who` }, 'User'),
    h(
      'select',
      { id: `${idp}-who`, value: u ? String(u.sessionId) : '', on: { change: (e) => ((ui.selectedSession = Number((e.target as HTMLSelectElement).value) || null), invalidate()) } },
      h('option', { key: '', value: '' }, 'Choose a user…'),
      s.users
        .slice()
        .sort((a, b) => a.username.localeCompare(b.username))
        .map((x) => h('option', { key: x.sessionId, value: String(x.sessionId) }, `${x.username}${x.sessionId === me.sessionId ? ' (you)' : ''}`)),
    ),
  );
  // A kicked or banned user leaves the list; what happened to the request stays in view.
  if (!u) return h('div', { class: 'users-w' }, chooser, h('p', { class: 'muted' }, 'Pick a user here or in the channel list.'), requestResults(s, /^(kick|ban|server-mute|unmute) /));
  const isMe = u.sessionId === me.sessionId;
  const mod = atLeast(me.role as Role, 'moderator') && !isMe;
  const val = (n: string): string => (document.getElementById(`${idp}-${n}`) as HTMLInputElement | HTMLSelectElement | null)?.value ?? '';
  return h(
    'div',
    { class: 'users-w' },
    chooser,
    h('h3', null, u.username, isMe ? ' (you)' : '', ` — ${u.role}`, isSpeaking(s, u) ? h('span', { class: 'badge speaking' }, 'speaking') : null),
    isMe
      ? null
      : h(
          'div',
          { class: 'local' },
          h(
            'div',
            { class: 'meter-row' },
            h('label', { for: `${idp}-uvol` }, `Volume of ${u.username}`),
            h('input', { id: `${idp}-uvol`, type: 'range', min: 0, max: 200, step: 5, value: String(Math.round(u.volume * 100)), 'aria-valuetext': `${Math.round(u.volume * 100)} %`, on: { input: (e) => send({ type: 'user.volume', username: u.username, volume: Number((e.target as HTMLInputElement).value) / 100 }) } }),
            h('span', { class: 'num', 'aria-hidden': 'true' }, `${Math.round(u.volume * 100)} %`),
          ),
          h('label', { class: 'check' }, h('input', { type: 'checkbox', checked: u.localMuted, on: { change: (e) => send({ type: 'user.mute', username: u.username, muted: (e.target as HTMLInputElement).checked }) } }), ` Mute ${u.username} for me`),
        ),
    isMe ? null : speakerStats(s, u),
    mod
      ? h(
          'section',
          { class: 'moderate', 'aria-labelledby': `${idp}-mod-h` },
          h('h4', { id: `${idp}-mod-h` }, 'Moderation'),
          h('div', { class: 'field' }, h('label', { for: `${idp}-reason` }, 'Reason'), h('input', { id: `${idp}-reason`, autocomplete: 'off', maxlength: 500 })),
          h(
            'div',
            { class: 'field' },
            h('label', { for: `${idp}-dur` }, 'Ban duration'),
            h('select', { id: `${idp}-dur`, defaultValue: '86400' }, DURATIONS.map(([l, v]) => h('option', { key: l, value: v === null ? '' : String(v) }, l))),
          ),
          // Off: the account only, so others behind the same address (a household, a NAT) stay welcome.
          h('label', { class: 'check' }, h('input', { id: `${idp}-banip`, type: 'checkbox', defaultChecked: true }), ` Also ban ${u.username}'s IP address`),
          h(
            'div',
            { class: 'actions' },
            toggle(u.serverMute ? 'Remove server mute' : 'Server-mute', u.serverMute, () => request('user.serverMute', { sessionId: u.sessionId, muted: !u.serverMute }, `${u.serverMute ? 'unmute' : 'server-mute'} ${u.username}`), { 'aria-label': `Server-mute ${u.username}` }),
            button(`Kick ${u.username}`, () => request('user.kick', { sessionId: u.sessionId, reason: val('reason') }, `kick ${u.username}`), { class: 'danger' }),
            button(`Ban ${u.username}`, () => {
              const d = val('dur');
              const withIp = (document.getElementById(`${idp}-banip`) as HTMLInputElement | null)?.checked ?? true;
              const who = withIp ? { sessionId: u.sessionId } : { userId: u.userId };
              request('ban.add', { ...who, reason: val('reason'), ...(d ? { durationSeconds: Number(d) } : {}) }, `ban ${u.username}${withIp ? '' : ' (account only)'}`);
            }, { class: 'danger' }),
          ),
        )
      : null,
    requestResults(s, /^(kick|ban|server-mute|unmute) /),
  );
};
