// Trust on first use (TOFU) for the control lane's self-signed certificates.
// The implementation lives with the client's other config files
// (core/config-store.ts: schema-checked on load, written atomically, never
// overwritten when corrupt); this module keeps the import path that
// ControlClient and older callers use.
export { FingerprintMismatchError, KnownHosts, KnownHostsSchema, type KnownHostsFile } from '../core/config-store.js';
