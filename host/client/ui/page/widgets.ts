// The widgets named in components.ts WIDGETS. Each reads the newest snapshot
// and sends actions; none keeps a copy of core state. Ids are prefixed with
// the widget's place in the layout, so a layout may show a widget twice.
import { h, type Child, type VChild, type VElement } from './vdom.js';
import { invalidate, request, send, store, ui } from './state.js';
import type { ChannelView, ChatMessageView, ClientSnapshot, UserSnapshot, WidgetName } from './types.js';
import { atLeast, button, db, describeDevice, explain, field, isSpeaking, ms, pct, selfUser, toggle, when, type Role } from './util.js';

type Widget = (s: ClientSnapshot, idp: string, dense: boolean) => Child;

const input = (form: HTMLFormElement, name: string): HTMLInputElement | null => form.elements.namedItem(name) as HTMLInputElement | null;

// ---------------------------------------------------------------------------
// connect

function fillConnectForm(idp: string, sv: { id: string; label: string; host: string; port: number; username: string }): void {
  ui.formServerId = sv.id;
  invalidate();
  const form = document.getElementById(`${idp}-form`) as HTMLFormElement | null;
  if (!form) return;
  for (const [k, v] of Object.entries({ label: sv.label, host: sv.host, port: String(sv.port), username: sv.username })) {
    const el = input(form, k);
    if (el) el.value = v;
  }
  const pw = input(form, 'password');
  pw?.focus();
}

const connectW: Widget = (s, idp) => {
  const st = s.connection.status;
  const live = st === 'connected' || st === 'connecting' || st === 'reconnecting';
  const saved = s.servers?.list ?? [];
  const last = s.servers?.lastServerId ?? null;
  const onSubmit = (ev: Event): void => {
    ev.preventDefault();
    const form = ev.currentTarget as HTMLFormElement;
    const v = (n: string): string => input(form, n)?.value.trim() ?? '';
    const host = v('host');
    const port = Number(v('port') || '64738');
    const username = v('username');
    const password = input(form, 'password')?.value ?? '';
    if (!host || !username || !password || !Number.isInteger(port) || port < 1 || port > 65535) {
      const bad = !host ? 'host' : !Number.isInteger(port) || port < 1 || port > 65535 ? 'port' : !username ? 'username' : 'password';
      input(form, bad)?.focus();
      input(form, bad)?.setAttribute('aria-invalid', 'true');
      return;
    }
    for (const n of ['host', 'port', 'username', 'password']) input(form, n)?.removeAttribute('aria-invalid');
    const token = v('token');
    const register = ui.registerMode === 'invite' ? { invite: token } : ui.registerMode === 'bootstrap' ? { bootstrapToken: token } : undefined;
    if (input(form, 'save')?.checked) {
      const remember = !!input(form, 'remember')?.checked;
      const sameEntry = saved.find((x) => x.id === ui.formServerId && x.host === host && x.port === port && x.username === username);
      send({ type: 'servers.save', ...(sameEntry ? { id: sameEntry.id } : {}), label: v('label') || host, host, port, username, ...(remember ? { password } : {}), rememberPassword: remember });
    }
    send({ type: 'connect', server: { host, port }, username, password, ...(register ? { register } : {}) });
  };
  const mode = (m: typeof ui.registerMode, label: string): VElement =>
    h(
      'label',
      { class: 'radio' },
      h('input', { type: 'radio', name: `${idp}-account`, value: m, checked: ui.registerMode === m, on: { change: () => ((ui.registerMode = m), invalidate()) } }),
      ' ',
      label,
    );
  return [
    live
      ? h('p', { class: 'connected-note' }, `${st === 'connected' ? 'Connected to' : st === 'connecting' ? 'Connecting to' : 'Reconnecting to'} ${s.connection.server?.name ?? s.connection.server?.host ?? ''} as ${s.connection.username ?? ''}. `, button('Disconnect', () => send({ type: 'disconnect' })))
      : null,
    saved.length
      ? h(
          'section',
          { 'aria-labelledby': `${idp}-saved-h`, class: 'saved' },
          h('h3', { id: `${idp}-saved-h` }, 'Saved servers'),
          h(
            'ul',
            { class: 'plain' },
            saved.slice().sort((a, b) => (a.id === last ? -1 : b.id === last ? 1 : a.label.localeCompare(b.label))).map((sv) =>
              h(
                'li',
                { key: sv.id, class: 'saved-server' },
                h(
                  'span',
                  { class: 'grow' },
                  h('strong', null, sv.label || sv.host),
                  ' ',
                  h('span', { class: 'muted' }, `${sv.username}@${sv.host}:${sv.port}${sv.id === last ? ' · last used' : ''}`),
                  h('br'),
                  h('span', { class: 'small muted' }, sv.pinnedFingerprint ? ['Certificate pinned: ', h('code', { title: sv.pinnedFingerprint }, `${sv.pinnedFingerprint.slice(0, 23)}…`)] : 'No certificate pinned yet: the first connect shows it for you to check.'),
                ),
                sv.hasPassword
                  ? button('Connect', () => send({ type: 'servers.connect', serverId: sv.id }), { 'aria-label': `Connect to ${sv.label || sv.host}` })
                  : button('Use', () => fillConnectForm(idp, sv), { 'aria-label': `Fill the form with ${sv.label || sv.host}` }),
                sv.pinnedFingerprint
                  ? button('Forget certificate', () => send({ type: 'trust.forget', hostKey: `${sv.host}:${sv.port}` }), { 'aria-label': `Forget the pinned certificate of ${sv.label || sv.host}` })
                  : null,
                button('Remove', () => send({ type: 'servers.remove', id: sv.id }), { 'aria-label': `Remove saved server ${sv.label || sv.host}` }),
              ),
            ),
          ),
        )
      : null,
    h(
      'form',
      // Keyed: the saved-servers list appearing above it must not make the renderer rebuild the form (and lose what was typed).
      { key: 'connect-form', id: `${idp}-form`, class: 'connect-form', 'aria-label': 'Connect to a server', novalidate: true, on: { submit: onSubmit } },
      h(
        'div',
        { class: 'row-fields' },
        field(`${idp}-host`, 'Server address', { autocomplete: 'off', required: true, placeholder: 'voice.example.org', spellcheck: 'false' }),
        field(`${idp}-port`, 'Port', { type: 'number', min: 1, max: 65535, defaultValue: '64738', class: 'port', required: true }),
      ),
      h(
        'div',
        { class: 'row-fields' },
        field(`${idp}-username`, 'Username', { autocomplete: 'username', required: true, spellcheck: 'false' }),
        field(`${idp}-password`, 'Password', { type: 'password', autocomplete: 'current-password', required: true }),
      ),
      h(
        'fieldset',
        { class: 'account' },
        h('legend', null, 'Account'),
        mode('login', 'I have an account'),
        mode('invite', 'Register with an invite'),
        mode('bootstrap', 'Register the first admin (bootstrap token)'),
        ui.registerMode !== 'login' ? field(`${idp}-token`, ui.registerMode === 'invite' ? 'Invite code' : 'Bootstrap token', { autocomplete: 'off', spellcheck: 'false' }, ui.registerMode === 'bootstrap' ? 'The server printed it at its first start.' : undefined) : null,
      ),
      h(
        'div',
        { class: 'row-fields checks' },
        h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'save', checked: true }), ' Save this server'),
        h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'remember' }), ' Remember the password'),
        field(`${idp}-label`, 'Name (optional)', { autocomplete: 'off' }),
      ),
      h('button', { type: 'submit', class: 'primary' }, ui.registerMode === 'login' ? 'Connect' : 'Register and connect'),
    ),
  ];
};

