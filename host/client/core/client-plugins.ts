// The client's audio plugins: found on disk, granted by the user, switched on
// and off live in the capture chain.
//
//   <package>/manifests/*.json          shipped (wasm in guests/<id>/build/)
//   <config>/plugins/<id>/manifest.json installed by the user (wasm beside it)
//   --effect MANIFEST                    the headless client (granted on the command line)
//
// Only plugins with a raw audio hook (on_audio_raw or on_aec_raw) are client
// audio plugins; layout and server-only plugins are skipped. A plugin runs
// only when every capability its manifest asks for is granted to its exact
// wasm (plugin-grants.json, keyed by the wasm's sha256: a changed wasm asks
// again) and the user switched it on (settings.json plugins.enabled; off until
// then). The chain thread gets every runnable plugin; switching one that it
// already holds is live (no restart), anything else rebuilds the chain (the
// old one keeps serving frames until the new one is ready).
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { CAPABILITIES } from '../../plugins/capabilities.js';
import { CAPABILITY_WORDS } from '../../plugins/capability-words.js';
import { audioSlotOf, readManifestFile, resolveConfig, sha256Hex } from '../../plugins/manifest.js';
import type { ChainGuestSpec, GuestReport } from '../audio/engine-protocol.js';
import { loadChainGuest } from '../headless/effects.js';
import type { ClientAction } from './actions.js';
import type { ClientConfigStore } from './config-store.js';
import type { ClientPluginView, PluginSetting } from './snapshot.js';

export const PLUGIN_ACTIONS = new Set<ClientAction['type']>(['plugin.enable', 'plugin.grant', 'plugin.revoke', 'plugin.config']);

/**
 * First-party DSP guests that run unless the user switches them off: the
 * echo canceller and the noise suppressor (docs/DSP.md). Shipped ones only:
 * their wasm is checked against the package's own manifest (sha256), so they
 * are granted what they ask for as the rest of Hearth's code is; an installed
 * plugin of the same id is the user's and asks like any other.
 */
export const DEFAULT_ON = new Set(['aec', 'ns']);
const firstParty = (f: { id: string; source: Entry['source']; sha256: string | null }): boolean => f.source === 'shipped' && f.sha256 !== null && DEFAULT_ON.has(f.id);

/** Where to look for client audio plugins. */
export interface PluginDirs {
  /** Shipped manifests (<package>/manifests). */
  shipped?: string;
  /** The user's own: <dir>/<id>/manifest.json with the wasm beside it (<config>/plugins). */
  installed?: string;
}

/** What each capability lets a plugin do, in a person's words. */
export { CAPABILITY_WORDS };

interface Entry {
  id: string;
  name: string;
  version: string;
  description: string;
  slot: ClientPluginView['slot'];
  source: ClientPluginView['source'];
  /** Null when the plugin could not be loaded (see fault). */
  spec: ChainGuestSpec | null;
  sha256: string | null;
  requested: string[];
  granted: string[];
  enabled: boolean;
  fault: string | null;
  error: string | null;
}

type Found = Omit<Entry, 'granted' | 'enabled' | 'error'>;

const ID_RE = /^[a-z][a-z0-9-]{1,39}$/;

async function loadOne(manifestPath: string, source: Entry['source'], idGuess: string, log: Logger): Promise<Found | null> {
  let m;
  try {
    m = await readManifestFile(manifestPath);
  } catch (err) {
    log.warn({ manifestPath, err: (err as Error).message }, 'client plugin manifest unreadable');
    // An installed plugin the user put there is listed with its problem; a broken shipped file is only logged.
    if (source !== 'installed' || !ID_RE.test(idGuess)) return null;
    return { id: idGuess, name: idGuess, version: '', description: '', slot: 'effect', source, spec: null, sha256: null, requested: [], fault: (err as Error).message };
  }
  const slot = audioSlotOf(m);
  if (!slot) return null; // a layout or server-side plugin: not for the capture chain
  const base = { id: m.id, name: m.name, version: m.version, description: m.description, slot, source, requested: [...(m.capabilities as string[])] };
  try {
    const spec = await loadChainGuest(manifestPath, []);
    return { ...base, spec: { ...spec, enabled: false }, sha256: sha256Hex(spec.wasm), fault: null };
  } catch (err) {
    log.warn({ plugin: m.id, manifestPath, err: (err as Error).message }, 'client plugin not loadable');
    return { ...base, spec: null, sha256: null, fault: (err as Error).message };
  }
}

