// Global roles, in increasing order of power. The order is the whole model:
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

/** Who may do what; one table so a reviewer sees the whole policy at once. */
export const PERMISSIONS = {
  manageChannels: 'moderator',
  kick: 'moderator',
  ban: 'moderator',
  serverMute: 'moderator',
  setRole: 'admin',
  createInvite: 'admin',
  listUsers: 'moderator',
  listPlugins: 'admin',
} as const satisfies Record<string, Role>;

export type Permission = keyof typeof PERMISSIONS;

export function can(role: Role, permission: Permission): boolean {
  return atLeast(role, PERMISSIONS[permission]);
}
