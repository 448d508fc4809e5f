// Checks a capture chain's guests before any thread is started, the same way
// PluginHost.load does for one plugin (sha256, config, grants, imports,
// memory cap, exports), and puts them in chain order: the echo canceller,
// then the noise suppressor, then the effects in the order given.
import { HOOK_CAPABILITY, type Capability } from '../capabilities.js';
import { PluginError } from '../errors.js';
import { SLOT_HOOK, AUDIO_SLOTS, type AudioSlot } from '../hooks.js';
import { audioSlotOf, PAGES_PER_MIB, resolveConfig, verifyWasm, type PluginLimits, type PluginManifest } from '../manifest.js';
import type { WasmModule } from '../platform.js';
import { prepareModule } from '../wasm-limits.js';
import { MAX_GUESTS, type ChainGuestInit } from './chain-protocol.js';

/** One audio guest of the capture chain, as the caller describes it. */
export interface ChainGuest {
  manifest: PluginManifest;
  wasm: Uint8Array;
  /** Capabilities the user approved; only those the manifest requests take effect (audio.intercept is needed). */
  grants: Iterable<string>;
  /** Overlaid on the manifest's config defaults and validated against its schema. */
  config?: Record<string, unknown>;
  /** Its slot; must agree with the manifest's `audio.slot` when that is set. Default: the manifest's (audioSlotOf). */
  slot?: AudioSlot;
  /** Initial key/value data (storage capability); writes come back as effects. */
  kv?: [string, string][];
}

/** A checked guest: everything a chain thread needs to instantiate it, kept for restarts. */
export interface PreparedGuest {
  pluginId: string;
  slot: AudioSlot;
  limits: PluginLimits;
  init: ChainGuestInit;
  /** The names of the stats it publishes (manifest audio.stats). */
  statNames: string[];
}

const RANK: Record<AudioSlot, number> = { aec: 0, ns: 1, effect: 2 };

// PluginError codes: a guest that cannot fill its slot is MANIFEST_INVALID,
// a chain that cannot be built (too many guests, two in one slot, a capability
// not granted) LOAD_FAILED, the same plugin twice DUPLICATE_ID.
function chainError(message: string, id?: string, code: 'MANIFEST_INVALID' | 'LOAD_FAILED' | 'DUPLICATE_ID' = 'LOAD_FAILED'): PluginError {
  return new PluginError(code, message, id);
}

// Compiled modules by wasm bytes + cap: replace() with the same guests does not recompile.
const compiled = new WeakMap<Uint8Array, Map<number, WasmModule>>();

async function compile(g: ChainGuest, hook: string): Promise<WasmModule> {
  const maxPages = g.manifest.limits.memoryMiB * PAGES_PER_MIB;
  const cached = compiled.get(g.wasm)?.get(maxPages);
  if (cached) return cached;
  const module = await prepareModule(g.wasm, { pluginId: g.manifest.id, maxPages, requiredExports: [hook] });
  const byCap = compiled.get(g.wasm) ?? new Map<number, WasmModule>();
  byCap.set(maxPages, module);
  compiled.set(g.wasm, byCap);
  return module;
}

export async function prepareGuest(g: ChainGuest): Promise<PreparedGuest> {
  const m = g.manifest;
  const id = m.id;
  verifyWasm(m, g.wasm);
  const declared = audioSlotOf(m);
  const slot = g.slot ?? declared;
  if (slot === null || !AUDIO_SLOTS.includes(slot)) {
    throw chainError(`plugin ${id} has no raw audio hook (on_audio_raw or on_aec_raw): it cannot be in the capture chain`, id, 'MANIFEST_INVALID');
  }
  if (m.audio && g.slot && g.slot !== m.audio.slot) {
    throw chainError(`plugin ${id} is a "${m.audio.slot}" plugin (manifest audio.slot) but was put in the "${g.slot}" slot`, id, 'MANIFEST_INVALID');
  }
  const hook = SLOT_HOOK[slot];
  if (!m.hooks.includes(hook)) throw chainError(`plugin ${id} cannot fill the "${slot}" slot: it does not declare the ${hook} hook`, id, 'MANIFEST_INVALID');
  const requested = new Set<string>(m.capabilities);
  const grants = [...new Set([...g.grants].filter((c) => requested.has(c)))] as Capability[];
  const needed = HOOK_CAPABILITY[hook]!;
  if (!grants.includes(needed)) throw chainError(`plugin ${id}: ${hook} needs the "${needed}" capability, which was not granted`, id);
  const config = resolveConfig(m, g.config ?? {});
  const module = await compile(g, hook);
  return {
    pluginId: id,
    slot,
    limits: m.limits,
    statNames: m.audio?.stats ?? [],
    init: {
      pluginId: id,
      module,
      hook,
      grants,
      config,
      kv: grants.includes('storage') ? (g.kv ?? []) : [],
      memoryMiB: m.limits.memoryMiB,
      storageBytes: m.limits.storageKiB * 1024,
      callUs: m.limits.callMs * 1000,
      statsCount: m.audio?.stats.length ?? 0,
    },
  };
}

/** Checks and orders a whole chain. Throws PluginError (the first problem found). */
export async function prepareChain(guests: readonly ChainGuest[]): Promise<PreparedGuest[]> {
  if (guests.length > MAX_GUESTS) throw chainError(`a capture chain holds at most ${MAX_GUESTS} guests, got ${guests.length}`);
  const ids = new Set<string>();
  for (const g of guests) {
    if (ids.has(g.manifest.id)) throw chainError(`plugin ${g.manifest.id} is in the chain twice`, g.manifest.id, 'DUPLICATE_ID');
    ids.add(g.manifest.id);
  }
  const prepared = await Promise.all(guests.map(prepareGuest));
  for (const slot of ['aec', 'ns'] as const) {
    const holders = prepared.filter((p) => p.slot === slot);
    if (holders.length > 1) throw chainError(`the "${slot}" slot holds one plugin, got ${holders.map((p) => p.pluginId).join(', ')}`);
  }
  // Stable: effects keep the order given.
  return prepared.map((p, i) => ({ p, i })).sort((a, b) => RANK[a.p.slot] - RANK[b.p.slot] || a.i - b.i).map(({ p }) => p);
}
