// The client core's options and its initial view (settings.json, saved
// servers and the explicit options merged), kept out of client-core.ts.
import type { Logger } from 'pino';
import type { CaptureSpec, ChainGuestSpec, EngineSettings, PlaybackSpec } from '../audio/engine-protocol.js';
import type { PluginDirs } from './client-plugins.js';
import type { ClientConfigStore } from './config-store.js';
import { loadSettings, type LoadedSettings } from './settings-sync.js';
import type { CoreView } from './snapshot-builder.js';
import { emptySnapshot } from './snapshot.js';
import { uiViewFields } from './ui-actions.js';

export interface ClientCoreOptions {
  logger: Logger;
  /** Trust-on-first-use store (known_hosts.json in the config dir). */
  knownHostsFile: string;
  capture?: CaptureSpec;
  playback?: PlaybackSpec;
  /** Device latency beyond one frame, for the echo canceller's reference (samples). */
  extraEchoDelaySamples?: number;
  /** Audio guests given on the command line (--effect): granted there, listed with the others. */
  chain?: ChainGuestSpec[];
  /** Where to find the client audio plugins the user manages (client-plugins.ts); none without it. */
  pluginDirs?: PluginDirs;
  settings?: Partial<EngineSettings>;
  /** Per user name: local volume/mute/pan. */
  userMix?: Record<string, { volume: number; muted: boolean; pan: number }>;
  /** Voice lane overrides for tests (a relay in between). */
  udpHost?: string;
  udpPort?: number;
  fallbackAfterMs?: number;
  reconnect?: { baseMs?: number; maxMs?: number };
  /**
   * The user's config store: settings.json seeds the engine settings (explicit
   * `settings` / `userMix` options win) and changes the user makes are saved
   * back. Without it nothing is persisted (tests, one-off headless runs).
   */
  store?: ClientConfigStore;
  /** Called when the user quits from the UI (action `quit`). */
  onQuit?: () => void;
  /**
   * Ask before trusting a server seen for the first time: the connection
   * stops at `certificate` (pinned null, offered shown) until the user sends
   * trust.accept. The desktop UI sets it; the headless client trusts on first
   * use and pins, as SSH does with StrictHostKeyChecking=accept-new.
   */
  confirmFirstUse?: boolean;
}

export function initialView(opts: ClientCoreOptions): { view: CoreView; saved: LoadedSettings | null; ui: ReturnType<typeof uiViewFields> } {
  const saved = opts.store ? loadSettings(opts.store) : null;
  const ui = uiViewFields(opts.store);
  const view: CoreView = {
    conn: { ...emptySnapshot().connection },
    control: null,
    chat: [],
    engine: null,
    settings: {
      gate: { mode: 'vad', thresholdDb: -45, hangoverMs: 300 },
      selfMute: false,
      deaf: false,
      outputVolume: 1,
      inputGainDb: 0,
      speakers: {},
      loopback: false,
      ...saved?.engine,
      ...opts.settings,
    },
    pttDown: false,
    userMix: { ...saved?.userMix, ...(opts.userMix ?? {}) },
    errors: [],
    requests: {},
    listenerLossPercent: 0,
    tokenNames: new Map(),
    available: null,
    servers: ui.servers,
    layout: ui.layout,
    pttKey: ui.pttKey,
    quitting: false,
    clientPlugins: null,
  };
  return { view, saved, ui };
}
