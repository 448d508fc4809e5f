// Message type → handler. The one place to look to see what the server does
// with each message; the schemas that guard them are in protocol/client-messages.ts.
import type { ClientMessage, ClientMessageType } from '../../protocol/client-messages.js';
import { ProtocolError } from '../../protocol/errors.js';
import type { Connection } from '../connection.js';
import { requirePermission, requireSession, type AuthedConnection, type ServerContext } from '../context.js';
import * as auth from './auth.js';
import * as channels from './channels.js';
import * as chat from './chat.js';
import * as moderation from './moderation.js';
import * as presence from './presence.js';

type Pre<T extends ClientMessageType> = (ctx: ServerContext, conn: Connection, m: ClientMessage<T>) => unknown;
type Post<T extends ClientMessageType> = (ctx: ServerContext, conn: AuthedConnection, m: ClientMessage<T>) => unknown;
const authed =
  <T extends ClientMessageType>(fn: Post<T>): Pre<T> =>
  (ctx, conn, m) =>
    fn(ctx, requireSession(conn), m);

const HANDLERS: { [T in ClientMessageType]: Pre<T> } = {
  // Keeps the connection alive; with an id it also measures round-trip time.
  ping: (_ctx, _conn, m) => ({ serverTime: Date.now(), ...(m.time !== undefined ? { time: m.time } : {}) }),
  login: auth.login,
  register: auth.register,
  'account.changePassword': authed(auth.changePassword),
  'channel.create': authed(channels.create),
  'channel.edit': authed(channels.edit),
  'channel.move': authed(channels.move),
  'channel.delete': authed(channels.remove),
  'channel.join': authed(channels.join),
  'presence.set': authed(presence.set),
  'chat.send': authed(chat.send),
  'chat.direct': authed(chat.direct),
  'chat.history': authed(chat.history),
  'user.list': authed(moderation.listUsers),
  'user.kick': authed(moderation.kick),
  'user.setRole': authed(moderation.setRole),
  'user.serverMute': authed(moderation.serverMute),
  'ban.add': authed(moderation.addBan),
  'ban.list': authed(moderation.listBans),
  'ban.remove': authed(moderation.removeBan),
  'invite.create': authed(moderation.createInvite),
  'plugin.list': authed((ctx, conn) => {
    requirePermission(conn, 'listPlugins');
    return { plugins: ctx.plugins?.list() ?? [] };
  }),
  // Listener → server loss report; the speakers get aggregated voice.feedback
  // (voice/voice-lane.ts). The reply is {} whatever was ignored inside it.
  'voice.report': authed((ctx, conn, m) => {
    if (ctx.voice && !ctx.voice.report(conn, m.speakers)) throw new ProtocolError('RATE_LIMITED', 'voice.report: at most one per second');
    return {};
  }),
};

export function dispatch(ctx: ServerContext, conn: Connection, m: ClientMessage): unknown {
  const handler = HANDLERS[m.type] as Pre<ClientMessageType>;
  return handler(ctx, conn, m);
}
