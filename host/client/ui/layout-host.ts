// Runs the user's layout plugin (hook on_layout) and keeps the layout the page
// draws. The guest runs in its own sandbox thread (PluginHost); the main
// thread only awaits its answer (callJson, bounded by the manifest's callMs).
//
//   snapshot / viewport ──▶ LayoutInput ──(changed?)──▶ on_layout ──▶ LayoutTree ──▶ 'layout' event
//
// The guest is asked again only when the LayoutInput changes (status, role,
// certificate pending, viewport bucket, counts), never per snapshot. Until it
// has answered, and whenever it cannot, the built-in layout is shown, so the
// UI is never blank:
//   - fault (trap, garbage, a tree that breaks LayoutTreeSchema, killMs):
//     the plugin is disabled; built-in layout + notice until another layout
//     is chosen (choosing the same one again restarts it);
//   - late (no answer within callMs): built-in layout + notice, and the
//     guest is asked again after RETRY_MS (up to MAX_RETRIES times per input);
//     when it then answers in time, its layout replaces the fallback.
import { EventEmitter } from 'node:events';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Logger } from 'pino';
import { PluginError } from '../../plugins/errors.js';
import { LayoutOutput } from '../../plugins/hooks.js';
import { loadPluginFiles, type PluginFiles } from '../../plugins/manifest.js';
import { PluginHost } from '../../plugins/runtime.js';
import type { Latest } from '../core/latest.js';
import { emptySnapshot, type ClientSnapshot } from '../core/snapshot.js';
import { builtinLayout } from './builtin-layout.js';
import type { LayoutInput, LayoutTree } from './components.js';
import type { LayoutChoiceView } from './protocol.js';

/** Id that selects the built-in layout (no plugin). */
export const BUILTIN = 'builtin';
/** Preferred default when settings.json names none. */
export const DEFAULT_LAYOUT = 'layout-default';
export const RETRY_MS = 1000;
export const MAX_RETRIES = 5;
/** Viewport sizes are rounded down to this many CSS pixels before they reach the guest. */
export const VIEWPORT_BUCKET = 100;

export interface LayoutChoice {
  id: string;
  name: string;
  description: string;
  manifestPath: string;
  /** Where the wasm is, when not next to the manifest (shipped plugins: guests/<id>/build/). */
  wasmPath?: string;
}

export interface LayoutState {
  tree: LayoutTree;
  /** The plugin whose tree this is; null: the built-in layout. */
  plugin: string | null;
  notice: string | null;
  /** Grows by one per change. */
  version: number;
}

/** The layout plugins in a source checkout or installed package: manifests/layout-*.json (+ guests/<id>/build/). */
export function shippedLayouts(repoRoot: string): LayoutChoice[] {
  const dir = join(repoRoot, 'manifests');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => /^layout-[a-z0-9-]+\.json$/.test(f))
    .sort()
    .map((f) => {
      const id = f.replace(/\.json$/, '');
      const manifestPath = join(dir, f);
      let name = id;
      let description = '';
      try {
        const m = JSON.parse(readFileSync(manifestPath, 'utf8')) as { name?: unknown; description?: unknown };
        if (typeof m.name === 'string') name = m.name;
        if (typeof m.description === 'string') description = m.description;
      } catch {
        // a broken manifest is reported when it is chosen
      }
      return { id, name, description, manifestPath };
    })
    .sort((a, b) => (a.id === DEFAULT_LAYOUT ? -1 : b.id === DEFAULT_LAYOUT ? 1 : a.id.localeCompare(b.id)));
}

/** Reads a layout plugin's files; the wasm next to the manifest, else in ../guests/<id>/build/ (a source checkout). */
export async function layoutFiles(choice: Pick<LayoutChoice, 'manifestPath' | 'wasmPath'>): Promise<PluginFiles> {
  if (choice.wasmPath) return loadPluginFiles(choice.manifestPath, { wasmPath: choice.wasmPath });
  try {
    return await loadPluginFiles(choice.manifestPath);
  } catch (err) {
    if (!(err instanceof PluginError) || err.code !== 'WASM_UNREADABLE') throw err;
    const { readManifestFile } = await import('../../plugins/manifest.js');
    const m = await readManifestFile(choice.manifestPath);
    return loadPluginFiles(choice.manifestPath, { wasmPath: join(dirname(choice.manifestPath), '..', 'guests', m.id, 'build', m.wasm.file) });
  }
}