// ---------------------------------------------------------------------------
// certificate

const certificateW: Widget = (s, idp) => {
  const c = s.connection.certificate;
  if (!c) return h('p', { class: 'muted' }, s.connection.fingerprint ? `Server certificate: ${s.connection.fingerprint}` : 'No certificate decision is needed.');
  const accept = (): void => send({ type: 'trust.accept', hostKey: c.hostKey, fingerprint: c.offered });
  const cancel = (): void => {
    ui.dismissedCert = `${c.hostKey}|${c.offered}`;
    send({ type: 'disconnect' });
  };
  if (c.changed) {
    return h(
      'div',
      { class: 'cert changed', role: 'alert', 'aria-labelledby': `${idp}-cert-h` },
      h('h3', { id: `${idp}-cert-h` }, '⚠ Warning: the server’s certificate has CHANGED — connection refused'),
      h('p', null, `The server at ${c.hostKey} presented a different certificate from the one you trusted before. This can mean someone is intercepting the connection (a man-in-the-middle attack). It can also mean the server’s administrator replaced the certificate. Ask the administrator before you accept.`),
      h('dl', { class: 'fp' }, h('dt', null, 'Trusted (pinned)'), h('dd', null, h('code', null, c.pinned ?? 'none')), h('dt', null, 'Offered now'), h('dd', null, h('code', null, c.offered))),
      h('div', { class: 'actions' }, button('Do not connect', cancel, { class: 'primary' }), button('I checked it: trust the new certificate and connect', accept, { class: 'danger' })),
    );
  }
  return h(
    'div',
    { class: 'cert first', role: 'alertdialog', 'aria-labelledby': `${idp}-cert-h`, 'aria-describedby': `${idp}-cert-d` },
    h('h3', { id: `${idp}-cert-h` }, 'First connection to this server'),
    h('p', { id: `${idp}-cert-d` }, `Check that this fingerprint is the one the server’s administrator gave you for ${c.hostKey}. Hearth will remember it and warn you if it ever changes.`),
    h('p', null, h('code', { class: 'fp' }, c.offered)),
    h('div', { class: 'actions' }, button('Accept and connect', accept, { class: 'primary' }), button('Cancel', cancel)),
  );
};

