// Text chat: channel messages go to everyone in the channel (and echo to the
// sender), direct messages to every online session of the recipient. Both are
// stored; each channel keeps its newest `historyKeepPerChannel` messages.
import { ProtocolError } from '../../protocol/errors.js';
import { requireHumanText, stripForbidden } from '../../protocol/human-text.js';
import { can } from '../roles.js';
import type { ClientMessage } from '../../protocol/client-messages.js';
import type { ServerMessage } from '../../protocol/server-messages.js';
import type { AuthedConnection, ServerContext } from '../context.js';
import { chatView } from '../hub.js';
import { TokenBucket } from '../token-bucket.js';

// Keyed by account, not connection: reconnecting must not refill the bucket.
const chatBuckets = new WeakMap<ServerContext, Map<number, TokenBucket>>();

function checkText(ctx: ServerContext, conn: AuthedConnection, text: string): string {
  const l = ctx.config.limits;
  const trimmed = text.trim();
  if (trimmed.length === 0) throw new ProtocolError('INVALID_MESSAGE', 'empty message');
  if ([...trimmed].length > l.chatMaxChars) throw new ProtocolError('TOO_LONG', `messages have at most ${l.chatMaxChars} characters`);
  requireHumanText(trimmed, 'text', 'text');
  let perUser = chatBuckets.get(ctx);
  if (!perUser) chatBuckets.set(ctx, (perUser = new Map()));
  let bucket = perUser.get(conn.session.userId);
  if (!bucket) {
    bucket = new TokenBucket(l.chatMessagesPerWindow / (l.chatWindowMs / 1000), l.chatMessagesPerWindow);
    perUser.set(conn.session.userId, bucket);
  }
  if (!bucket.take()) throw new ProtocolError('RATE_LIMITED', 'too many chat messages; slow down');
  return trimmed;
}

export async function send(ctx: ServerContext, conn: AuthedConnection, m: ClientMessage<'chat.send'>): Promise<object> {
  const c = ctx.hub.tree.get(m.channelId);
  if (!c || !ctx.hub.tree.canAccess(conn.session.role, c.id)) throw new ProtocolError('NOT_FOUND', `no channel ${m.channelId}`);
  let text = checkText(ctx, conn, m.text);
  const s = conn.session;
  if (ctx.plugins) {
    // "/name args" owned by a plugin is answered by its bot instead of being posted.
    if (text.startsWith('/')) {
      const handled = await ctx.plugins.command(s, c.id, text);
      if (handled) {
        conn.log.info({ channelId: c.id, plugin: handled.pluginId, from: s.username }, 'chat command handled by plugin');
        ctx.plugins.postAsBot(handled.pluginId, c.id, handled.reply);
        return { command: true, plugin: handled.pluginId, reply: handled.reply };
      }
    }
    const decision = await ctx.plugins.chat(s, c.id, text);
    if (decision.action === 'block') {
      conn.log.info({ channelId: c.id, plugin: decision.by, from: s.username }, 'chat message blocked by plugin');
      throw new ProtocolError('BLOCKED', `message blocked by ${decision.by}: ${decision.reason}`, { plugin: decision.by, reason: decision.reason });
    }
    // A plugin's rewrite is held to the same rule as the sender's text, silently:
    // the sender did nothing wrong.
    if (decision.action === 'rewrite') text = stripForbidden(decision.text, 'text');
    if (conn.closed) return {};
  }
  const rec = ctx.store.chat.addChannelMessage(c.id, s.userId, s.username, text);
  ctx.store.chat.prune(c.id, ctx.config.limits.historyKeepPerChannel);
  conn.log.info({ channelId: c.id, messageId: rec.id, from: s.username, chars: text.length }, 'chat message');
  const out: ServerMessage = { type: 'chat.message', message: chatView(rec) };
  const recipients = new Set(ctx.hub.inChannel(c.id));
  recipients.add(conn);
  for (const r of recipients) r.send(out);
  return { message: chatView(rec) };
}

/**
 * Whom a direct message may be addressed to, so that the answer never tells
 * more than the sender can see (docs/PROTOCOL.md §7): an account that is online
 * in a channel the sender can see, or, for roles that may list every account
 * anyway (user.list, moderator and up), any account. Everything else (no such
 * account, offline, online only in hidden channels) is one and the same
 * NOT_FOUND "no user N"; otherwise a guest could enumerate account ids and
 * learn that an admin in a hidden channel is online.
 */
export function direct(ctx: ServerContext, conn: AuthedConnection, m: ClientMessage<'chat.direct'>): object {
  const s = conn.session;
  const target = ctx.store.users.findById(m.userId);
  const seenOnline = ctx.hub.sessionsOfUser(m.userId).filter((t) => ctx.hub.tree.canAccess(s.role, t.session.channelId));
  if (!target || (seenOnline.length === 0 && !can(s.role, 'listUsers'))) throw new ProtocolError('NOT_FOUND', `no user ${m.userId}`);
  const text = checkText(ctx, conn, m.text);
  const rec = ctx.store.chat.addDirectMessage(target.id, s.userId, s.username, text);
  conn.log.info({ to: target.id, messageId: rec.id, from: s.username }, 'direct message');
  const out: ServerMessage = { type: 'chat.message', message: chatView(rec) };
  // Delivered to every session of the recipient, hidden ones included; but
  // `delivered` only counts those the sender can see, so "online in a channel
  // you cannot see" reads exactly as "offline".
  const recipients = new Set([...ctx.hub.sessionsOfUser(target.id), ...ctx.hub.sessionsOfUser(s.userId)]);
  for (const r of recipients) r.send(out);
  return { message: chatView(rec), delivered: seenOnline.length > 0 };
}

export function history(ctx: ServerContext, conn: AuthedConnection, m: ClientMessage<'chat.history'>): object {
  if (!ctx.hub.tree.canAccess(conn.session.role, m.channelId)) throw new ProtocolError('NOT_FOUND', `no channel ${m.channelId}`);
  return { channelId: m.channelId, messages: ctx.store.chat.recent(m.channelId, m.limit, m.beforeId).map(chatView) };
}
