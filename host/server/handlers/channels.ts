// Channel tree operations. Rules: the root always exists and stays put and
// open; a channel cannot move under itself or a descendant; sibling names are
// unique among the siblings the actor can see (case-insensitive, and no two
// look alike: UTS #39 skeletons); deleting a channel deletes its subtree (and
// that subtree's chat history) and moves everyone inside to the deleted
// channel's parent, or the nearest channel above it they may enter.
import { ROOT_CHANNEL_ID, type ChannelRecord } from '../../db/channels.js';
import { ProtocolError } from '../../protocol/errors.js';
import { nameKeys } from '../../protocol/confusables.js';
import { requireHumanText } from '../../protocol/human-text.js';
import type { ClientMessage } from '../../protocol/client-messages.js';
import { requirePermission, type AuthedConnection, type ServerContext } from '../context.js';
import { channelView, chatView } from '../hub.js';

function visibleChannel(ctx: ServerContext, conn: AuthedConnection, id: number): ChannelRecord {
  const c = ctx.hub.tree.get(id);
  if (!c || !ctx.hub.tree.canAccess(conn.session.role, id)) throw new ProtocolError('NOT_FOUND', `no channel ${id}`);
  return c;
}

/**
 * A channel name must be short enough and unlike every sibling the actor can
 * see: neither equal after NFKC and lower-casing nor a look-alike (a shared
 * UTS #39 skeleton key, host/protocol/confusables.ts). Siblings the actor cannot see are left out on purpose: refusing a name because of a hidden channel
 * would tell a moderator that it exists (docs/PROTOCOL.md §7). An admin may
 * therefore find two siblings of one name, one of them restricted; ids differ.
 */
function checkName(ctx: ServerContext, conn: AuthedConnection, parentId: number, name: string, selfId: number | null): void {
  if ([...name].length > ctx.config.limits.channelNameMaxChars) {
    throw new ProtocolError('TOO_LONG', `channel names have at most ${ctx.config.limits.channelNameMaxChars} characters`);
  }
  const plain = name.normalize('NFKC').toLowerCase();
  const keys = nameKeys(name);
  const clash = ctx.hub.tree
    .childrenOf(parentId)
    .filter((c) => c.id !== selfId && ctx.hub.tree.canAccess(conn.session.role, c.id))
    .find((c) => c.name.normalize('NFKC').toLowerCase() === plain || nameKeys(c.name).some((k) => keys.includes(k)));
  if (!clash) return;
  if (clash.name.normalize('NFKC').toLowerCase() === plain) throw new ProtocolError('NAME_TAKEN', `"${clash.name}" already exists here`);
  throw new ProtocolError('NAME_TAKEN', `"${name}" looks like "${clash.name}", which already exists here`, { similarTo: clash.id });
}

/** Inserts `id` among its new siblings at `position` and renumbers them. */
function placeAmongSiblings(ctx: ServerContext, parentId: number, id: number, position: number | undefined): void {
  const siblings = ctx.hub.tree.childrenOf(parentId).filter((c) => c.id !== id).map((c) => c.id);
  const at = Math.min(position ?? siblings.length, siblings.length);
  siblings.splice(at, 0, id);
  ctx.store.channels.setPositions(siblings);
}

export function create(ctx: ServerContext, conn: AuthedConnection, m: ClientMessage<'channel.create'>): object {
  requirePermission(conn, 'manageChannels');
  visibleChannel(ctx, conn, m.parentId);
  if (ctx.hub.tree.size >= ctx.config.limits.maxChannels) throw new ProtocolError('LIMIT_REACHED', 'channel limit reached');
  // A new name or description must be clean human text (host/protocol/human-text.ts).
  requireHumanText(m.name, 'name', 'line');
  requireHumanText(m.description, 'description', 'text');
  checkName(ctx, conn, m.parentId, m.name, null);
  const created = ctx.store.channels.transaction(() => {
    const c = ctx.store.channels.create({
      parentId: m.parentId,
      name: m.name,
      isVoice: m.isVoice,
      requiredRole: m.requiredRole,
      position: 0,
      description: m.description,
    });
    ctx.hub.reloadTree();
    placeAmongSiblings(ctx, m.parentId, c.id, m.position);
    return c;
  });
  ctx.hub.reloadTree();
  conn.log.info({ channelId: created.id, name: created.name, parentId: m.parentId, by: conn.session.username }, 'channel created');
  // Positions of siblings may have shifted: send them all.
  for (const sib of ctx.hub.tree.childrenOf(m.parentId)) ctx.hub.broadcastToViewers(sib.id, { type: 'channel.upsert', channel: channelView(sib) });
  return { channel: channelView(ctx.hub.tree.get(created.id)!) };
}