export function layoutInputOf(s: ClientSnapshot, viewport: { width: number; height: number }): LayoutInput {
  const b = (n: number) => Math.max(0, Math.floor(n / VIEWPORT_BUCKET) * VIEWPORT_BUCKET);
  return {
    status: s.connection.status,
    role: s.self?.role ?? null,
    certificatePending: s.connection.certificate !== null,
    serverName: s.connection.server?.name ?? null,
    viewport: { width: b(viewport.width), height: b(viewport.height) },
    users: s.users.length,
    channels: s.channels.length,
    errors: s.errors.length,
  };
}

export interface LayoutHostOptions {
  logger: Logger;
  choices: LayoutChoice[];
  /** Plugin id to start with (null: DEFAULT_LAYOUT if present, else the first choice, else the built-in layout). */
  active: string | null;
  /** Test hook: a PluginHost of one's own. */
  pluginHost?: PluginHost;
}

export class LayoutHost extends EventEmitter {
  private readonly log: Logger;
  private readonly plugins: PluginHost;
  private readonly choices: LayoutChoice[];
  private loaded: string | null = null;
  private wanted: string | null = null;
  private input: LayoutInput;
  private inputKey = '';
  private asking = false;
  private askAgain = false;
  private retries = 0;
  private retryTimer: NodeJS.Timeout | null = null;
  private closed = false;
  private gen = 0;
  private stateValue: LayoutState;
  private viewport = { width: 1280, height: 800 };

  private constructor(opts: LayoutHostOptions) {
    super();
    this.log = opts.logger.child({ component: 'layout' });
    this.plugins = opts.pluginHost ?? new PluginHost({ logger: opts.logger });
    this.choices = opts.choices;
    this.input = layoutInputOf(emptySnapshot(), this.viewport);
    this.stateValue = { tree: builtinLayout(this.input), plugin: null, notice: null, version: 0 };
  }

  static async start(opts: LayoutHostOptions): Promise<LayoutHost> {
    const h = new LayoutHost(opts);
    await h.select(opts.active);
    return h;
  }

  get state(): LayoutState {
    return this.stateValue;
  }

  /** The id of the layout in use (or wanted): a plugin id, or BUILTIN. */
  get active(): string {
    return this.wanted ?? BUILTIN;
  }

  list(): LayoutChoiceView[] {
    const active = this.active;
    return [{ id: BUILTIN, name: 'Built-in', description: 'The layout built into Hearth (no plugin)', active: active === BUILTIN }, ...this.choices.map((c) => ({ id: c.id, name: c.name, description: c.description, active: c.id === active }))];
  }

  /** Chooses the layout plugin (null: the default). Loads it in a fresh sandbox; the old one is unloaded. */
  async select(id: string | null): Promise<void> {
    const target = id === null ? (this.choices.find((c) => c.id === DEFAULT_LAYOUT) ?? this.choices[0])?.id ?? BUILTIN : id;
    const gen = ++this.gen;
    this.cancelRetry();
    this.retries = 0;
    if (this.loaded) {
      const old = this.loaded;
      this.loaded = null;
      await this.plugins.unload(old).catch(() => undefined);
    }
    this.wanted = target;
    if (target === BUILTIN) return this.set(builtinLayout(this.input), null, null);
    const choice = this.choices.find((c) => c.id === target);
    if (!choice) return this.set(builtinLayout(this.input, `Layout plugin ${target} is not installed — showing the built-in layout`), null, `not installed`);
    try {
      const files = await layoutFiles(choice);
      if (gen !== this.gen || this.closed) return;
      if (!files.manifest.hooks.includes('on_layout')) throw new Error(`${choice.manifestPath} has no on_layout hook`);
      // Choosing a layout plugin is the approval of what a layout may do: ui.layout (and logging), nothing else.
      const grants = files.manifest.capabilities.filter((c) => c === 'ui.layout' || c === 'log' || c === 'config.read');
      await this.plugins.load({ manifest: files.manifest, wasm: files.wasm, grants });
      if (gen !== this.gen || this.closed) {
        await this.plugins.unload(files.manifest.id).catch(() => undefined);
        return;
      }
      this.loaded = files.manifest.id;
      this.wanted = files.manifest.id;
      const c = this.choices.find((x) => x.id === target);
      if (c) {
        c.name = files.manifest.name;
        c.description = files.manifest.description;
      }
      this.log.info({ plugin: this.loaded }, `layout plugin ${this.loaded} loaded`);
    } catch (err) {
      if (gen !== this.gen) return;
      this.log.error({ plugin: target, err: (err as Error).message }, `layout plugin ${target} could not be loaded`);
      return this.set(builtinLayout(this.input, `Layout plugin ${target} failed to load: ${(err as Error).message} — showing the built-in layout`), null, (err as Error).message);
    }
    this.inputKey = JSON.stringify(this.input);
    this.ask();
  }

