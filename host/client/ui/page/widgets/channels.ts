// The channel tree with its users, speaking lights and channel management.
import { h, type VChild, type VElement } from '../vdom.js';
import { invalidate, request, send, ui } from '../state.js';
import type { ChannelView, ClientSnapshot, UserSnapshot } from '../types.js';
import { atLeast, button, selfUser, type Role } from '../util.js';
import { requestResults, type Widget } from './shared.js';

function channelChildren(channels: ChannelView[]): Map<number | null, ChannelView[]> {
  const m = new Map<number | null, ChannelView[]>();
  const ids = new Set(channels.map((c) => c.id));
  for (const c of channels) {
    const p = c.parentId !== null && ids.has(c.parentId) ? c.parentId : null;
    const list = m.get(p);
    if (list) list.push(c);
    else m.set(p, [c]);
  }
  for (const l of m.values()) l.sort((a, b) => a.position - b.position || a.name.localeCompare(b.name));
  return m;
}

function userIcons(u: UserSnapshot): VChild[] {
  // Text badges, not emoji: they need no font, and they read the same to everyone.
  const out: VChild[] = [];
  const tag = (text: string, cls: string): VElement => h('span', { class: `state ${cls}` }, text);
  if (u.serverMute) out.push(tag('server-muted', 'smute'));
  if (u.selfDeaf) out.push(tag('deafened', 'deaf'));
  else if (u.selfMute) out.push(tag('muted', 'mute'));
  if (u.localMuted) out.push(tag('muted by you', 'lmute'));
  return out;
}

const speakerIcon = (): VElement =>
  h('svg', { class: 'ch-icon', viewBox: '0 0 24 24', width: '14', height: '14', 'aria-hidden': 'true', focusable: 'false' }, h('path', { d: 'M3 9v6h4l5 5V4L7 9H3zm13.5 3A4.5 4.5 0 0 0 14 8v8a4.5 4.5 0 0 0 2.5-4z', fill: 'currentColor' }));

function manageForm(s: ClientSnapshot, ch: ChannelView, idp: string): VElement {
  const fid = `${idp}-m${ch.id}`;
  const val = (n: string): string => (document.getElementById(`${fid}-${n}`) as HTMLInputElement | HTMLSelectElement | null)?.value.trim() ?? '';
  const descendants = new Set<number>([ch.id]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const c of s.channels) if (c.parentId !== null && descendants.has(c.parentId) && !descendants.has(c.id)) (descendants.add(c.id), (grew = true));
  }
  const parents = s.channels.filter((c) => !descendants.has(c.id));
  const confirming = ui.confirmDelete === ch.id;
  return h(
    'div',
    { key: 'manage', class: 'manage', role: 'group', 'aria-label': `Manage channel ${ch.name}` },
    h(
      'form',
      { class: 'inline', on: { submit: (e) => (e.preventDefault(), val('name') && request('channel.edit', { channelId: ch.id, name: val('name') }, `rename ${ch.name} to ${val('name')}`)) } },
      h('label', { for: `${fid}-name` }, 'New name'),
      h('input', { id: `${fid}-name`, defaultValue: ch.name, autocomplete: 'off' }),
      h('button', { type: 'submit' }, 'Rename'),
    ),
    h(
      'form',
      { class: 'inline', on: { submit: (e) => (e.preventDefault(), val('sub') && request('channel.create', { parentId: ch.id, name: val('sub') }, `create ${val('sub')} in ${ch.name}`)) } },
      h('label', { for: `${fid}-sub` }, 'New sub-channel'),
      h('input', { id: `${fid}-sub`, autocomplete: 'off' }),
      h('button', { type: 'submit' }, 'Create'),
    ),
    ch.parentId !== null && parents.length
      ? h(
          'form',
          { class: 'inline', on: { submit: (e) => (e.preventDefault(), request('channel.move', { channelId: ch.id, parentId: Number(val('parent')) }, `move ${ch.name}`)) } },
          h('label', { for: `${fid}-parent` }, 'Move under'),
          h(
            'select',
            { id: `${fid}-parent`, defaultValue: String(ch.parentId) },
            parents.map((p) => h('option', { key: p.id, value: String(p.id) }, p.name)),
          ),
          h('button', { type: 'submit' }, 'Move'),
        )
      : null,
    ch.parentId !== null
      ? confirming
        ? h(
            'div',
            { class: 'inline', role: 'group', 'aria-label': 'Confirm delete' },
            h('span', null, `Delete “${ch.name}” and move its users to the parent?`),
            button('Yes, delete', () => ((ui.confirmDelete = null), (ui.manageChannel = null), request('channel.delete', { channelId: ch.id }, `delete ${ch.name}`)), { class: 'danger' }),
            button('Keep it', () => ((ui.confirmDelete = null), invalidate())),
          )
        : button(`Delete channel`, () => ((ui.confirmDelete = ch.id), invalidate()), { class: 'danger', 'aria-label': `Delete channel ${ch.name}` })
      : null,
  );
}

