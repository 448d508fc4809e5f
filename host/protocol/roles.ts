// Global roles, in increasing order of power. They are part of the wire
// contract (user views, channel.requiredRole, user.setRole) and of the stored
// data, so they live here, in the lowest layer that the protocol, the
// database and the server all import. The order is the whole model:
// "at least moderator" means rank(role) >= rank('moderator').
export const ROLES = ['guest', 'member', 'moderator', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export function roleRank(role: Role): number {
  return ROLES.indexOf(role);
}

export function atLeast(role: Role, required: Role): boolean {
  return roleRank(role) >= roleRank(required);
}

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}