  /** A new snapshot (and the page's viewport, when it told one): asks the guest again only when its input changed. */
  update(s: ClientSnapshot, viewport?: { width: number; height: number }): void {
    if (viewport) this.viewport = viewport;
    this.input = layoutInputOf(s, this.viewport);
    const key = JSON.stringify(this.input);
    if (key === this.inputKey) return;
    this.inputKey = key;
    this.retries = 0;
    this.cancelRetry();
    if (!this.loaded) {
      // The built-in layout follows the input too (and keeps its notice).
      const notice = this.stateValue.notice;
      this.set(builtinLayout(this.input, notice ?? undefined), null, notice);
      return;
    }
    this.ask();
  }

  setViewport(viewport: { width: number; height: number }, s: ClientSnapshot): void {
    this.update(s, viewport);
  }

  private ask(): void {
    if (!this.loaded || this.closed) return;
    if (this.asking) {
      this.askAgain = true;
      return;
    }
    this.asking = true;
    const id = this.loaded;
    const gen = this.gen;
    const input = this.input;
    void this.plugins.callJson(id, 'on_layout', input, LayoutOutput).then((out) => {
      this.asking = false;
      if (gen !== this.gen || this.closed) return;
      if (out.status === 'ok') {
        this.retries = 0;
        this.set(out.value, id, null);
      } else if (out.status === 'late' || out.status === 'busy') {
        const ms = this.plugins.info(id).limits.callMs;
        this.fallback(`Layout plugin ${id} is slow (no answer within ${ms} ms) — showing the built-in layout`);
        if (this.retries < MAX_RETRIES && !this.askAgain) {
          this.retries++;
          this.cancelRetry();
          this.retryTimer = setTimeout(() => {
            this.retryTimer = null;
            this.ask();
          }, RETRY_MS);
          this.retryTimer.unref();
        }
      } else {
        const fault = out.status === 'fault' ? out.fault : this.plugins.info(id).fault;
        this.fallback(`Layout plugin ${id} failed: ${fault ? `${fault.kind}: ${fault.message}` : 'it is disabled'} — showing the built-in layout`);
        this.loaded = null;
        void this.plugins.unload(id).catch(() => undefined);
        return;
      }
      if (this.askAgain) {
        this.askAgain = false;
        this.ask();
      }
    });
  }

  private fallback(notice: string): void {
    this.log.warn({ plugin: this.loaded }, notice);
    this.set(builtinLayout(this.input, notice), null, notice);
  }

  private set(tree: LayoutTree, plugin: string | null, notice: string | null): void {
    this.stateValue = { tree, plugin, notice, version: this.stateValue.version + 1 };
    this.emit('layout', this.stateValue);
  }

  private cancelRetry(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.cancelRetry();
    await this.plugins.close();
  }
}

/**
 * Follows the layout choice in the state (action layout.select, saved in
 * settings.json): each choice loads the plugin at once, no restart (choosing
 * the one in use again restarts it, e.g. after a fault).
 * Returns the unsubscribe function.
 */
export function followLayoutChoice(state: Latest<ClientSnapshot>, host: LayoutHost): () => void {
  let seen = state.get().layout.selections;
  return state.subscribe((s) => {
    if (s.layout.selections === seen) return;
    seen = s.layout.selections;
    void host.select(s.layout.active);
  });
}
