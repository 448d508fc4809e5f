// The core's local actions: what only changes this client's audio (voice
// mode, per-user mix, devices, loopback). They never touch the network;
// client-core.ts hands them here. The capture chain's plugins: client-plugins.ts.
import type { AudioEngine } from '../audio/engine.js';
import type { ClientAction } from './actions.js';
import type { ClientCoreOptions } from './core-options.js';
import type { CoreView } from './snapshot-builder.js';

export const LOCAL_ACTIONS = new Set<ClientAction['type']>(['ptt', 'voice.mode', 'user.volume', 'user.mute', 'output.volume', 'devices.select', 'devices.reopen', 'devices.list', 'loopback']);

export interface LocalActionContext {
  view(): CoreView;
  engine(): AudioEngine;
  opts(): ClientCoreOptions;
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
    default:
      break;
  }
}
