// The core's local actions: what only changes this client's audio (voice
// mode, per-user mix, devices, loopback, the capture chain's plugins). They
// never touch the network; client-core.ts hands them here.
import type { AudioEngine } from '../audio/engine.js';
import type { ClientAction } from './actions.js';
import type { ClientCoreOptions } from './core-options.js';
import type { CoreView } from './snapshot-builder.js';

export const LOCAL_ACTIONS = new Set<ClientAction['type']>(['ptt', 'voice.mode', 'user.volume', 'user.mute', 'output.volume', 'devices.select', 'devices.reopen', 'devices.list', 'loopback', 'plugin.enable']);

export interface LocalActionContext {
  view(): CoreView;
  engine(): AudioEngine;
  opts(): ClientCoreOptions;
  /** Audio guests the chain thread has loaded. */
  loadedGuests: Set<string>;
  pushSettings(): void;
  addError(code: string, message: string): void;
}

export function handleLocalAction(ctx: LocalActionContext, a: ClientAction): void {
  const v = ctx.view();
  const engine = ctx.engine();
  const opts = ctx.opts();
  switch (a.type) {
    case 'ptt':
      v.pttDown = a.down;
      engine.ptt(a.down);
      break;
    case 'voice.mode':
      v.settings.gate = { ...v.settings.gate, mode: a.mode, ...(a.thresholdDb !== undefined ? { thresholdDb: a.thresholdDb } : {}), ...(a.hangoverMs !== undefined ? { hangoverMs: a.hangoverMs } : {}) };
      ctx.pushSettings();
      break;
    case 'user.volume':
      v.userMix[a.username] = { muted: v.userMix[a.username]?.muted ?? false, pan: a.pan ?? v.userMix[a.username]?.pan ?? 0, volume: a.volume };
      ctx.pushSettings();
      break;
    case 'user.mute':
      v.userMix[a.username] = { volume: v.userMix[a.username]?.volume ?? 1, pan: v.userMix[a.username]?.pan ?? 0, muted: a.muted };
      ctx.pushSettings();
      break;
    case 'output.volume':
      v.settings.outputVolume = a.volume;
      ctx.pushSettings();
      break;
    case 'devices.select':
      opts.capture = a.capture ?? opts.capture;
      opts.playback = a.playback ?? opts.playback;
      engine.devices(opts.capture ?? { kind: 'none' }, opts.playback ?? { kind: 'none' }, opts.extraEchoDelaySamples ?? 0);
      break;
    case 'devices.reopen':
      engine.reopenDevices();
      break;
    case 'devices.list':
      engine.listDevices();
      break;
    case 'loopback':
      v.settings.loopback = a.on;
      ctx.pushSettings();
      break;
    case 'plugin.enable': {
      const chain = opts.chain ?? [];
      const g = chain.find((c) => c.manifest.id === a.pluginId);
      if (g) {
        // A guest loaded in the running chain is switched live; one that was
        // off at start is not in the chain thread yet, so the chain is rebuilt.
        const wasLoaded = g.enabled || ctx.loadedGuests.has(g.manifest.id);
        g.enabled = a.on;
        if (wasLoaded) engine.enableGuest(g.manifest.id, a.on);
        else if (a.on) {
          ctx.loadedGuests.add(g.manifest.id);
          engine.chain(chain);
        }
      } else ctx.addError('NOT_FOUND', `no audio plugin ${a.pluginId} is configured`);
      break;
    }
    default:
      break;
  }
}
