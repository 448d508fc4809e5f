// Self-mute and self-deafen. Deafening implies muting (as in Mumble): someone
// who cannot hear should not be talking into the room unaware.
import type { ClientMessage } from '../../protocol/client-messages.js';
import type { AuthedConnection, ServerContext } from '../context.js';
import { userView } from '../hub.js';

export function set(ctx: ServerContext, conn: AuthedConnection, m: ClientMessage<'presence.set'>): object {
  const s = conn.session;
  if (m.selfDeaf !== undefined) s.selfDeaf = m.selfDeaf;
  if (m.selfMute !== undefined) s.selfMute = m.selfMute;
  if (m.selfDeaf === true) s.selfMute = true;
  if (m.selfMute === false && m.selfDeaf === undefined) s.selfDeaf = false;
  conn.log.info({ sessionId: s.sessionId, selfMute: s.selfMute, selfDeaf: s.selfDeaf }, 'presence changed');
  ctx.hub.updated(conn);
  return { user: userView(s) };
}
