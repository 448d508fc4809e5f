// The naudiodon (PortAudio) binding as the devices need it: loading it
// lazily, listing and matching sound cards by name, and one stream's
// open/fail/quit lifecycle. What naudiodon does underneath shapes this:
// - closeOnError: true would destroy a stream on any xrun status flag; a late
//   tick must not kill the speaker, so it is off (naudiodon then prints those
//   flags to stdout itself, as it prints its open banner).
// - stream.quit() must run exactly once per stream (it closes the native
//   stream) and abort()'s callback never fires: quit once, bound the wait.
// - A vanished device may just stop delivering or taking audio without any
//   event, so the devices watch for a stall on the engine's clock (LoopTurns).
import { createRequire } from 'node:module';
import { SAMPLE_RATE } from '../format.js';
import { asDeviceError, availableList, DeviceError } from './device.js';

export interface NaudiodonDevice { id: number; name: string; maxInputChannels: number; maxOutputChannels: number; defaultSampleRate: number; hostAPIName: string }
export interface AudioStream extends NodeJS.EventEmitter {
  start(): void;
  quit(): Promise<void>;
  pause(): unknown;
  write(chunk: Buffer, cb: (err?: Error | string | null) => void): boolean;
}
export interface Naudiodon {
  SampleFormatFloat32: number;
  getDevices(): NaudiodonDevice[];
  getHostAPIs(): { defaultHostAPI: number; HostAPIs: { name: string; defaultInput: number; defaultOutput: number }[] };
  AudioIO(options: Record<string, unknown>): AudioStream;
}

let loaded: { na: Naudiodon } | { err: unknown } | null = null;

// Lazily, so that a machine where the native addon is not built still runs
// the WAV and virtual devices (and everything else).
export function naudiodon(): Naudiodon {
  loaded ??= (() => {
    try {
      return { na: createRequire(import.meta.url)('naudiodon') as Naudiodon };
    } catch (err) {
      return { err };
    }
  })();
  if ('na' in loaded) return loaded.na;
  const why = loaded.err instanceof Error ? loaded.err.message.split('\n')[0] : String(loaded.err);
  throw new DeviceError('DEVICE_UNAVAILABLE', `sound cards are unavailable: PortAudio (naudiodon) did not load (${why}); WAV and virtual devices still work`, { cause: loaded.err });
}

export interface PortAudioDeviceInfo { id: number; name: string; default: boolean; hostApi: string; maxChannels: number; defaultSampleRate: number }

/** Sound cards PortAudio sees, split by direction. Throws DEVICE_UNAVAILABLE without naudiodon. */
export function listDevices(): { inputs: PortAudioDeviceInfo[]; outputs: PortAudioDeviceInfo[] } {
  const na = naudiodon();
  const devices = na.getDevices();
  const apis = na.getHostAPIs();
  const api = apis.HostAPIs[apis.defaultHostAPI];
  const info = (d: NaudiodonDevice, maxChannels: number, defaultId: number | undefined): PortAudioDeviceInfo => ({
    id: d.id, name: d.name, default: d.id === defaultId, hostApi: d.hostAPIName, maxChannels, defaultSampleRate: d.defaultSampleRate,
  });
  return {
    inputs: devices.filter((d) => d.maxInputChannels > 0).map((d) => info(d, d.maxInputChannels, api?.defaultInput)),
    outputs: devices.filter((d) => d.maxOutputChannels > 0).map((d) => info(d, d.maxOutputChannels, api?.defaultOutput)),
  };
}

/**
 * Picks a device by name: the default without one; else an exact name, then a
 * case-insensitive exact name, then a case-insensitive substring, which must
 * be unique (ALSA lists one card under several names).
 */
export function matchDevice(list: readonly PortAudioDeviceInfo[], name: string | null | undefined, direction: 'input' | 'output'): PortAudioDeviceInfo {
  const names = list.map((d) => d.name);
  if (!name) {
    const def = list.find((d) => d.default);
    if (!def) throw new DeviceError('DEVICE_NOT_FOUND', `no default ${direction} device; ${availableList(names)}`);
    return def;
  }
  const lower = name.toLowerCase();
  // The same name can appear once per host API (ALSA, OSS, JACK): prefer the default's.
  const exact = list.filter((d) => d.name === name);
  const sameCase = exact.length > 0 ? exact : list.filter((d) => d.name.toLowerCase() === lower);
  if (sameCase.length > 0) return sameCase.find((d) => d.default) ?? sameCase[0]!;
  const partial = list.filter((d) => d.name.toLowerCase().includes(lower));
  if (partial.length === 1) return partial[0]!;
  if (partial.length > 1) {
    throw new DeviceError('DEVICE_AMBIGUOUS', `${direction} device "${name}" matches ${partial.length} devices: ${partial.map((d) => `"${d.name}"`).join(', ')}; give the full name`);
  }
  throw new DeviceError('DEVICE_NOT_FOUND', `${direction} device "${name}" not found; ${availableList(names)}`);
}

