// Where installed plugins live and how they get there: <data>/plugins/<id>/
// holds manifest.json and the wasm it names. Installing copies both in
// (sha256 checked) and records the admin's grants, tied to that sha256.
import { copyFile, mkdir, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { Store } from '../../db/store.js';
import { loadPluginFiles, type PluginFiles, type PluginManifest } from '../../plugins/manifest.js';
import { isCapability } from '../../plugins/capabilities.js';
import { approvedView } from './grants.js';

export const pluginsDir = (dataDir: string): string => join(dataDir, 'plugins');
export const installedManifestPath = (dataDir: string, id: string): string => join(pluginsDir(dataDir), id, 'manifest.json');

export class InstallError extends Error {}

/**
 * Reads a plugin to install. The wasm is looked for next to the manifest, then
 * (for first-party plugins in a source checkout: manifests/<id>.json) in
 * guests/<id>/build/.
 */
export async function readPluginSource(manifestPath: string, wasmPath?: string): Promise<PluginFiles> {
  const abs = resolve(manifestPath);
  if (wasmPath) return loadPluginFiles(abs, { wasmPath: resolve(wasmPath) });
  try {
    return await loadPluginFiles(abs);
  } catch (err) {
    if (basename(dirname(abs)) !== 'manifests') throw err;
    const files = await loadPluginFiles(abs, { wasmPath: join(dirname(abs), '..', 'guests', basename(abs, '.json'), 'build', `${basename(abs, '.json')}.wasm`) }).catch(() => null);
    if (files) return files;
    throw err;
  }
}

export interface InstallResult {
  manifest: PluginManifest;
  granted: string[];
  notGranted: string[];
  dir: string;
}

/** Copies the plugin into the data directory and records the grants (only requested capabilities count). */
export async function installPlugin(
  dataDir: string,
  store: Store,
  files: PluginFiles,
  grants: readonly string[],
  config: Record<string, unknown> = {},
): Promise<InstallResult> {
  const m = files.manifest;
  for (const g of grants) if (!isCapability(g)) throw new InstallError(`unknown capability "${g}"`);
  const granted = m.capabilities.filter((c) => grants.includes(c));
  const notGranted = m.capabilities.filter((c) => !grants.includes(c));
  const dir = join(pluginsDir(dataDir), m.id);
  const wasmTarget = join(dir, m.wasm.file);
  try {
    // wasm.file may name a subdirectory ("sub/x.wasm"): create it too.
    await mkdir(dirname(wasmTarget), { recursive: true });
    // The wasm first, then the manifest: a watcher that sees the new manifest finds its wasm.
    await copyFile(files.wasmPath, wasmTarget);
    await copyFile(files.manifestPath, join(dir, 'manifest.json'));
  } catch (err) {
    throw new InstallError(`cannot install ${m.id} into ${dir}: ${(err as Error).message.replace(/^[A-Z]+: /, '')}`);
  }
  // Installing is an approval of this wasm (its sha256) with these grants.
  store.plugins.upsert(m.id, granted, m.wasm.sha256, config, Date.now(), approvedView(m));
  return { manifest: m, granted, notGranted, dir };
}

export async function removePlugin(dataDir: string, store: Store, id: string): Promise<boolean> {
  const known = store.plugins.remove(id);
  const dir = join(pluginsDir(dataDir), id);
  const present = existsSync(dir);
  await rm(dir, { recursive: true, force: true });
  return known || present;
}
