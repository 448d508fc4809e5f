// What every handler may use. Built once by HearthServer.
import type { Logger } from '../log/logger.js';
import type { ServerConfig } from '../config/server-config.js';
import type { Store } from '../db/store.js';
import type { Hub } from './hub.js';
import type { VoiceLane } from './voice/voice-lane.js';
import type { PluginManager } from './plugins/plugin-manager.js';
import type { LoginGuard } from './login-guard.js';
import type { Connection, SessionInfo } from './connection.js';
import { ProtocolError } from '../protocol/errors.js';
import { can, type Permission } from './roles.js';

export interface ServerContext {
  config: ServerConfig;
  store: Store;
  hub: Hub;
  log: Logger;
  /** Login, password-change and registration throttles (login-guard.ts). */
  guard: LoginGuard;
  version: string;
  /** SHA-256 of the one-time first-admin token while no admin exists. */
  bootstrapTokenHash: string | null;
  voice: VoiceLane | null;
  plugins: PluginManager | null;
}

export type AuthedConnection = Connection & { session: SessionInfo };

export function requireSession(conn: Connection): AuthedConnection {
  if (!conn.session) throw new ProtocolError('NOT_AUTHENTICATED');
  return conn as AuthedConnection;
}

export function requirePermission(conn: AuthedConnection, permission: Permission): void {
  if (!can(conn.session.role, permission)) {
    throw new ProtocolError('FORBIDDEN', `your role (${conn.session.role}) may not ${permission}`);
  }
}
