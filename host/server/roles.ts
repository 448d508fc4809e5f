// What each role may do on the server. The roles themselves (their order,
// rank and checks) are shared with the protocol and the database:
// host/protocol/roles.ts.
import { atLeast, type Role } from '../protocol/roles.js';

export { atLeast, isRole, roleRank, ROLES, type Role } from '../protocol/roles.js';

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