/** The client audio plugins in `dirs` (shipped first, by file name; then installed, by folder name). */
export async function discoverClientPlugins(dirs: PluginDirs, log: Logger): Promise<Found[]> {
  const out: Found[] = [];
  const list = (dir: string | undefined): string[] => {
    if (!dir || !existsSync(dir)) return [];
    try {
      return readdirSync(dir).sort();
    } catch (err) {
      log.warn({ dir, err: (err as Error).message }, 'cannot list a client plugin folder');
      return [];
    }
  };
  for (const f of list(dirs.shipped)) {
    if (!f.endsWith('.json')) continue;
    const e = await loadOne(join(dirs.shipped!, f), 'shipped', f.slice(0, -5), log);
    if (e) out.push(e);
  }
  for (const d of list(dirs.installed)) {
    const mp = join(dirs.installed!, d, 'manifest.json');
    if (!existsSync(mp)) continue;
    const e = await loadOne(mp, 'installed', d, log);
    if (!e) continue;
    // The user's own copy replaces a shipped plugin of the same id.
    const i = out.findIndex((x) => x.id === e.id);
    if (i >= 0) out.splice(i, 1);
    out.push(e);
  }
  return out;
}

export interface ClientPluginsDeps {
  engine: { chain(guests: ChainGuestSpec[]): void; enableGuest(pluginId: string, on: boolean): void };
  store?: ClientConfigStore | undefined;
  log: Logger;
  addError(code: string, message: string): void;
}

export class ClientPlugins {
  private readonly entries: Entry[] = [];
  /** Ids and grants of the chain last sent to the engine, and which of its guests the chain thread holds (and whether on). */
  private sentKey = '';
  private readonly held = new Map<string, boolean>();

  /** `fixed`: guests given on the command line (already granted); `found`: discoverClientPlugins(). */
  constructor(private readonly deps: ClientPluginsDeps, fixed: ChainGuestSpec[], found: Found[]) {
    for (const g of fixed) {
      const requested = [...(g.manifest.capabilities as string[])];
      this.entries.push({ id: g.manifest.id, name: g.manifest.name, version: g.manifest.version, description: g.manifest.description, slot: g.slot, source: 'command line', spec: g, sha256: sha256Hex(g.wasm), requested, granted: g.grants.filter((c) => requested.includes(c)), enabled: g.enabled, fault: null, error: null });
    }
    const settings = this.settings();
    for (const f of found) {
      if (this.entries.some((e) => e.id === f.id)) continue; // the command line's wins
      const granted = firstParty(f) ? [...f.requested] : f.sha256 ? this.grantsOf(f.id, f.sha256) : [];
      const entry: Entry = { ...f, granted, enabled: settings?.enabled[f.id] ?? firstParty(f), error: null };
      const saved = settings?.config[f.id];
      if (saved && entry.spec) {
        try {
          entry.spec = { ...entry.spec, config: resolveConfig(entry.spec.manifest, saved) };
        } catch (err) {
          // The defaults run; the saved config stays in the file for the user to fix.
          entry.error = `saved config ignored: ${(err as Error).message}`;
          this.deps.addError('CONFIG_INVALID', `settings.json plugins.config.${f.id}: ${(err as Error).message} (running on its defaults)`);
        }
      }
      this.entries.push(entry);
    }
    const order = settings?.order;
    if (order) {
      const rank = (id: string) => (order.includes(id) ? order.indexOf(id) : order.length);
      this.entries.sort((a, b) => (a.source === 'command line' ? -1 : 0) - (b.source === 'command line' ? -1 : 0) || rank(a.id) - rank(b.id));
    }
  }

  private settings(): { enabled: Record<string, boolean>; order?: string[] | undefined; config: Record<string, Record<string, unknown>> } | null {
    try {
      return this.deps.store?.loadSettings().plugins ?? null;
    } catch {
      return null; // a bad settings.json is reported by the core
    }
  }

  private grantsOf(id: string, sha256: string): string[] {
    try {
      return this.deps.store?.grantsFor(sha256, id) ?? [];
    } catch (err) {
      this.deps.addError('CONFIG_INVALID', `${(err as Error).message} (no client plugin is granted anything until it is fixed)`);
      return [];
    }
  }

