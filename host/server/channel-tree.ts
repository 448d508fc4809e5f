// In-memory view of the channel tree with the rules that need the whole tree:
// ancestry (cycle refusal), inherited visibility, sibling order.
import { ROOT_CHANNEL_ID, type ChannelRecord } from '../db/channels.js';
import { atLeast, roleRank, ROLES, type Role } from './roles.js';

export class ChannelTree {
  private readonly byId = new Map<number, ChannelRecord>();
  private readonly children = new Map<number, ChannelRecord[]>();

  constructor(records: readonly ChannelRecord[]) {
    for (const c of records) this.byId.set(c.id, c);
    for (const c of records) {
      if (c.parentId === null) continue;
      const list = this.children.get(c.parentId) ?? [];
      list.push(c);
      this.children.set(c.parentId, list);
    }
    for (const list of this.children.values()) list.sort((a, b) => a.position - b.position || a.id - b.id);
  }

  get(id: number): ChannelRecord | undefined {
    return this.byId.get(id);
  }

  get size(): number {
    return this.byId.size;
  }

  all(): ChannelRecord[] {
    return [...this.byId.values()];
  }

  childrenOf(id: number): ChannelRecord[] {
    return this.children.get(id) ?? [];
  }

  /** The channel and everything below it. */
  subtree(id: number): number[] {
    const out: number[] = [];
    const stack = [id];
    const seen = new Set<number>();
    while (stack.length > 0) {
      const cur = stack.pop()!;
      if (seen.has(cur)) continue;
      seen.add(cur);
      out.push(cur);
      for (const c of this.childrenOf(cur)) stack.push(c.id);
    }
    return out;
  }

  /**
   * The path from `id` up to the root. Bounded by the tree size so that even a
   * corrupted database (a cycle written by hand) cannot hang the server.
   */
  private *pathUp(id: number): Generator<ChannelRecord> {
    let cur = this.byId.get(id);
    for (let hops = 0; cur && hops <= this.byId.size; hops++) {
      yield cur;
      cur = cur.parentId === null ? undefined : this.byId.get(cur.parentId);
    }
  }

  /** True when `ancestor` is `id` itself or lies on its path to the root. */
  isSelfOrAncestor(ancestor: number, id: number): boolean {
    for (const cur of this.pathUp(id)) if (cur.id === ancestor) return true;
    return false;
  }

  /** A channel is only as open as its most restrictive ancestor. */
  effectiveRequiredRole(id: number): Role {
    let rank = 0;
    for (const cur of this.pathUp(id)) rank = Math.max(rank, roleRank(cur.requiredRole));
    return ROLES[rank]!;
  }

  canAccess(role: Role, id: number): boolean {
    return this.byId.has(id) && atLeast(role, this.effectiveRequiredRole(id));
  }

  /** Nearest channel at or above `id` that `role` may be in (the root always qualifies). */
  nearestAccessible(role: Role, id: number): number {
    for (const cur of this.pathUp(id)) if (this.canAccess(role, cur.id)) return cur.id;
    return ROOT_CHANNEL_ID;
  }

  visibleTo(role: Role): ChannelRecord[] {
    return this.all().filter((c) => this.canAccess(role, c.id));
  }
}