// ---------------------------------------------------------------------------
// connection

const STATUS_TEXT: Record<string, string> = { disconnected: 'Not connected', connecting: 'Connecting…', connected: 'Connected', reconnecting: 'Reconnecting', failed: 'Connection failed' };

const connectionW: Widget = (s, _idp, dense) => {
  const c = s.connection;
  const retry = c.status === 'reconnecting' && c.nextRetryAt ? Math.max(0, Math.ceil((c.nextRetryAt - Date.now()) / 1000)) : null;
  const statusText = `${STATUS_TEXT[c.status] ?? c.status}${retry !== null ? ` — next try in ${retry} s (attempt ${c.attempt})` : ''}`;
  return h(
    'div',
    { class: `connection status-${c.status}` },
    h('p', { role: 'status', class: 'status-line' }, h('span', { class: 'dot', 'aria-hidden': 'true' }), ' ', statusText, c.error && c.status === 'failed' ? ` — ${explain(c.error)}` : ''),
    c.server
      ? h(
          'dl',
          { class: dense ? 'kv dense' : 'kv' },
          h('dt', null, 'Server'),
          h('dd', null, `${c.server.name ?? c.server.host} (${c.server.host}:${c.server.port})`),
          h('dt', null, 'User'),
          h('dd', null, `${c.username ?? '—'}${s.self ? ` (${s.self.role})` : ''}`),
          c.status === 'connected'
            ? [
                h('dt', null, 'Ping'),
                h('dd', null, ms(s.voice.rttMs)),
                h('dt', null, 'Packet loss'),
                h('dd', null, `${pct(s.voice.lossPercent)} in, ${pct(s.voice.listenerLossPercent)} out`),
                h('dt', null, 'Voice'),
                h('dd', null, s.voice.mode === 'udp' ? 'UDP' : s.voice.mode === 'tcp' ? 'TLS fallback' : 'off'),
              ]
            : null,
        )
      : null,
    c.status === 'connected' || c.status === 'connecting' || c.status === 'reconnecting' ? button(c.status === 'reconnecting' ? 'Stop reconnecting' : 'Disconnect', () => send({ type: 'disconnect' })) : null,
  );
};

// ---------------------------------------------------------------------------
// channels

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
const userRows = new Map<string, { sig: string; v: VElement }>();