  get ids(): string[] {
    return this.entries.map((e) => e.id);
  }

  private runnable(e: Entry): boolean {
    // The command line (--effect) is the approval of what it granted, as before.
    return e.spec !== null && (e.source === 'command line' || e.requested.every((c) => e.granted.includes(c)));
  }

  /** Sends the chain to the engine when what it should hold changed; a switch of a guest it holds is live. */
  apply(): void {
    const specs = this.entries.filter((e) => this.runnable(e)).map((e) => ({ ...e.spec!, grants: [...e.granted], enabled: e.enabled }));
    // A changed config restarts the chain thread with it (guests read their config when they start).
    const key = specs.map((s) => `${s.manifest.id}:${s.grants.join('+')}:${JSON.stringify(s.config)}`).join(',');
    if (key !== this.sentKey || specs.some((s) => s.enabled && !this.held.has(s.manifest.id))) {
      if (key !== '' || this.sentKey !== '') this.deps.engine.chain(specs);
      this.sentKey = key;
      this.held.clear();
      for (const s of specs) if (s.enabled) this.held.set(s.manifest.id, true);
      return;
    }
    for (const s of specs) {
      const on = this.held.get(s.manifest.id);
      if (on !== undefined && on !== s.enabled) {
        this.deps.engine.enableGuest(s.manifest.id, s.enabled);
        this.held.set(s.manifest.id, s.enabled);
      }
    }
  }

  /** plugin.enable / plugin.grant / plugin.revoke. */
  handle(a: ClientAction): void {
    if (a.type !== 'plugin.enable' && a.type !== 'plugin.grant' && a.type !== 'plugin.revoke' && a.type !== 'plugin.config') return;
    const e = this.entries.find((x) => x.id === a.pluginId);
    if (!e) return this.deps.addError('NOT_FOUND', `no client audio plugin ${a.pluginId} is installed`);
    e.error = null;
    if (a.type === 'plugin.enable') {
      e.enabled = a.on;
      if (e.source !== 'command line') this.persistEnabled(e);
    } else if (a.type === 'plugin.grant') this.grant(e, a.capabilities);
    else if (a.type === 'plugin.config') this.configure(e, a.config);
    else this.revoke(e);
    this.apply();
  }

  private refuse(e: Entry, code: string, message: string): void {
    e.error = message;
    this.deps.addError(code, message);
  }

  private grant(e: Entry, capabilities: string[]): void {
    if (e.source === 'command line') return this.refuse(e, 'GRANT_REFUSED', `${e.id} was granted on the command line (--effect); restart without it to manage its grant here`);
    if (!e.spec || !e.sha256) return this.refuse(e, 'GRANT_REFUSED', `${e.id} cannot be granted anything: it did not load (${e.fault ?? 'unknown problem'})`);
    const unknown = capabilities.filter((c) => !e.requested.includes(c));
    if (unknown.length) {
      const what = unknown.map((c) => ((CAPABILITIES as readonly string[]).includes(c) ? `"${c}" (it does not ask for it)` : `"${c}" (no such capability)`)).join(', ');
      return this.refuse(e, 'GRANT_REFUSED', `nothing granted to ${e.name}: ${what}; it asks for ${e.requested.join(', ') || 'nothing'}`);
    }
    const grants = [...new Set(capabilities)];
    try {
      this.deps.store?.recordGrants(e.sha256, { pluginId: e.id, version: e.version, grants });
    } catch (err) {
      return this.refuse(e, 'CONFIG_NOT_SAVED', `grant for ${e.name} not saved: ${(err as Error).message}`);
    }
    e.granted = grants;
    this.deps.log.info({ plugin: e.id, sha256: e.sha256, grants }, `client plugin ${e.id} granted ${grants.join(', ') || 'nothing'}`);
  }

  private revoke(e: Entry): void {
    if (firstParty(e)) return this.refuse(e, 'GRANT_REFUSED', `${e.name} is part of Hearth and granted with it; switch it off instead`);
    if (e.source === 'command line') return this.refuse(e, 'GRANT_REFUSED', `${e.id} was granted on the command line (--effect); restart without it to manage its grant here`);
    try {
      if (e.sha256) this.deps.store?.revokeGrants(e.sha256);
    } catch (err) {
      return this.refuse(e, 'CONFIG_NOT_SAVED', `grant for ${e.name} not withdrawn: ${(err as Error).message}`);
    }
    e.granted = [];
    this.deps.log.info({ plugin: e.id, sha256: e.sha256 }, `client plugin ${e.id}: grant withdrawn`);
  }

