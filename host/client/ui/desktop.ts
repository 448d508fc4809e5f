// `hearth client` (no --headless): the desktop client. It starts the core
// with real devices (the sound cards named in settings.json, or the system
// defaults), the config store, the client logger and the client audio plugins
// (shipped, and <config>/plugins/<id>/manifest.json), runs the chosen layout
// plugin, serves the UI on 127.0.0.1 and opens it in an app window. The first
// line it prints is the UI's address with its secret, window or not.
// It exits cleanly on SIGINT / SIGTERM, when the user quits from the UI, or
// when the app window it opened is closed.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import { parseDeviceSpec } from '../audio/devices/index.js';
import type { CaptureSpec, PlaybackSpec } from '../audio/engine-protocol.js';
import { ClientCore } from '../core/client-core.js';
import { createClientLogger } from '../core/client-logger.js';
import { ClientConfigStore } from '../core/config-store.js';
import { clientPaths, type ClientPaths } from '../core/paths.js';
import { loadSettings } from '../core/settings-sync.js';
import { openUi } from './launch.js';
import { followLayoutChoice, LayoutHost, shippedLayouts, type LayoutChoice } from './layout-host.js';
import { DEFAULT_STATIC_DIR, UiServer } from './ui-server.js';

/** dist/host/client/ui → the package root (manifests/, guests/*\/build/). */
export const PACKAGE_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

export interface DesktopOptions {
  /** Open no window (remote use, tests). */
  noWindow?: boolean;
  /** UI port (default: random). */
  port?: number;
  /** A layout plugin's manifest to use for this run (it is added to the choices and selected). */
  layout?: string;
  /** Device overrides: "none", "virtual", "wav:PATH", "portaudio:NAME". */
  input?: string;
  output?: string;
  /** Default: dist/ui. */
  staticDir?: string;
  paths?: ClientPaths;
  /** Where the first line (the address) and other lines for people go. */
  print?: (line: string) => void;
}

export class DesktopError extends Error {
  constructor(message: string, readonly exitCode = 2) {
    super(message);
    this.name = 'DesktopError';
  }
}

export interface Desktop {
  url: string;
  core: ClientCore;
  ui: UiServer;
  layout: LayoutHost;
  logger: Logger;
  /** Resolves when the client has shut down (quit, signal, window closed, or stop()). */
  done: Promise<void>;
  stop(): Promise<void>;
}

function deviceSpecs(o: DesktopOptions, store: ClientConfigStore): { capture: CaptureSpec; playback: PlaybackSpec } {
  const saved = loadSettings(store).devices;
  const spec = (flag: string | undefined, name: string | null, which: string): CaptureSpec & PlaybackSpec => {
    if (flag === undefined) return { kind: 'portaudio', name };
    try {
      return parseDeviceSpec(flag) as CaptureSpec & PlaybackSpec;
    } catch (err) {
      throw new DesktopError(`--${which} ${flag}: ${(err as Error).message}`);
    }
  };
  return { capture: spec(o.input, saved.input, 'input'), playback: spec(o.output, saved.output, 'output') };
}

function layoutChoice(path: string): LayoutChoice {
  let id: string;
  try {
    id = String((JSON.parse(readFileSync(path, 'utf8')) as { id?: unknown }).id ?? '');
  } catch (err) {
    throw new DesktopError(`--layout ${path}: ${(err as Error).message}`);
  }
  if (!/^[a-z][a-z0-9-]{1,39}$/.test(id)) throw new DesktopError(`--layout ${path}: not a plugin manifest (no valid "id")`);
  return { id, name: id, description: '', manifestPath: path };
}

export async function startDesktop(o: DesktopOptions = {}): Promise<Desktop> {
  const print = o.print ?? ((line: string) => void process.stdout.write(line + '\n'));
  const paths = o.paths ?? clientPaths();
  // Logs go to the file only: the terminal's first line is the address.
  const log = await createClientLogger({ paths, pretty: false });
  const logger = log.logger;
  const store = new ClientConfigStore(paths);
  let core: ClientCore | null = null;
  let layout: LayoutHost | null = null;
  let ui: UiServer | null = null;
  let resolveDone!: () => void;
  const done = new Promise<void>((r) => (resolveDone = r));
  let stopping: Promise<void> | null = null;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      logger.info('desktop client shutting down');
      await ui?.close().catch(() => undefined);
      await layout?.close().catch(() => undefined);
      await core?.close().catch(() => undefined);
      await log.close();
      resolveDone();
    })();
    return stopping;
  };
  try {
    const { capture, playback } = deviceSpecs(o, store);
    // Client audio plugins: the shipped ones with a raw audio hook, and the user's own in <config>/plugins/<id>/.
    const pluginDirs = { shipped: join(PACKAGE_ROOT, 'manifests'), installed: join(paths.configDir, 'plugins') };
    core = await ClientCore.start({ logger, knownHostsFile: store.path('known_hosts.json'), capture, playback, store, pluginDirs, confirmFirstUse: true, onQuit: () => void stop() });
    const choices = shippedLayouts(PACKAGE_ROOT);
    let active = core.state.get().layout.active;
    if (o.layout) {
      const c = layoutChoice(o.layout);
      const i = choices.findIndex((x) => x.id === c.id);
      if (i >= 0) choices[i] = c;
      else choices.push(c);
      active = c.id;
    }
    layout = await LayoutHost.start({ logger, choices, active });
    followLayoutChoice(core.state, layout);
    ui = await UiServer.start({ logger, core, layout, ...(o.port !== undefined ? { port: o.port } : {}), ...(o.staticDir ? { staticDir: o.staticDir } : {}) });
  } catch (err) {
    await stop();
    throw err;
  }
  print(ui.url);
  const page = join(o.staticDir ?? DEFAULT_STATIC_DIR, 'index.html');
  if (!existsSync(page)) {
    logger.warn({ page }, 'the UI page is not built');
    print(`the UI page is not built (${page} is missing): run node scripts/build-ui.mjs`);
  }
  logger.info({ port: ui.port, noWindow: Boolean(o.noWindow) }, `desktop UI at 127.0.0.1:${ui.port}`);
  if (!o.noWindow) {
    const started = Date.now();
    const w = openUi(ui.url, { profileDir: join(paths.stateDir, 'browser-profile'), logger });
    print(w.plan ? `opened the UI with ${w.plan.command}${w.plan.kind === 'app' ? ' (app window)' : ''}` : 'no browser found: open the address above');
    // Closing the app window quits the client (a quick exit is Chromium handing over to a running instance: ignored).
    w.child?.on('exit', () => {
      if (Date.now() - started > 3000) void stop();
    });
  }
  return { url: ui.url, core, ui, layout, logger, done, stop };
}

/** The CLI's entry: runs until quit or a signal; returns the exit code. */
export async function runDesktop(o: DesktopOptions = {}): Promise<number> {
  // The handlers go in before start-up: a signal that arrives while it runs (even right
  // after the address is printed) must still end in a clean stop, not the default kill.
  let d: Awaited<ReturnType<typeof startDesktop>> | null = null;
  let signalled = false;
  const onSignal = (): void => {
    signalled = true;
    if (d) void d.stop();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    d = await startDesktop(o);
    if (signalled) void d.stop();
    await d.done;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  return 0;
}