/** One channel-tree row per user, rebuilt only when what it shows changed. */
const userRows = new Map<string, { u: UserSnapshot; sp: boolean; isMe: boolean; picked: boolean; sig: string; v: VElement }>();
/** One channel (its row, users and sub-tree), reused when none of its parts changed. */
const channelItems = new Map<string, { parts: unknown[]; v: VElement }>();
/** One list of channels, reused when every channel in it was. */
const channelLists = new Map<string, { items: VElement[]; v: VElement }>();
const collator = new Intl.Collator();
const byName = (a: UserSnapshot, b: UserSnapshot): number => collator.compare(a.username, b.username);

function samePartsAs(a: unknown[] | undefined, b: unknown[]): boolean {
  if (!a || a.length !== b.length) return false;
  for (let i = 0; i < b.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function userRow(u: UserSnapshot, sp: boolean, isMe: boolean, idp: string): VElement {
  const picked = ui.selectedSession === u.sessionId;
  const hit = userRows.get(`${idp}:${u.sessionId}`);
  // The same user object (a patch left it alone) and the same light: nothing to do.
  if (hit && hit.u === u && hit.sp === sp && hit.isMe === isMe && hit.picked === picked) return hit.v;
  const sig = `${u.channelId}|${u.username}|${u.role}|${u.selfMute}|${u.selfDeaf}|${u.serverMute}|${u.localMuted}|${sp}|${isMe}|${picked}`;
  if (hit && hit.sig === sig) {
    hit.u = u;
    return hit.v;
  }
  const states = [sp ? 'speaking' : '', u.serverMute ? 'server-muted' : '', u.selfDeaf ? 'deafened' : u.selfMute ? 'muted' : '', u.localMuted ? 'muted by you' : ''].filter(Boolean).join(', ');
  const row = h(
    'li',
    { key: u.sessionId, class: `user${sp ? ' speaking' : ''}${isMe ? ' me' : ''}`, 'data-session': u.sessionId, 'data-speaking': sp ? 'true' : 'false' },
    h(
      'button',
      {
        type: 'button',
        class: 'user-btn',
        'aria-pressed': picked ? 'true' : 'false',
        'aria-label': `${u.username}${isMe ? ' (you)' : ''}${u.role === 'guest' || u.role === 'member' ? '' : `, ${u.role}`}${states ? `, ${states}` : ''}`,
        on: { click: () => ((ui.selectedSession = u.sessionId), invalidate()) },
      },
      h('span', { class: 'light', 'aria-hidden': 'true' }),
      u.username,
      isMe ? h('span', { class: 'muted', 'aria-hidden': 'true' }, ' (you)') : null,
      u.role === 'admin' || u.role === 'moderator' ? h('span', { class: 'badge', 'aria-hidden': 'true' }, u.role === 'admin' ? 'admin' : 'mod') : null,
    ),
    h('span', { class: 'icons', 'aria-hidden': 'true' }, userIcons(u)),
  );
  if (userRows.size > 5000) userRows.clear();
  userRows.set(`${idp}:${u.sessionId}`, { u, sp, isMe, picked, sig, v: row });
  return row;
}

/** The users sorted by name: the order is kept while nobody's name (or session) changes, so most frames sort nothing. */
let order: { names: string; ids: number[] } = { names: '', ids: [] };
function byNameOrder(users: UserSnapshot[]): UserSnapshot[] {
  let names = '';
  for (const u of users) names += `${u.sessionId}:${u.username}\n`;
  if (names !== order.names) order = { names, ids: users.slice().sort(byName).map((u) => u.sessionId) };
  const by = new Map<number, UserSnapshot>();
  for (const u of users) by.set(u.sessionId, u);
  return order.ids.map((id) => by.get(id)!);
}

export const channelsW: Widget = (s, idp) => {
  if (!s.channels.length) return h('p', { class: 'muted' }, s.connection.status === 'connected' ? 'No channels.' : 'Connect to a server to see its channels.');
  const kids = channelChildren(s.channels);
  const byChannel = new Map<number, UserSnapshot[]>();
  for (const u of byNameOrder(s.users)) {
    const l = byChannel.get(u.channelId);
    if (l) l.push(u);
    else byChannel.set(u.channelId, [u]);
  }
  const speaking = new Set(s.speaking);
  const me = s.self;
  const myChannel = selfUser(s)?.channelId;
  const canManage = atLeast(me?.role as Role | undefined, 'moderator');
  if (channelItems.size > 2000) channelItems.clear();
  if (channelLists.size > 2000) channelLists.clear();
  const tree = (parent: number | null, depth: number): VElement | null => {
    const list = kids.get(parent);
    if (!list) return null;
    const items = list.map((ch) => {
      const users = byChannel.get(ch.id) ?? [];
      const here = ch.id === myChannel;
      const canJoin = atLeast(me?.role as Role | undefined, ch.requiredRole as Role);
      const rows = users.map((u) => userRow(u, u.speaking || speaking.has(u.sessionId), u.sessionId === me?.sessionId, idp));
      const sub = tree(ch.id, depth + 1);
      const managing = canManage && ui.manageChannel === ch.id;
      // The manage form reads the live channel list and page state: never reused while open.
      const parts = managing ? [NaN] : [ch, here, canJoin, canManage, ui.manageChannel === ch.id, sub, ...rows];
      const ck = `${idp}:${ch.id}`;
      const hit = channelItems.get(ck);
      if (hit && samePartsAs(hit.parts, parts)) return hit.v;
      const v = h(
        'li',
        { key: ch.id, class: here ? 'channel here' : 'channel' },
        h(
          'div',
          { key: 'row', class: 'channel-row' },
          h(
            'button',
            {
              type: 'button',
              class: 'join',
              'aria-label': here ? `${ch.name}, your channel, ${users.length} ${users.length === 1 ? 'user' : 'users'}` : `Join ${ch.name}, ${users.length} ${users.length === 1 ? 'user' : 'users'}`,
              'aria-current': here ? 'true' : undefined,
              disabled: !canJoin && !here,
              title: ch.description || undefined,
              on: { click: () => !here && send({ type: 'join', channelId: ch.id }) },
            },
            ch.isVoice ? speakerIcon() : h('span', { class: 'ch-icon', 'aria-hidden': 'true' }, '#'),
            ' ',
            ch.name,
            users.length ? h('span', { class: 'count', 'aria-hidden': 'true' }, ` ${users.length}`) : null,
          ),
          canManage
            ? h(
                'button',
                {
                  type: 'button',
                  class: 'icon-btn',
                  'aria-label': `Manage ${ch.name}`,
                  'aria-expanded': ui.manageChannel === ch.id ? 'true' : 'false',
                  on: { click: () => ((ui.manageChannel = ui.manageChannel === ch.id ? null : ch.id), (ui.confirmDelete = null), invalidate()) },
                },
                '⚙',
              )
            : null,
        ),
        managing ? manageForm(s, ch, idp) : null,
        // Its height while it is off-screen and not drawn (content-visibility, app.css): one row per user.
        users.length ? h('ul', { key: `users-${ch.id}`, class: 'users', 'aria-label': `Users in ${ch.name}`, style: `contain-intrinsic-size:auto ${(users.length * 1.7).toFixed(1)}rem` }, rows) : null,
        sub,
      );
      channelItems.set(ck, { parts, v });
      return v;
    });
    const lk = `${idp}:${parent ?? 'root'}`;
    const hit = channelLists.get(lk);
    if (hit && samePartsAs(hit.items, items)) return hit.v;
    const v = h(
      'ul',
      // Keyed: a channel's optional parts (manage form, users list, sub-tree) come and go, and
      // unkeyed siblings are matched by position, which would patch one list into another
      // (and move cached user rows with it: users drawn twice or missing).
      { key: `tree-${parent ?? 'root'}`, class: depth === 0 ? 'tree' : 'tree sub', role: depth === 0 ? undefined : 'group' },
      items,
    );
    channelLists.set(lk, { items, v });
    return v;
  };
  return h('nav', { 'aria-label': 'Channels', class: 'channels' }, tree(null, 0), requestResults(s, /^(rename|create|move|delete) /));
};
