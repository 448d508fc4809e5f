// Channel chat with its history, and direct messages.
import { h, type VElement } from '../vdom.js';
import { atFrameStart, invalidate, send, ui } from '../state.js';
import type { ChatMessageView } from '../types.js';
import { button, selfUser, when } from '../util.js';
import { input, type Widget } from './shared.js';

function chatLogHook(el: HTMLElement, created: boolean): void {
  const st = el as HTMLElement & { __last?: string; __stick?: boolean };
  const last = el.lastElementChild?.getAttribute('data-id') ?? '';
  if (created || st.__last !== last) {
    // Scrolled at the start of the next frame, when the layout of this one is
    // done: reading scrollHeight now, after the patch's writes, would force a
    // synchronous layout of the whole page in the middle of the draw.
    if (created || st.__stick !== false) atFrameStart(() => {
      if (el.isConnected) el.scrollTop = el.scrollHeight;
    });
    st.__last = last;
  }
}

/** A message's row, made once per message and chat widget (a VNode is drawn in one place only). */
const msgRows = new Map<string, WeakMap<ChatMessageView, { mine: boolean; v: VElement }>>();
const collator = new Intl.Collator();
function msgRow(m: ChatMessageView, mine: boolean, idp: string): VElement {
  let rows = msgRows.get(idp);
  if (!rows) msgRows.set(idp, (rows = new WeakMap()));
  const hit = rows.get(m);
  if (hit && hit.mine === mine) return hit.v;
  const v = h(
    'li',
    { key: m.id, 'data-id': String(m.id), class: mine ? 'msg mine' : 'msg' },
    h('span', { class: 'who' }, m.senderName),
    ' ',
    h('time', { datetime: new Date(m.createdAt).toISOString(), class: 'muted' }, when(m.createdAt)),
    h('div', { class: 'text' }, m.text),
  );
  rows.set(m, { mine, v });
  return v;
}

export const chatW: Widget = (s, idp) => {
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
        [...others].sort((a, b) => collator.compare(a[1], b[1])).map(([id, name]) => h('option', { key: id, value: String(id) }, `Direct: ${name}`)),
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
      msgs.map((m) => msgRow(m, m.senderId === me.userId, idp)),
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