const QUIT_TIMEOUT_MS = 3000;

/**
 * Counts event-loop turns since reset(). A stall is declared only after the
 * loop has turned (so pending I/O had its chance to arrive): when the audio
 * thread was held up and the frame clock runs its missed ticks back to back,
 * the device's data is still queued behind them, which is not a dead device.
 */
export class LoopTurns {
  private turns = 0;
  private scheduled = false;
  private readonly bump = (): void => {
    this.scheduled = false;
    this.turns++;
  };
  reset(): void {
    this.turns = 0;
  }
  /** Turns since reset(); schedules the next count. */
  poke(): number {
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.bump);
    }
    return this.turns;
  }
}

/** Quits a stream once; a wedged device cannot hold close() forever. */
export function quitStream(s: AudioStream): Promise<void> {
  s.removeAllListeners('data');
  s.on('error', () => undefined); // late errors from a stream we are leaving
  return new Promise<void>((resolve) => {
    const t = setTimeout(resolve, QUIT_TIMEOUT_MS);
    s.quit().then(() => resolve(), () => resolve()).finally(() => clearTimeout(t));
  });
}

export function openStream(na: Naudiodon, dir: 'inOptions' | 'outOptions', options: Record<string, unknown>): AudioStream {
  const s = na.AudioIO({ [dir]: { sampleFormat: na.SampleFormatFloat32, sampleRate: SAMPLE_RATE, closeOnError: false, ...options } });
  // naudiodon's own 'error' listener only prints to stderr; ours decides.
  s.removeAllListeners('error');
  return s;
}

/** Shared open/fail/close state of one PortAudio stream. */
export abstract class PortAudioDevice {
  readonly kind = 'portaudio' as const;
  name: string;
  protected readonly requested: string | null;
  protected readonly stallMs: number;
  protected stream: AudioStream | null = null;
  protected failure: DeviceError | null = null;
  private stopping: Promise<void> | null = null;
  private opened = false;
  protected readonly turns = new LoopTurns();
  protected abstract readonly direction: 'input' | 'output';

  constructor(name: string | null | undefined, stallMs: number | undefined) {
    this.requested = name ?? null;
    this.name = name ?? 'default';
    this.stallMs = stallMs ?? 1000;
  }

  get isOpen(): boolean {
    return this.opened;
  }

  get error(): DeviceError | null {
    return this.failure;
  }

  async open(): Promise<void> {
    if (this.stream && !this.failure) return;
    await this.close();
    try {
      const list = listDevices();
      const dev = matchDevice(this.direction === 'input' ? list.inputs : list.outputs, this.requested, this.direction);
      this.name = dev.name;
      const s = this.create(naudiodon(), dev);
      s.on('error', (err: unknown) => this.fail(s, `stream error: ${err instanceof Error ? err.message : String(err)}`));
      s.on(this.direction === 'input' ? 'end' : 'close', () => this.fail(s, `the ${this.direction} stream ended unexpectedly`));
      this.stream = s;
      try {
        s.start();
      } catch (err) {
        this.stream = null;
        await quitStream(s);
        throw err;
      }
    } catch (err) {
      this.failure = asDeviceError(err, 'DEVICE_OPEN_FAILED', `cannot open ${this.direction} device "${this.name}" (48000 Hz f32)`);
      throw this.failure;
    }
    this.failure = null;
    this.opened = true;
  }

  async close(): Promise<void> {
    const s = this.stream;
    this.stream = null;
    this.opened = false;
    if (s) this.stopping = quitStream(s);
    await this.stopping;
    this.stopping = null;
  }

  /** Marks the device failed (read/write go soft) and releases the stream in the background. */
  protected fail(s: AudioStream, reason: string): void {
    // A stream we closed (or replaced by a reopen) ending is expected.
    if (s !== this.stream) return;
    this.failure ??= new DeviceError('DEVICE_FAILED', `${this.direction} device "${this.name}" failed: ${reason}`);
    this.stream = null;
    this.stopping = quitStream(s);
  }

  protected abstract create(na: Naudiodon, dev: PortAudioDeviceInfo): AudioStream;
}
