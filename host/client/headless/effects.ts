// Audio guests for the capture chain, from manifest files: read and verified
// (sha256), their slot decided, grants taken from what the user approved.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { loadPluginFiles, readManifestFile, resolveConfig, type PluginManifest } from '../../plugins/manifest.js';
import type { ChainGuestSpec } from '../audio/engine-protocol.js';

export function slotOf(manifest: PluginManifest): ChainGuestSpec['slot'] {
  const declared = (manifest as { audio?: { slot?: string } }).audio?.slot;
  if (declared === 'aec' || declared === 'ns' || declared === 'effect') return declared;
  return (manifest.hooks as string[]).includes('on_aec_raw') ? 'aec' : 'effect';
}

/**
 * Loads one audio guest. `grants`: the capabilities the user approved for
 * this exact wasm (by its sha256); only those the manifest requests count.
 */
export async function loadChainGuest(manifestPath: string, grants: string[], config: Record<string, unknown> = {}): Promise<ChainGuestSpec> {
  // A manifest has its wasm beside it (installed layout), or, for the shipped
  // manifests/<id>.json of a source checkout, in guests/<id>/build/.
  const m = await readManifestFile(manifestPath);
  const beside = join(dirname(manifestPath), m.wasm.file);
  const shipped = join(dirname(manifestPath), '..', 'guests', m.id, 'build', m.wasm.file);
  const { manifest, wasm } = await loadPluginFiles(manifestPath, existsSync(beside) || !existsSync(shipped) ? {} : { wasmPath: shipped });
  const hooks = manifest.hooks as string[];
  if (!hooks.some((h) => h === 'on_audio_raw' || h === 'on_aec_raw')) {
    throw new Error(`${manifestPath}: plugin ${manifest.id} has no raw audio hook (on_audio_raw or on_aec_raw), so it cannot run in the capture chain`);
  }
  return {
    manifest,
    wasm,
    grants: grants.filter((g) => (manifest.capabilities as string[]).includes(g)),
    config: resolveConfig(manifest, config),
    slot: slotOf(manifest),
    enabled: true,
  };
}
