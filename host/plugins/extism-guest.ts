// How every guest is instantiated, in whichever thread runs it (a plugin's
// sandbox thread, the client's audio chain thread): Extism in foreground
// mode with the sandbox of docs/PLUGINS.md §7 — no WASI, no allowed paths or
// hosts, only the capability-checked host functions of GuestHostApi, the
// SDK's buffers bounded by the guest's memory cap, Extism's own diagnostics
// turned into host log effects, and config visible only with config.read.
import createPlugin, { type Plugin } from '@extism/extism';
import type { GuestHostApi } from './host-api.js';
import { Wasm, type WasmMemory, type WasmModule } from './platform.js';

export interface GuestInstance {
  plugin: Plugin;
  exports: Record<string, unknown>;
  /** The guest's own linear memory (null when it exports none). */
  memory: WasmMemory | null;
}

function sdkLogger(api: GuestHostApi): Console {
  const to = (level: 'debug' | 'info' | 'warn' | 'error') => (msg: string) => api.hostLog(level, `extism: ${msg}`);
  return { trace: to('debug'), debug: to('debug'), info: to('info'), warn: to('warn'), error: to('error') } as unknown as Console;
}

/** Config as Extism's config_get sees it: strings, only when config.read was granted. */
export function extismConfig(grants: readonly string[], config: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  if (!grants.includes('config.read')) return out;
  for (const [k, v] of Object.entries(config)) out[k] = typeof v === 'string' ? v : JSON.stringify(v);
  return out;
}

export async function instantiateGuest(module: WasmModule, api: GuestHostApi, opts: { grants: readonly string[]; config: Record<string, unknown>; memoryMiB: number }): Promise<GuestInstance> {
  const plugin = await createPlugin(
    { wasm: [{ module, name: 'main' }] },
    {
      useWasi: false,
      runInWorker: false,
      allowedPaths: {},
      allowedHosts: [],
      functions: api.functions(),
      config: extismConfig(opts.grants, opts.config),
      memory: { maxPages: opts.memoryMiB * 16, maxVarBytes: 64 * 1024 },
      logger: sdkLogger(api),
      logLevel: 'warn',
    },
  );
  const exports = (await plugin.getInstance()).exports as Record<string, unknown>;
  const mem = exports.memory;
  return { plugin, exports, memory: mem instanceof Wasm.Memory ? (mem as WasmMemory) : null };
}
