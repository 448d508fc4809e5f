// What the audio engine sees of a microphone or a speaker. The engine runs its
// own 20 ms frame clock and, on each tick, pulls exactly one capture frame and
// pushes exactly one playback frame; devices never call back into the engine,
// they buffer between their own clock and the engine's. A device in trouble
// must never throw out of read/write (that would stop the frame clock for
// everyone in the call): it records the error, reads silence / drops frames,
// and waits for the user to reopen it.
import { FRAME_SAMPLES, PLAYBACK_CHANNELS } from '../format.js';

export type DeviceKind = 'virtual' | 'wav' | 'portaudio';

export type DeviceErrorCode =
  /** No device (or file) has the requested name. */
  | 'DEVICE_NOT_FOUND'
  /** More than one device matches the requested name. */
  | 'DEVICE_AMBIGUOUS'
  /** The device exists but could not be opened (busy, refused the format, unreadable file). */
  | 'DEVICE_OPEN_FAILED'
  /** The device's audio is not 48 kHz (Hearth has no resampler) or has an unusable layout. */
  | 'DEVICE_FORMAT'
  /** The device failed while open (unplugged, stream error, stalled, disk error). */
  | 'DEVICE_FAILED'
  /** The backend is missing on this machine (naudiodon not built). */
  | 'DEVICE_UNAVAILABLE';

export class DeviceError extends Error {
  readonly code: DeviceErrorCode;

  constructor(code: DeviceErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DeviceError';
    this.code = code;
  }
}

export interface DeviceStats {
  /** Frames delivered (capture) or accepted (playback) while open. */
  frames: number;
  /** Reads that had no frame to give (capture) or pulls the device found empty (playback, where measurable). */
  underruns: number;
  /** Frames (or frame's worth of samples) thrown away because a buffer was full. */
  overruns: number;
  /** Backend-specific extra figures. */
  [extra: string]: number | boolean | string | null;
}

interface Device {
  readonly kind: DeviceKind;
  /** What the user would call it: a device name, a file path, "virtual". */
  readonly name: string;
  /** True between a successful open() and close(), failed or not. */
  readonly isOpen: boolean;
  /** Why the device stopped working, or why the last open() failed; cleared by a successful open(). */
  readonly error: DeviceError | null;
  /**
   * Opens (or, after close(), reopens) the device. Rejects with a DeviceError
   * and sets `error`. Opening an open, healthy device does nothing; opening a
   * failed one closes it first.
   */
  open(): Promise<void>;
  /** Releases the device. Idempotent; never rejects. */
  close(): Promise<void>;
  stats(): DeviceStats;
}

export interface CaptureDevice extends Device {
  /**
   * Fills `out` (exactly FRAME_SAMPLES mono f32 samples) with the next frame.
   * `tickTimeMs` is the engine's tick time; the frame read at tick t is the
   * audio recorded during [t - 20 ms, t]. Returns false, with `out` zero-filled,
   * when there was no frame (underrun, closed or failed device). Never throws
   * for device trouble; a wrongly sized `out` is a programming error (RangeError).
   */
  read(out: Float32Array, tickTimeMs: number): boolean;
}

export interface PlaybackDevice extends Device {
  /**
   * Queues one frame: FRAME_SAMPLES * 2 f32 samples, stereo interleaved L R.
   * Sample k of a frame written at tick t is meant to play at t + k/48 ms plus
   * the device's own latency. Returns false when the frame was dropped (closed
   * or failed device). Never throws for device trouble; a wrongly sized frame
   * is a programming error (RangeError).
   */
  write(frame: Float32Array, tickTimeMs: number): boolean;
}

export const CAPTURE_FRAME = FRAME_SAMPLES;
export const PLAYBACK_FRAME = FRAME_SAMPLES * PLAYBACK_CHANNELS;

export function checkCaptureFrame(out: Float32Array): void {
  if (out.length !== CAPTURE_FRAME) throw new RangeError(`capture read: out holds ${out.length} samples, a frame is ${CAPTURE_FRAME} mono samples`);
}

export function checkPlaybackFrame(frame: Float32Array): void {
  if (frame.length !== PLAYBACK_FRAME) throw new RangeError(`playback write: frame holds ${frame.length} samples, a frame is ${PLAYBACK_FRAME} (960 stereo pairs)`);
}

/** The "available: ..." tail of a not-found message. */
export function availableList(names: readonly string[]): string {
  return names.length === 0 ? 'available: none' : `available: ${names.map((n) => `"${n}"`).join(', ')}`;
}

/** Any thrown value as a DeviceError, keeping DeviceErrors as they are. */
export function asDeviceError(err: unknown, code: DeviceErrorCode, prefix: string): DeviceError {
  if (err instanceof DeviceError) return err;
  const msg = err instanceof Error ? err.message : String(err);
  return new DeviceError(code, `${prefix}: ${msg}`, { cause: err });
}
