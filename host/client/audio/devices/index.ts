// The one place the engine turns a device spec (plain data, so it can cross
// into the audio thread) into an open device. Specs are deliberately
// structured-clonable: no functions, no handles.
import type { CaptureDevice, PlaybackDevice } from './device.js';
import { PortAudioCapture, PortAudioPlayback } from './portaudio.js';
import { VirtualCapture, VirtualPlayback } from './virtual.js';
import { WavCapture, WavPlayback } from './wav-device.js';
import type { WavSampleFormat } from '../wav.js';

export type CaptureSpec =
  | { kind: 'portaudio'; name?: string | null; stallMs?: number }
  | { kind: 'wav'; path: string; loop?: boolean }
  | { kind: 'virtual'; name?: string; samples?: Float32Array; loop?: boolean }
  | { kind: 'none' };

export type PlaybackSpec =
  | { kind: 'portaudio'; name?: string | null; queueFrames?: number; stallMs?: number }
  | { kind: 'wav'; path: string; format?: WavSampleFormat }
  | { kind: 'virtual'; name?: string; recordLimitFrames?: number }
  | { kind: 'none' };

/** A device for `spec`, not yet opened; null for kind 'none'. */
export function createCapture(spec: CaptureSpec): CaptureDevice | null {
  switch (spec.kind) {
    case 'portaudio':
      return new PortAudioCapture({ name: spec.name ?? null, ...(spec.stallMs !== undefined ? { stallMs: spec.stallMs } : {}) });
    case 'wav':
      return new WavCapture({ path: spec.path, loop: spec.loop ?? false });
    case 'virtual':
      return new VirtualCapture({ ...(spec.name ? { name: spec.name } : {}), ...(spec.samples ? { source: spec.samples } : {}), loop: spec.loop ?? false });
    case 'none':
      return null;
  }
}

/** A device for `spec`, not yet opened; null for kind 'none'. */
export function createPlayback(spec: PlaybackSpec): PlaybackDevice | null {
  switch (spec.kind) {
    case 'portaudio':
      return new PortAudioPlayback({
        name: spec.name ?? null,
        ...(spec.queueFrames !== undefined ? { queueFrames: spec.queueFrames } : {}),
        ...(spec.stallMs !== undefined ? { stallMs: spec.stallMs } : {}),
      });
    case 'wav':
      return new WavPlayback({ path: spec.path, format: spec.format ?? 'pcm16' });
    case 'virtual':
      return new VirtualPlayback({ ...(spec.name ? { name: spec.name } : {}), ...(spec.recordLimitFrames !== undefined ? { recordLimitFrames: spec.recordLimitFrames } : {}) });
    case 'none':
      return null;
  }
}

/** Creates and opens; rejects with the DeviceError of a failed open. */
export async function openCapture(spec: { kind: 'none' }): Promise<null>;
export async function openCapture(spec: Exclude<CaptureSpec, { kind: 'none' }>): Promise<CaptureDevice>;
export async function openCapture(spec: CaptureSpec): Promise<CaptureDevice | null>;
export async function openCapture(spec: CaptureSpec): Promise<CaptureDevice | null> {
  const d = createCapture(spec);
  await d?.open();
  return d;
}

/** Creates and opens; rejects with the DeviceError of a failed open. */
export async function openPlayback(spec: { kind: 'none' }): Promise<null>;
export async function openPlayback(spec: Exclude<PlaybackSpec, { kind: 'none' }>): Promise<PlaybackDevice>;
export async function openPlayback(spec: PlaybackSpec): Promise<PlaybackDevice | null>;
export async function openPlayback(spec: PlaybackSpec): Promise<PlaybackDevice | null> {
  const d = createPlayback(spec);
  await d?.open();
  return d;
}

/**
 * Reads a command-line device argument: "none", "virtual", "wav:PATH",
 * "portaudio" / "default" (the system default), "portaudio:NAME", or a bare
 * NAME (a sound card by name).
 */
export function parseDeviceSpec(text: string): { kind: 'portaudio'; name: string | null } | { kind: 'wav'; path: string } | { kind: 'virtual' } | { kind: 'none' } {
  const t = text.trim();
  if (t === 'none') return { kind: 'none' };
  if (t === 'virtual') return { kind: 'virtual' };
  if (t === '' || t === 'default' || t === 'portaudio') return { kind: 'portaudio', name: null };
  if (t.startsWith('wav:')) {
    const path = t.slice(4);
    if (!path) throw new Error('device "wav:" needs a file path, e.g. wav:input.wav');
    return { kind: 'wav', path };
  }
  if (t.startsWith('portaudio:')) return { kind: 'portaudio', name: t.slice('portaudio:'.length) || null };
  return { kind: 'portaudio', name: t };
}

export { DeviceError, type CaptureDevice, type PlaybackDevice, type DeviceErrorCode, type DeviceStats } from './device.js';
export { listDevices, type PortAudioDeviceInfo } from './portaudio.js';
