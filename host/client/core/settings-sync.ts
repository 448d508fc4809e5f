// The user's settings (settings.json in the config dir) as the core uses
// them: read once at start into the engine's settings, and written back when
// the user changes something the file holds. A file that cannot be read
// (corrupt JSON, a schema violation) is reported and left alone: the client
// runs on defaults, and the store refuses to overwrite the file until the
// user fixes or resets it.
import type { EngineSettings } from '../audio/engine-protocol.js';
import type { ClientConfigStore, Settings } from './config-store.js';

export interface LoadedSettings {
  engine: Partial<EngineSettings>;
  userMix: Record<string, { volume: number; muted: boolean; pan: number }>;
  devices: { input: string | null; output: string | null };
  pttKey: string;
  error: Error | null;
}

export function loadSettings(store: ClientConfigStore): LoadedSettings {
  let s: Settings | null = null;
  let error: Error | null = null;
  try {
    s = store.loadSettings();
  } catch (err) {
    error = err as Error;
  }
  if (!s) return { engine: {}, userMix: {}, devices: { input: null, output: null }, pttKey: 'Space', error };
  return {
    engine: {
      gate: { mode: s.voice.mode, thresholdDb: s.voice.vadThresholdDb, hangoverMs: s.voice.vadHangoverMs },
      inputGainDb: s.input.gainDb,
      outputVolume: s.output.volume,
    },
    userMix: { ...s.users },
    devices: { input: s.input.device, output: s.output.device },
    pttKey: s.voice.pttKey,
    error,
  };
}

/** Writes back what the user changed; an unwritable (corrupt) file is reported by the caller. */
export function saveSettings(store: ClientConfigStore, engine: EngineSettings, userMix: Record<string, { volume: number; muted: boolean; pan: number }>, devices?: { input?: string | null; output?: string | null }): void {
  store.updateSettings((cur) => ({
    ...cur,
    input: { ...cur.input, gainDb: engine.inputGainDb, ...(devices?.input !== undefined ? { device: devices.input } : {}) },
    output: { ...cur.output, volume: Math.min(4, engine.outputVolume), ...(devices?.output !== undefined ? { device: devices.output } : {}) },
    voice: { ...cur.voice, mode: engine.gate.mode, vadThresholdDb: engine.gate.thresholdDb, vadHangoverMs: engine.gate.hangoverMs },
    users: Object.fromEntries(Object.entries(userMix).map(([k, m]) => [k, { volume: Math.min(4, m.volume), muted: m.muted, pan: m.pan }])),
  }));
}
