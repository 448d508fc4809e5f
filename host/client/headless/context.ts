// What a client process sets up before its core: the config and state dirs
// (XDG, or HEARTH_CLIENT_HOME), the logger writing to the state dir, and the
// plugin grants store.
import type { Logger } from 'pino';
import { createClientLogger } from '../core/client-logger.js';
import { ClientConfigStore } from '../core/config-store.js';
import { clientPaths } from '../core/paths.js';

export interface ClientContext {
  logger: Logger;
  configDir: string;
  store: ClientConfigStore;
  /**
   * Grants for an effect the user named on the command line: naming it is the
   * approval, so what it requests is granted and recorded for this exact wasm
   * (by sha256), as the UI's grant dialog records it.
   */
  grantsFor: (sha256: string, requested: string[], plugin?: { id: string; version: string }) => string[];
  close(): Promise<void>;
}

export async function startHeadlessContext(): Promise<ClientContext> {
  const paths = clientPaths();
  const log = await createClientLogger({ paths, pretty: false });
  const store = new ClientConfigStore(paths);
  return {
    logger: log.logger,
    configDir: paths.configDir,
    store,
    grantsFor: (sha256, requested, plugin) => {
      const have = store.grantsFor(sha256);
      const missing = requested.filter((r) => !have.includes(r));
      if (missing.length && plugin) {
        try {
          store.recordGrants(sha256, { pluginId: plugin.id, version: plugin.version, grants: requested });
        } catch (err) {
          log.logger.warn({ err: (err as Error).message }, `could not record plugin grants: ${(err as Error).message}`);
        }
      }
      return requested;
    },
    close: () => log.close(),
  };
}