export function edit(ctx: ServerContext, conn: AuthedConnection, m: ClientMessage<'channel.edit'>): object {
  requirePermission(conn, 'manageChannels');
  const c = visibleChannel(ctx, conn, m.channelId);
  if (m.name !== undefined) requireHumanText(m.name, 'name', 'line');
  if (m.description !== undefined) requireHumanText(m.description, 'description', 'text');
  if (m.name !== undefined) checkName(ctx, conn, c.parentId ?? c.id, m.name, c.id);
  if (m.requiredRole !== undefined && m.requiredRole !== 'guest' && c.id === ROOT_CHANNEL_ID) {
    throw new ProtocolError('CHANNEL_ROOT', 'the root channel stays open to every role');
  }
  const next: ChannelRecord = {
    ...c,
    name: m.name ?? c.name,
    isVoice: m.isVoice ?? c.isVoice,
    requiredRole: m.requiredRole ?? c.requiredRole,
    description: m.description ?? c.description,
  };
  ctx.store.channels.update(next);
  const visibilityChanged = next.requiredRole !== c.requiredRole;
  const before = c.requiredRole;
  ctx.hub.reloadTree();
  conn.log.info({ channelId: c.id, changes: { name: m.name, isVoice: m.isVoice, requiredRole: m.requiredRole }, by: conn.session.username }, 'channel edited');
  if (visibilityChanged) {
    conn.log.info({ channelId: c.id, from: before, to: next.requiredRole }, 'channel visibility changed');
    ctx.hub.resync();
  } else {
    ctx.hub.broadcastToViewers(c.id, { type: 'channel.upsert', channel: channelView(next) });
  }
  return { channel: channelView(next) };
}

export function move(ctx: ServerContext, conn: AuthedConnection, m: ClientMessage<'channel.move'>): object {
  requirePermission(conn, 'manageChannels');
  const c = visibleChannel(ctx, conn, m.channelId);
  visibleChannel(ctx, conn, m.parentId);
  if (c.id === ROOT_CHANNEL_ID) throw new ProtocolError('CHANNEL_ROOT', 'the root channel cannot be moved');
  if (ctx.hub.tree.isSelfOrAncestor(c.id, m.parentId)) {
    throw new ProtocolError('CHANNEL_CYCLE', `channel ${c.id} cannot move under itself or its descendant ${m.parentId}`);
  }
  if (m.parentId !== c.parentId) checkName(ctx, conn, m.parentId, c.name, c.id);
  const oldParent = c.parentId!;
  ctx.store.channels.transaction(() => {
    ctx.store.channels.update({ ...c, parentId: m.parentId });
    ctx.hub.reloadTree();
    placeAmongSiblings(ctx, m.parentId, c.id, m.position);
    if (oldParent !== m.parentId) ctx.store.channels.setPositions(ctx.hub.tree.childrenOf(oldParent).filter((x) => x.id !== c.id).map((x) => x.id));
  });
  ctx.hub.reloadTree();
  conn.log.info({ channelId: c.id, from: oldParent, to: m.parentId, position: m.position, by: conn.session.username }, 'channel moved');
  // A new parent can change inherited visibility below: resend everything.
  ctx.hub.resync();
  return { channel: channelView(ctx.hub.tree.get(c.id)!) };
}

export function remove(ctx: ServerContext, conn: AuthedConnection, m: ClientMessage<'channel.delete'>): object {
  requirePermission(conn, 'manageChannels');
  const c = visibleChannel(ctx, conn, m.channelId);
  if (c.id === ROOT_CHANNEL_ID) throw new ProtocolError('CHANNEL_ROOT', 'the root channel cannot be deleted');
  const ids = ctx.hub.tree.subtree(c.id);
  if (ids.some((id) => !ctx.hub.tree.canAccess(conn.session.role, id))) {
    throw new ProtocolError('FORBIDDEN', 'this channel has sub-channels your role cannot see; an admin must delete it');
  }
  ctx.store.channels.remove(c.id);
  ctx.hub.noteDeleted(ids, c.parentId!);
  ctx.hub.reloadTree();
  conn.log.info({ channelId: c.id, name: c.name, deleted: ids, by: conn.session.username }, 'channel deleted');
  ctx.hub.resync();
  return { deleted: ids };
}

export function join(ctx: ServerContext, conn: AuthedConnection, m: ClientMessage<'channel.join'>): object {
  const c = ctx.hub.tree.get(m.channelId);
  if (!c) throw new ProtocolError('NOT_FOUND', `no channel ${m.channelId}`);
  if (!ctx.hub.tree.canAccess(conn.session.role, c.id)) {
    // Say NOT_FOUND rather than FORBIDDEN: hidden channels stay hidden.
    throw new ProtocolError('NOT_FOUND', `no channel ${m.channelId}`);
  }
  ctx.hub.moveTo(conn, c.id);
  setImmediate(() =>
    conn.send({ type: 'chat.history', channelId: c.id, messages: ctx.store.chat.recent(c.id, ctx.config.limits.historyOnJoin).map(chatView) }),
  );
  return { channelId: c.id };
}
