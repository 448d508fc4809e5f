// `hearth plugin hash FILE` and `hearth plugin manifest WASM`: the manifest
// and sha256 for a guest built by any toolchain (Rust, Zig, TinyGo, a
// hand-written .wat, ...), not only by `hearth plugin build`.
//
// `manifest` reads the module's exports and imports: hooks are the exports
// named like hooks, capabilities are what those hooks and the imported host
// functions need (capabilities.ts). An existing manifest keeps everything the
// author wrote; only wasm.file and wasm.sha256 are rewritten, and what the
// module now uses but the manifest does not list is printed.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { CAPABILITIES, HOOK_CAPABILITY, HOOKS, HOST_FUNCTIONS, HOST_MODULE, type Capability, type HookName } from '../plugins/capabilities.js';
import { parseManifest } from '../plugins/manifest.js';
import type { DevOutput } from './plugin-dev.js';
import { Wasm, type WasmModule } from './wasm-api.js';

export class ManifestToolError extends Error {
  override name = 'PluginDevError';
}

export function sha256Of(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Prints "<sha256>  <file>" (sha256sum's format) and returns the hash. */
export async function pluginHash(file: string, out: DevOutput = process.stdout): Promise<string> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (err) {
    throw new ManifestToolError(`cannot read ${file}: ${(err as Error).message}`);
  }
  const sha = sha256Of(bytes);
  out.write(`${sha}  ${file}\n`);
  return sha;
}

/** Hooks the module exports and the capabilities they and its host-function imports need. */
export function inspectGuest(bytes: Uint8Array): { hooks: HookName[]; capabilities: Capability[] } {
  let module: WasmModule;
  try {
    module = new Wasm.Module(bytes);
  } catch (err) {
    throw new ManifestToolError(`not a WebAssembly module: ${(err as Error).message}`);
  }
  const exported = new Set(Wasm.Module.exports(module).filter((e) => e.kind === 'function').map((e) => e.name));
  const hooks = HOOKS.filter((h) => exported.has(h));
  const caps = new Set<Capability>();
  for (const h of hooks) {
    const c = HOOK_CAPABILITY[h];
    if (c) caps.add(c);
  }
  for (const imp of Wasm.Module.imports(module)) {
    if (imp.module !== HOST_MODULE) continue;
    const c = (HOST_FUNCTIONS as Record<string, Capability | null>)[imp.name];
    if (c) caps.add(c);
  }
  return { hooks, capabilities: CAPABILITIES.filter((c) => caps.has(c)) };
}

function titleOf(id: string): string {
  return id
    .split('-')
    .filter(Boolean)
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join(' ');
}

export interface ManifestOptions {
  /** The manifest to write or update (default: manifest.json next to the wasm). */
  out?: string;
  /** The plugin id of a new manifest (default: from the wasm's file name). */
  id?: string;
  /** Chat commands routed to on_command (a new manifest only). */
  commands?: string[];
}

/** Writes or updates a manifest for `wasmFile`; returns its path. */
export async function pluginManifest(wasmFile: string, opts: ManifestOptions = {}, out: DevOutput = process.stdout): Promise<string> {
  const wasmPath = resolve(wasmFile);
  let bytes: Buffer;
  try {
    bytes = await readFile(wasmPath);
  } catch (err) {
    throw new ManifestToolError(`cannot read ${wasmFile}: ${(err as Error).message}`);
  }
  const manifestPath = resolve(opts.out ?? join(dirname(wasmPath), 'manifest.json'));
  const rel = relative(dirname(manifestPath), wasmPath);
  if (rel.startsWith('..') || isAbsolute(rel)) throw new ManifestToolError(`${wasmFile} must be in the manifest's directory or below it (wasm.file is relative to the manifest); copy it next to ${manifestPath}`);
  const file = rel.split(sep).join('/');
  const sha256 = sha256Of(bytes);
  const found = inspectGuest(bytes);
  let raw: Record<string, unknown>;
  if (existsSync(manifestPath)) {
    try {
      raw = JSON.parse(await readFile(manifestPath, 'utf8')) as Record<string, unknown>;
    } catch (err) {
      throw new ManifestToolError(`cannot read ${manifestPath}: ${(err as Error).message}`);
    }
    raw.wasm = { ...((raw.wasm as object | undefined) ?? {}), file, sha256 };
    const listedHooks = Array.isArray(raw.hooks) ? (raw.hooks as string[]) : [];
    const listedCaps = Array.isArray(raw.capabilities) ? (raw.capabilities as string[]) : [];
    const newHooks = found.hooks.filter((h) => !listedHooks.includes(h));
    const newCaps = found.capabilities.filter((c) => !listedCaps.includes(c));
    if (newHooks.length) out.write(`note: the wasm exports hooks the manifest does not list (not called until listed): ${newHooks.join(', ')}\n`);
    if (newCaps.length) out.write(`note: the wasm uses capabilities the manifest does not ask for (denied until listed and granted): ${newCaps.join(', ')}\n`);
  } else {
    const id = opts.id ?? basename(wasmPath, '.wasm').toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^[^a-z]+/, '');
    if (found.hooks.length === 0) throw new ManifestToolError(`${wasmFile} exports no hook (${HOOKS.join(', ')})`);
    raw = {
      manifestVersion: 1,
      id,
      name: titleOf(id),
      version: '0.1.0',
      description: `${titleOf(id)} (manifest generated by hearth plugin manifest)`,
      author: '',
      hostApi: 1,
      wasm: { file, sha256 },
      hooks: found.hooks,
      commands: opts.commands ?? [],
      capabilities: found.capabilities,
      config: { schema: { type: 'object', additionalProperties: false }, defaults: {} },
      limits: { memoryMiB: 16, callMs: 20, killMs: 1000, overrunLimit: 10, storageKiB: 256 },
    };
  }
  try {
    parseManifest(raw, manifestPath);
  } catch (err) {
    throw new ManifestToolError(`the manifest would be invalid: ${(err as Error).message}`);
  }
  await writeFile(manifestPath, JSON.stringify(raw, null, 2) + '\n');
  out.write(`wrote ${manifestPath}: ${file} sha256 ${sha256}; hooks ${found.hooks.join(', ') || '(none)'}; capabilities ${found.capabilities.join(', ') || '(none)'}\n`);
  return manifestPath;
}