  private configure(e: Entry, config: Record<string, unknown>): void {
    if (!e.spec) return this.refuse(e, 'CONFIG_REFUSED', `${e.id} cannot be configured: it did not load (${e.fault ?? 'unknown problem'})`);
    let resolved: Record<string, unknown>;
    try {
      resolved = resolveConfig(e.spec.manifest, config);
    } catch (err) {
      return this.refuse(e, 'CONFIG_REFUSED', `config for ${e.name} refused: ${(err as Error).message}`);
    }
    e.spec = { ...e.spec, config: resolved };
    if (e.source === 'command line') return;
    try {
      this.deps.store?.updateSettings((cur) => ({ ...cur, plugins: { ...cur.plugins, config: { ...cur.plugins.config, [e.id]: config } } }));
    } catch (err) {
      this.deps.addError('CONFIG_NOT_SAVED', (err as Error).message);
    }
  }

  private persistEnabled(e: Entry): void {
    try {
      this.deps.store?.updateSettings((cur) => ({ ...cur, plugins: { ...cur.plugins, enabled: { ...cur.plugins.enabled, [e.id]: e.enabled } } }));
    } catch (err) {
      this.deps.addError('CONFIG_NOT_SAVED', (err as Error).message);
    }
  }

  /** Every plugin as the snapshot shows it, with the chain thread's figures (`reports`). */
  view(reports: GuestReport[]): ClientPluginView[] {
    return this.entries.map((e) => {
      const r = this.held.has(e.id) ? reports.find((g) => g.pluginId === e.id) : undefined;
      const missing = e.source === 'command line' ? [] : e.requested.filter((c) => !e.granted.includes(c));
      let status: ClientPluginView['status'];
      let reason: string | null = null;
      if (e.fault || !e.spec) {
        status = 'fault';
        reason = e.fault ?? 'it did not load';
      } else if (missing.length) {
        status = 'not granted';
        reason = `not granted: it needs ${missing.map((c) => CAPABILITY_WORDS[c] ?? c).join(', ')} (${missing.join(', ')})`;
      } else if (!e.enabled) {
        status = 'disabled';
        reason = 'disabled: switch it on to use it';
      } else if (!r || r.state === 'starting' || r.state === 'off') status = 'starting';
      else if (r.state === 'running') status = 'running';
      else {
        status = 'fault';
        reason = `${r.state}${r.message ? `: ${r.message}` : ''}`;
      }
      return {
        id: e.id,
        name: e.name,
        version: e.version,
        description: e.description,
        slot: e.slot,
        source: e.source,
        sha256: e.sha256,
        requested: [...e.requested],
        granted: [...e.granted],
        enabled: e.enabled,
        status,
        reason,
        figures: r ? { state: r.state, calls: r.calls, overruns: r.overruns, bypassed: r.bypassed, faults: r.faults, lastUs: r.lastUs, published: r.published ?? {} } : null,
        error: e.error,
        firstParty: firstParty(e),
        settings: e.spec ? settingsOf(e.spec.manifest.config.schema, e.spec.config) : [],
      };
    });
  }
}

/** The simple (number, integer, boolean) properties of a config schema, with their current values: what the page can offer as controls. */
function settingsOf(schema: Record<string, unknown>, config: Record<string, unknown>): PluginSetting[] {
  const props = (schema.properties ?? {}) as Record<string, Record<string, unknown>>;
  const out: PluginSetting[] = [];
  for (const [key, p] of Object.entries(props)) {
    const type = p.type;
    const value = config[key];
    if ((type === 'number' || type === 'integer') && typeof value === 'number') {
      out.push({ key, type, value, description: typeof p.description === 'string' ? p.description : key, ...(typeof p.minimum === 'number' ? { minimum: p.minimum } : {}), ...(typeof p.maximum === 'number' ? { maximum: p.maximum } : {}) });
    } else if (type === 'boolean' && typeof value === 'boolean') out.push({ key, type, value, description: typeof p.description === 'string' ? p.description : key });
  }
  return out;
}
