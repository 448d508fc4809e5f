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
  | 'CONFIG_INVALID'
  | 'LOAD_FAILED'
  | 'LOAD_TIMEOUT'
  | 'DUPLICATE_ID'
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
