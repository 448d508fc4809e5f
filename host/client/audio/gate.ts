// The transmit gate at the end of the capture chain: voice activation (level
// threshold with a hangover, so word endings and short pauses are not cut),
// push-to-talk, or always on. Self-mute closes it regardless.
import { FRAME_MS } from './format.js';

export type GateMode = 'vad' | 'ptt' | 'continuous';

export interface GateSettings {
  mode: GateMode;
  /** Voice activation threshold, dBFS of the frame's RMS. */
  thresholdDb: number;
  /** How long the gate stays open after the level falls below the threshold. */
  hangoverMs: number;
}

export const DEFAULT_GATE: GateSettings = { mode: 'vad', thresholdDb: -45, hangoverMs: 300 };

export function frameLevelDb(frame: Float32Array): { rmsDb: number; peakDb: number } {
  let sum = 0;
  let peak = 0;
  for (let i = 0; i < frame.length; i++) {
    const s = frame[i]!;
    sum += s * s;
    const a = s < 0 ? -s : s;
    if (a > peak) peak = a;
  }
  const rms = Math.sqrt(sum / frame.length);
  return { rmsDb: rms > 0 ? 20 * Math.log10(rms) : -120, peakDb: peak > 0 ? 20 * Math.log10(peak) : -120 };
}

export class VoiceGate {
  settings: GateSettings = { ...DEFAULT_GATE };
  pttDown = false;
  selfMute = false;
  private hangoverLeftMs = 0;
  open = false;

  /** Decides for one frame whose level is `rmsDb`; returns whether the frame is sent. */
  decide(rmsDb: number): boolean {
    let open: boolean;
    if (this.selfMute) {
      open = false;
      this.hangoverLeftMs = 0;
    } else if (this.settings.mode === 'continuous') open = true;
    else if (this.settings.mode === 'ptt') open = this.pttDown;
    else if (rmsDb >= this.settings.thresholdDb) {
      open = true;
      this.hangoverLeftMs = this.settings.hangoverMs;
    } else if (this.hangoverLeftMs > 0) {
      open = true;
      this.hangoverLeftMs -= FRAME_MS;
    } else open = false;
    this.open = open;
    return open;
  }
}
