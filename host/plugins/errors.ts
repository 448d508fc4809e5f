// Errors of the plugin runtime. `code` is stable (tests, logs and the admin
// CLI match on it); `message` is for people.

export type PluginErrorCode =
  | 'MANIFEST_INVALID'
  | 'MANIFEST_UNREADABLE'
  | 'WASM_UNREADABLE'
  | 'SHA256_MISMATCH'
  | 'WASM_INVALID'
  | 'FORBIDDEN_IMPORT'
  | 'MISSING_EXPORT'
  | 'MEMORY_LIMIT'
  /** The wasm's structure (tables, functions, globals, segments, file size) is over limits.module. */
  | 'MODULE_LIMIT'
  | 'CONFIG_INVALID'
  | 'LOAD_FAILED'
  | 'LOAD_TIMEOUT'
  /** The sandbox thread died while the guest was being instantiated (it ran out of heap, say). */
  | 'LOAD_CRASHED'
  | 'DUPLICATE_ID'
  /** A bot's name is (or looks like) an account's. */
  | 'BOT_NAME_TAKEN'
  | 'UNKNOWN_PLUGIN';

export class PluginError extends Error {
  readonly code: PluginErrorCode;
  readonly pluginId: string | undefined;
  constructor(code: PluginErrorCode, message: string, pluginId?: string) {
    super(message);
    this.name = 'PluginError';
    this.code = code;
    this.pluginId = pluginId;
  }
}
