// Issue 10, attack 7 (input side): control characters (ESC, OSC, BEL, C1), bidi
// overrides and invisible format characters are refused with INVALID_TEXT in
// human-text fields, over the real protocol (TLS on 127.0.0.1). The CLI side
// (escaping on output) is test/cli/terminal-escapes.test.ts.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { ControlClient } from '../../host/client/control/control-client.js';
import type { ChannelView, ChatMessageView } from '../../host/protocol/server-messages.js';
import { expectError, loginAs, startServer, type TestServer } from '../helpers/server.js';

const test = suite<{ t: TestServer; mod: ControlClient; member: ControlClient }>('human text: control characters refused at input');

test.before.each(async (ctx) => {
  ctx.t = await startServer();
  ctx.mod = await loginAs(ctx.t, 'mod', 'moderator');
  ctx.member = await loginAs(ctx.t, 'member', 'member');
});
test.after.each(async (ctx) => {
  ctx.mod.close();
  ctx.member.close();
  await ctx.t.stop();
});

const OSC_TITLE = '\x1b]0;owned\x07';
const CLEAR = '\x1b[2J';
const CSI_8BIT = '\u009b31m';
const RLO = '\u202e';

test('channel names: ESC, OSC+BEL, 8-bit CSI, bidi override and zero-width space are INVALID_TEXT', async ({ t, mod }) => {
  for (const name of [`Lobby${OSC_TITLE}`, `Lobby${CLEAR}`, `Lobby${CSI_8BIT}`, `Lobby${RLO}ybbol`, 'Lob\u200bby', 'Lobby\u2028x', 'Lob\nby']) {
    const e = await expectError(mod.request('channel.create', { parentId: 1, name }), 'INVALID_TEXT');
    assert.is(e.details?.field, 'name');
    assert.match(String(e.details?.codePoint), /^U\+[0-9A-F]{4}$/);
  }
  const { channel } = await mod.request<{ channel: ChannelView }>('channel.create', { parentId: 1, name: 'Lobby' });
  await expectError(mod.request('channel.edit', { channelId: channel.id, name: `Lobby${OSC_TITLE}` }), 'INVALID_TEXT');
  await expectError(mod.request('channel.edit', { channelId: channel.id, description: `read me${CLEAR}` }), 'INVALID_TEXT');
  // Multi-line descriptions and emoji sequences (ZWJ) stay possible.
  await mod.request('channel.edit', { channelId: channel.id, description: 'line one\nline two\twith a tab' });
  await mod.request('channel.create', { parentId: 1, name: 'Family \u{1F468}\u200D\u{1F469}\u200D\u{1F467}' });
  assert.not.ok(t.server.store.channels.all().some((c) => /[\x1b\x07\u009b\u202e]/.test(c.name + c.description)), 'nothing dirty was stored');
});

test('chat text: control characters refused, newlines and right-to-left script kept', async ({ t, member }) => {
  for (const text of [`hi ${OSC_TITLE}`, `hi ${CLEAR}`, `hi ${CSI_8BIT}`, `hi ${RLO}gnp.exe`, 'a\rb']) {
    const e = await expectError(member.request('chat.send', { channelId: 1, text }), 'INVALID_TEXT');
    assert.is(e.details?.field, 'text');
  }
  const dm = await expectError(member.request('chat.direct', { userId: t.server.store.users.findByName('mod')!.id, text: `psst\x07` }), 'INVALID_TEXT');
  assert.is(dm.details?.codePoint, 'U+0007');
  const r = await member.request<{ message: ChatMessageView }>('chat.send', { channelId: 1, text: 'two\nlines, \u05E9\u05DC\u05D5\u05DD, \u200Fmark' });
  assert.is(r.message.text, 'two\nlines, \u05E9\u05DC\u05D5\u05DD, \u200Fmark');
});

test('kick and ban reasons: control characters refused before anything happens', async ({ mod, member }) => {
  const sid = member.state.self!.sessionId;
  await expectError(mod.request('user.kick', { sessionId: sid, reason: `bye${OSC_TITLE}` }), 'INVALID_TEXT');
  await expectError(mod.request('ban.add', { sessionId: sid, reason: `spam${CLEAR}` }), 'INVALID_TEXT');
  await expectError(mod.request('ban.add', { ip: '192.0.2.1', reason: `x${RLO}` }), 'INVALID_TEXT');
  const { bans } = await mod.request<{ bans: unknown[] }>('ban.list', {});
  assert.is(bans.length, 0, 'no ban was stored');
  // the member is still online: the refused kick did nothing
  const pong = await member.request<{ serverTime: number }>('ping', {});
  assert.type(pong.serverTime, 'number');
});

test.run();