const channelsW: Widget = (s, idp) => {
  if (!s.channels.length) return h('p', { class: 'muted' }, s.connection.status === 'connected' ? 'No channels.' : 'Connect to a server to see its channels.');
  const kids = channelChildren(s.channels);
  const byChannel = new Map<number, UserSnapshot[]>();
  for (const u of s.users) {
    const l = byChannel.get(u.channelId);
    if (l) l.push(u);
    else byChannel.set(u.channelId, [u]);
  }
  const me = s.self;
  const myChannel = selfUser(s)?.channelId;
  const canManage = atLeast(me?.role as Role | undefined, 'moderator');
  const tree = (parent: number | null, depth: number): VElement | null => {
    const list = kids.get(parent);
    if (!list) return null;
    return h(
      'ul',
      // Keyed: a channel's optional parts (manage form, users list, sub-tree) come and go, and
      // unkeyed siblings are matched by position, which would patch one list into another
      // (and move cached user rows with it: users drawn twice or missing).
      { key: `tree-${parent ?? 'root'}`, class: depth === 0 ? 'tree' : 'tree sub', role: depth === 0 ? undefined : 'group' },
      list.map((ch) => {
        const users = (byChannel.get(ch.id) ?? []).slice().sort((a, b) => a.username.localeCompare(b.username));
        const here = ch.id === myChannel;
        const canJoin = atLeast(me?.role as Role | undefined, ch.requiredRole as Role);
        return h(
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
          canManage && ui.manageChannel === ch.id ? manageForm(s, ch, idp) : null,
          users.length
            ? h(
                'ul',
                { key: `users-${ch.id}`, class: 'users', 'aria-label': `Users in ${ch.name}` },
                users.map((u) => {
                  const sp = isSpeaking(s, u);
                  const isMe = u.sessionId === me?.sessionId;
                  const sig = `${u.channelId}|${u.username}|${u.role}|${u.selfMute}|${u.selfDeaf}|${u.serverMute}|${u.localMuted}|${sp}|${isMe}|${ui.selectedSession === u.sessionId}`;
                  const hit = userRows.get(`${idp}:${u.sessionId}`);
                  if (hit && hit.sig === sig) return hit.v;
                  const states = [sp ? 'speaking' : '', u.serverMute ? 'server-muted' : '', u.selfDeaf ? 'deafened' : u.selfMute ? 'muted' : '', u.localMuted ? 'muted by you' : ''].filter(Boolean).join(', ');
                  const row = h(
                    'li',
                    { key: u.sessionId, class: `user${sp ? ' speaking' : ''}${isMe ? ' me' : ''}`, 'data-session': u.sessionId, 'data-speaking': sp ? 'true' : 'false' },
                    h(
                      'button',
                      {
                        type: 'button',
                        class: 'user-btn',
                        'aria-pressed': ui.selectedSession === u.sessionId ? 'true' : 'false',
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
                  userRows.set(`${idp}:${u.sessionId}`, { sig, v: row });
                  return row;
                }),
              )
            : null,
          tree(ch.id, depth + 1),
        );
      }),
    );
  };
  return h('nav', { 'aria-label': 'Channels', class: 'channels' }, tree(null, 0), requestResults(s, /^(rename|create|move|delete) /));
};

function requestResults(s: ClientSnapshot, what: RegExp): VElement | null {
  const recent = ui.requests.filter((r) => what.test(r.what)).slice(-3);
  const shown = recent.map((r) => ({ r, res: s.requests[r.tag] })).filter((x) => x.res || true);
  if (!shown.length) return null;
  return h(
    'ul',
    { class: 'plain results', role: 'status', 'aria-label': 'Results' },
    shown.map(({ r, res }) => h('li', { key: r.tag, class: res ? (res.ok ? 'ok' : 'err') : 'pending' }, res ? (res.ok ? `Done: ${r.what}.` : `Could not ${r.what}: ${res.error?.message ?? 'refused'}`) : `Working: ${r.what}…`)),
  );
}

// ---------------------------------------------------------------------------
// chat

function chatLogHook(el: HTMLElement, created: boolean): void {
  const st = el as HTMLElement & { __last?: string; __stick?: boolean };
  const last = el.lastElementChild?.getAttribute('data-id') ?? '';
  if (created || st.__last !== last) {
    if (created || st.__stick !== false) el.scrollTop = el.scrollHeight;
    st.__last = last;
  }
}

const chatW: Widget = (s, idp) => {
  const me = s.self;
  const mine = selfUser(s);
  if (!me || !mine) return h('p', { class: 'muted' }, 'Connect and join a channel to chat.');
  const channel = s.channels.find((c) => c.id === mine.channelId);
  const others = new Map<number, string>();
  for (const u of s.users) if (u.userId !== me.userId) others.set(u.userId, u.username);
  for (const m of s.chat) {
    if (m.recipientId !== null) {
      const other = m.senderId === me.userId ? m.recipientId : m.senderId;
      if (other !== null && !others.has(other)) others.set(other, m.senderId === me.userId ? `user ${other}` : m.senderName);
    }
  }
  const target = ui.chatTarget !== 'channel' && others.has(ui.chatTarget) ? ui.chatTarget : 'channel';
  const msgs: ChatMessageView[] =
    target === 'channel'
      ? s.chat.filter((m) => m.recipientId === null && m.channelId === mine.channelId)
      : s.chat.filter((m) => m.recipientId !== null && ((m.senderId === me.userId && m.recipientId === target) || (m.senderId === target && m.recipientId === me.userId)));
  const targetName = target === 'channel' ? `#${channel?.name ?? 'channel'}` : (others.get(target) ?? '');
  const onSend = (e: Event): void => {
    e.preventDefault();
    const form = e.currentTarget as HTMLFormElement;
    const el = input(form, 'text');
    const text = el?.value.trim() ?? '';
    if (!text || !el) return;
    if (target === 'channel') send({ type: 'chat.send', channelId: mine.channelId, text });
    else send({ type: 'chat.direct', userId: target, text });
    el.value = '';
  };
  const oldest = msgs[0]?.id;
  return h(
    'div',
    { class: 'chat' },
    h(
      'div',
      { class: 'chat-head' },
      h('label', { for: `${idp}-to` }, 'Conversation'),
      h(
        'select',
        { id: `${idp}-to`, value: String(target), on: { change: (e) => ((ui.chatTarget = (e.target as HTMLSelectElement).value === 'channel' ? 'channel' : Number((e.target as HTMLSelectElement).value)), invalidate()) } },
        h('option', { key: 'channel', value: 'channel' }, `Channel: ${channel?.name ?? ''}`),
        [...others].sort((a, b) => a[1].localeCompare(b[1])).map(([id, name]) => h('option', { key: id, value: String(id) }, `Direct: ${name}`)),
      ),
      target === 'channel' ? button('Load older messages', () => send({ type: 'chat.history', channelId: mine.channelId, ...(oldest ? { beforeId: oldest } : {}), limit: 50 })) : null,
    ),
    h(
      'ol',
      {
        class: 'chat-log',
        role: 'log',
        'aria-live': 'polite',
        'aria-label': `Messages in ${targetName}`,
        tabindex: 0,
        hook: chatLogHook,
        on: { scroll: (e) => { const el = e.currentTarget as HTMLElement & { __stick?: boolean }; el.__stick = el.scrollHeight - el.scrollTop - el.clientHeight < 30; } },
      },
      msgs.length ? null : h('li', { key: 'empty', class: 'muted' }, target === 'channel' ? 'No messages in this channel yet.' : 'No direct messages yet.'),
      msgs.map((m) =>
        h(
          'li',
          { key: m.id, 'data-id': String(m.id), class: m.senderId === me.userId ? 'msg mine' : 'msg' },
          h('span', { class: 'who' }, m.senderName),
          ' ',
          h('time', { datetime: new Date(m.createdAt).toISOString(), class: 'muted' }, when(m.createdAt)),
          h('div', { class: 'text' }, m.text),
        ),
      ),
    ),
    h(
      'form',
      { class: 'chat-send', on: { submit: onSend } },
      h('label', { for: `${idp}-text`, class: 'sr-only' }, `Message to ${targetName}`),
      h('input', { id: `${idp}-text`, name: 'text', autocomplete: 'off', placeholder: `Message ${targetName}`, maxlength: 5000 }),
      h('button', { type: 'submit' }, 'Send'),
    ),
  );
};

// ---------------------------------------------------------------------------
// voice

export function keyName(code: string): string {
  return code.replace(/^Key/, '').replace(/^Digit/, '').replace(/Left$|Right$/, (m) => ` (${m.toLowerCase()})`);
}

export function isPttKey(e: KeyboardEvent): boolean {
  return e.code === (store.snapshot?.pttKey ?? ui.pttKey);
}

const voiceW: Widget = (s, idp, dense) => {
  const a = s.audio;
  const setMode = (mode: 'vad' | 'ptt' | 'continuous') => send({ type: 'voice.mode', mode, thresholdDb: a.thresholdDb });
  const lvl = Math.max(-90, Math.min(0, a.inputLevelDb));
  const radio = (m: 'vad' | 'ptt' | 'continuous', label: string): VElement =>
    h('label', { class: 'radio' }, h('input', { type: 'radio', name: `${idp}-mode`, value: m, checked: a.mode === m, on: { change: () => setMode(m) } }), ' ', label);
  return h(
    'div',
    { class: 'voice' },
    h(
      'div',
      { class: 'actions' },
      toggle(a.selfMute ? 'Unmute' : 'Mute', a.selfMute, () => send({ type: 'self.mute', on: !a.selfMute }), { 'aria-label': 'Mute microphone', class: a.selfMute ? 'toggle on warn' : 'toggle' }),
      toggle(a.selfDeaf ? 'Undeafen' : 'Deafen', a.selfDeaf, () => send({ type: 'self.deaf', on: !a.selfDeaf }), { 'aria-label': 'Deafen (hear nothing)', class: a.selfDeaf ? 'toggle on warn' : 'toggle' }),
      h('span', { class: a.transmitting ? 'tx on' : 'tx', role: 'status' }, a.transmitting ? '● Sending voice' : '○ Not sending'),
    ),
    h('fieldset', { class: 'modes' }, h('legend', null, 'Transmit'), radio('vad', 'When I speak (voice activation)'), radio('ptt', 'Push to talk'), radio('continuous', 'Always (continuous)')),
    h(
      'div',
      { class: 'meter-row' },
      h('label', { for: `${idp}-level` }, 'Input level'),
      h('meter', { id: `${idp}-level`, min: -90, max: 0, low: a.thresholdDb, high: -6, optimum: -20, value: lvl.toFixed(1), 'aria-valuetext': db(a.inputLevelDb) }),
      h('span', { class: 'num', 'aria-hidden': 'true' }, db(a.inputLevelDb)),
    ),
    a.mode === 'vad'
      ? h(
          'div',
          { class: 'meter-row' },
          h('label', { for: `${idp}-thr` }, 'Speak threshold'),
          h('input', {
            id: `${idp}-thr`,
            type: 'range',
            min: -90,
            max: 0,
            step: 1,
            value: String(Math.round(a.thresholdDb)),
            'aria-valuetext': `${Math.round(a.thresholdDb)} dB`,
            on: { input: (e) => send({ type: 'voice.mode', mode: 'vad', thresholdDb: Number((e.target as HTMLInputElement).value) }) },
          }),
          h('span', { class: 'num', 'aria-hidden': 'true' }, `${Math.round(a.thresholdDb)} dB`),
        )
      : null,
    a.mode === 'ptt'
      ? h(
          'div',
          { class: 'ptt' },
          h(
            'button',
            {
              type: 'button',
              class: a.pttDown ? 'ptt-btn on' : 'ptt-btn',
              'aria-pressed': a.pttDown ? 'true' : 'false',
              on: {
                pointerdown: () => send({ type: 'ptt', down: true }),
                pointerup: () => send({ type: 'ptt', down: false }),
                pointerleave: () => a.pttDown && send({ type: 'ptt', down: false }),
              },
            },
            'Hold to talk',
          ),
          h(
            'span',
            { class: 'muted' },
            ui.capturingKey ? 'Press the key to use (Escape cancels)…' : `Key: ${keyName(s.pttKey ?? ui.pttKey)} (works while this window has focus) `,
          ),
          button(ui.capturingKey ? 'Cancel' : 'Change key', () => ((ui.capturingKey = !ui.capturingKey), invalidate()), { 'aria-label': ui.capturingKey ? 'Cancel choosing a push-to-talk key' : `Change push-to-talk key, now ${keyName(s.pttKey ?? ui.pttKey)}` }),
        )
      : null,
    dense ? null : h('p', { class: 'muted small' }, a.mode === 'ptt' ? 'Hold the key or the button while you talk.' : a.mode === 'vad' ? 'Your voice is sent while the level is above the threshold.' : 'Your microphone is always sent (unless muted).'),
  );
};

// ---------------------------------------------------------------------------
// devices

const devicesW: Widget = (s, idp) => {
  if (!ui.devicesListed) {
    ui.devicesListed = true;
    queueMicrotask(() => send({ type: 'devices.list' }));
  }
  const a = s.audio;
  const av = a.available;
  const pick = (which: 'capture' | 'playback', v: string): void => {
    const spec = v === '__none' ? { kind: 'none' as const } : { kind: 'portaudio' as const, name: v === '__default' ? null : v };
    send({ type: 'devices.select', ...(which === 'capture' ? { capture: spec } : { playback: spec }) });
  };
  const current = (d: ClientSnapshot['audio']['input']): string => (!d || d.kind === 'none' ? '__none' : d.kind === 'portaudio' ? (av && (which(d.name, av.inputs) || which(d.name, av.outputs)) ? d.name : '__default') : `__other`);
  const which = (n: string, list: { name: string }[]): boolean => list.some((x) => x.name === n);
  const sel = (id: string, label: string, list: { name: string; default: boolean }[], dev: ClientSnapshot['audio']['input'], kind: 'capture' | 'playback'): VElement => {
    const cur = current(dev);
    return h(
      'div',
      { class: 'field' },
      h('label', { for: id }, label),
      h(
        'select',
        { id, value: cur, on: { change: (e) => pick(kind, (e.target as HTMLSelectElement).value) } },
        h('option', { key: '__default', value: '__default' }, 'System default'),
        list.map((d) => h('option', { key: d.name, value: d.name }, `${d.name}${d.default ? ' (default)' : ''}`)),
        cur === '__other' ? h('option', { key: '__other', value: '__other' }, `${dev?.kind}: ${dev?.name}`) : null,
        h('option', { key: '__none', value: '__none' }, 'None'),
      ),
      dev?.error
        ? h('p', { class: 'err', role: 'alert' }, `${dev.error.message} `, button('Reopen', () => send({ type: 'devices.reopen' }), { 'aria-label': `Reopen ${label.toLowerCase()}` }))
        : h('small', { class: 'hint' }, `Now: ${describeDevice(dev)}`),
    );
  };
  return h(
    'div',
    { class: 'devices' },
    sel(`${idp}-in`, 'Microphone', av?.inputs ?? [], a.input, 'capture'),
    sel(`${idp}-out`, 'Speaker or headphones', av?.outputs ?? [], a.output, 'playback'),
    av?.error ? h('p', { class: 'notice' }, `Sound cards cannot be listed: ${av.error}`) : null,
    h(
      'div',
      { class: 'meter-row' },
      h('label', { for: `${idp}-vol` }, 'Output volume'),
      h('input', { id: `${idp}-vol`, type: 'range', min: 0, max: 200, step: 5, value: String(Math.round(s.audio.outputVolume * 100)), 'aria-valuetext': `${Math.round(s.audio.outputVolume * 100)} %`, on: { input: (e) => send({ type: 'output.volume', volume: Number((e.target as HTMLInputElement).value) / 100 }) } }),
      h('span', { class: 'num', 'aria-hidden': 'true' }, `${Math.round(s.audio.outputVolume * 100)} %`),
    ),
    h(
      'div',
      { class: 'actions' },
      toggle(a.loopback ? 'Stop the loopback test' : 'Loopback test: hear my microphone', a.loopback, () => send({ type: 'loopback', on: !a.loopback })),
      button('Refresh the device list', () => send({ type: 'devices.list' })),
    ),
  );
};

// ---------------------------------------------------------------------------
// users

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

const usersW: Widget = (s, idp) => {
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

// ---------------------------------------------------------------------------
// plugins

const SLOT_TEXT: Record<string, string> = {
  aec: 'Echo canceller: reads your microphone and what your speaker plays, changes your microphone sound.',
  ns: 'Noise suppressor: reads and changes your microphone sound.',
  effect: 'Effect: reads and changes your microphone sound before it is sent.',
};

/** What each capability lets a plugin do, in a person's words (as host/client/core/client-plugins.ts says it). */
const CAPABILITY_TEXT: Record<string, string> = {
  'audio.intercept': 'hear and change your microphone sound before it is sent',
  'config.read': 'read its own settings',
  log: "write to Hearth's log",
  'state.read': 'see who is on the server and in which channel',
  storage: 'keep its own data on this computer',
  'chat.intercept': 'read, change or block chat messages',
  'chat.inject': 'post chat messages',
  moderation: 'kick or mute people',
  'ui.layout': "arrange Hearth's window",
};
const capText = (c: string): string => CAPABILITY_TEXT[c] ?? c;

const PLUGIN_STATUS_TEXT: Record<string, string> = { running: 'Running', starting: 'Starting', 'not granted': 'Not granted', disabled: 'Disabled', fault: 'Fault' };

type ClientPlugin = ClientSnapshot['clientPlugins'][number];

function clientPluginItem(p: ClientPlugin, idp: string): VElement {
  const hid = `${idp}-plugin-${p.id}`;
  const missing = p.requested.filter((c) => !p.granted.includes(c));
  const managed = p.source !== 'command line';
  const f = p.figures;
  const grantText = `Grant ${p.name}: ${p.requested.map(capText).join('; ') || 'nothing'}`;
  return h(
    'li',
    { key: p.id, class: 'plugin', 'aria-labelledby': hid, 'data-plugin': p.id, 'data-status': p.status },
    h(
      'div',
      { class: 'grow' },
      h('strong', { id: hid }, `${p.name} ${p.version}`),
      ' ',
      h('span', { class: 'badge' }, PLUGIN_STATUS_TEXT[p.status] ?? p.status),
      p.description ? h('p', { class: 'small' }, p.description) : null,
      h('p', { class: 'small' }, SLOT_TEXT[p.slot] ?? `Slot: ${p.slot}`),
      p.requested.length
        ? [
            h('p', { class: 'small', id: `${hid}-may` }, `${p.name} may:`),
            h('ul', { class: 'small', 'aria-labelledby': `${hid}-may` }, p.requested.map((c) => h('li', { key: c }, `${capText(c)} (${c}): `, p.granted.includes(c) ? 'granted' : 'not granted'))),
          ]
        : h('p', { class: 'small' }, `${p.name} asks for no capabilities.`),
      p.reason ? h('p', { class: 'small' }, `Not running: ${p.reason}`) : null,
      f ? h('p', { class: 'small muted figures', 'data-calls': String(f.calls), 'data-state': f.state }, `State ${f.state}: ${f.calls} calls, ${f.overruns} overruns, ${f.bypassed} bypassed, ${f.faults} faults, last ${f.lastUs} µs`) : null,
      p.error ? h('p', { class: 'small error', role: 'alert' }, p.error) : null,
      managed ? null : h('p', { class: 'small muted' }, 'Granted on the command line (--effect).'),
    ),
    h(
      'div',
      { class: 'actions', style: 'flex: 0 1 22rem; justify-content: flex-end' },
      managed && p.sha256 !== null && p.requested.length
        ? missing.length
          ? button(grantText, () => send({ type: 'plugin.grant', pluginId: p.id, capabilities: p.requested.slice() }), { 'aria-label': grantText, style: 'white-space: normal; text-align: left' })
          : button('Revoke', () => send({ type: 'plugin.revoke', pluginId: p.id }), { 'aria-label': `Revoke what ${p.name} was granted` })
        : null,
      button(p.enabled ? 'Disable' : 'Enable', () => send({ type: 'plugin.enable', pluginId: p.id, on: !p.enabled }), { 'aria-label': `${p.enabled ? 'Disable' : 'Enable'} ${p.name}` }),
    ),
  );
}

const pluginsW: Widget = (s, idp) => {
  const list = s.clientPlugins ?? [];
  if (list.length) return h('ul', { class: 'plain plugins' }, list.map((p) => clientPluginItem(p, idp)));
  if (!s.plugins.length) return h('p', { class: 'muted' }, 'No client plugins are installed.');
  return h(
    'ul',
    { class: 'plain plugins' },
    s.plugins.map((p) => {
      const on = p.state !== 'disabled';
      return h(
        'li',
        { key: p.pluginId, class: 'plugin' },
        h('div', { class: 'grow' }, h('strong', null, p.pluginId), ' ', h('span', { class: 'badge' }, p.state), h('p', { class: 'small' }, SLOT_TEXT[p.slot] ?? `Slot: ${p.slot}`), h('p', { class: 'small muted' }, `${p.calls} calls, ${p.overruns} overruns, ${p.bypassed} bypassed, ${p.faults} faults, last ${p.lastUs} µs${p.message ? ` — ${p.message}` : ''}`)),
        h('label', { class: 'check' }, h('input', { type: 'checkbox', checked: on, on: { change: (e) => send({ type: 'plugin.enable', pluginId: p.pluginId, on: (e.target as HTMLInputElement).checked }) } }), ` Enabled`),
      );
    }),
  );
};

// ---------------------------------------------------------------------------
// errors

const errorsW: Widget = (s) => {
  const list = s.errors.filter((e) => e.at > ui.dismissedErrorsAt).slice().reverse();
  return h(
    'div',
    { class: 'errors' },
    h('div', { role: 'alert', class: 'sr-only' }, list[0] ? explain(list[0]) : ''),
    list.length
      ? [
          h('ul', { class: 'plain' }, list.slice(0, 8).map((e) => h('li', { key: `${e.at}-${e.code}`, class: 'error' }, h('strong', null, explain(e)), ' ', h('span', { class: 'muted small' }, `${e.code} · ${when(e.at)}`)))),
          button('Clear', () => ((ui.dismissedErrorsAt = list[0]!.at), invalidate()), { 'aria-label': 'Clear the errors' }),
        ]
      : h('p', { class: 'muted' }, 'No errors.'),
  );
};

// ---------------------------------------------------------------------------
// stats

const statsW: Widget = (s) => {
  const a = s.audio;
  return h(
    'div',
    { class: 'stats' },
    h('p', { class: 'small' }, `Sent ${s.voice.sent}, received ${s.voice.received} packets · ping ${ms(s.voice.rttMs)} · loss ${pct(s.voice.lossPercent)} · frames ${a.clock.ticks}, late ${a.clock.lateFrames}, underruns ${a.clock.underruns} · CPU capture ${a.cpu.captureUsP50}/${a.cpu.captureUsP99} µs, playback ${a.cpu.playbackUsP50}/${a.cpu.playbackUsP99} µs`),
    s.voice.speakers.length
      ? h(
          'table',
          { class: 'stats-table' },
          h('caption', null, 'Jitter buffer per speaker'),
          h('thead', null, h('tr', null, ['Speaker', 'Depth', 'Target', 'Jitter', 'Delay', 'Received', 'Late', 'Lost', 'FEC', 'Concealed'].map((x) => h('th', { key: x, scope: 'col' }, x)))),
          h(
            'tbody',
            null,
            s.voice.speakers.map((sp) =>
              h('tr', { key: sp.token }, h('th', { scope: 'row' }, sp.username ?? `#${sp.token}`), h('td', null, ms(sp.depthMs)), h('td', null, ms(sp.targetMs)), h('td', null, ms(sp.jitterMs)), h('td', null, ms(sp.playoutDelayMs)), h('td', null, sp.received), h('td', null, sp.late), h('td', null, sp.lost), h('td', null, sp.fecRecovered), h('td', null, sp.concealed)),
            ),
          ),
        )
      : h('p', { class: 'muted' }, 'No speakers yet.'),
  );
};

export const WIDGET_RENDERERS: Record<WidgetName, Widget> = {
  connect: connectW,
  certificate: certificateW,
  connection: connectionW,
  channels: channelsW,
  chat: chatW,
  voice: voiceW,
  devices: devicesW,
  users: usersW,
  plugins: pluginsW,
  errors: errorsW,
  stats: statsW,
};
