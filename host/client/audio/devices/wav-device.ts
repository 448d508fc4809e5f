// WAV files as devices for the headless client (bots, demos, tests): capture
// plays a file into the engine one frame per tick, at the engine's pace;
// playback records what the engine plays. Capture loads the whole file on
// open (11.5 MB per minute once decoded to f32) so that no disk read ever
// happens on a tick; playback streams to disk through WavWriter.
import { FRAME_SAMPLES, PLAYBACK_CHANNELS, SAMPLE_RATE } from '../format.js';
import { readWav, WavFormatError, WavWriter, type WavSampleFormat } from '../wav.js';
import { asDeviceError, checkCaptureFrame, checkPlaybackFrame, DeviceError, type CaptureDevice, type DeviceStats, type PlaybackDevice } from './device.js';

export interface WavCaptureOptions {
  path: string;
  /** Start again at the end of the file instead of going silent. */
  loop?: boolean;
}

export class WavCapture implements CaptureDevice {
  readonly kind = 'wav' as const;
  readonly name: string;
  private readonly loop: boolean;
  private samples: Float32Array | null = null;
  private pos = 0;
  private opened = false;
  private failure: DeviceError | null = null;
  private frameCount = 0;
  private underrunCount = 0;
  private sourceChannels = 0;

  constructor(options: WavCaptureOptions) {
    this.name = options.path;
    this.loop = options.loop ?? false;
  }

  get isOpen(): boolean {
    return this.opened;
  }

  get error(): DeviceError | null {
    return this.failure;
  }

  /** True once the whole file has been delivered (never with loop). */
  get ended(): boolean {
    return this.samples !== null && !this.loop && this.pos >= this.samples.length;
  }

  async open(): Promise<void> {
    if (this.opened && !this.failure) return;
    this.opened = false;
    try {
      this.samples = loadMono48k(this.name);
    } catch (err) {
      this.failure = err instanceof DeviceError ? err : asDeviceError(err, 'DEVICE_OPEN_FAILED', `cannot read WAV file "${this.name}"`);
      throw this.failure;
    }
    this.pos = 0;
    this.failure = null;
    this.opened = true;
  }

  async close(): Promise<void> {
    this.opened = false;
    this.samples = null;
  }

  read(out: Float32Array, _tickTimeMs: number): boolean {
    checkCaptureFrame(out);
    const src = this.samples;
    if (!this.opened || this.failure || !src) {
      out.fill(0);
      if (this.opened) this.underrunCount++;
      return false;
    }
    const len = src.length;
    for (let k = 0; k < FRAME_SAMPLES; k++) {
      if (this.pos >= len && this.loop && len > 0) this.pos = 0;
      out[k] = this.pos < len ? src[this.pos++]! : 0;
    }
    this.frameCount++;
    // Past the end the file "microphone" is silent but present: a true read.
    return true;
  }

  stats(): DeviceStats {
    return { frames: this.frameCount, underruns: this.underrunCount, overruns: 0, ended: this.ended, position: this.pos, sourceChannels: this.sourceChannels };
  }
}

function loadMono48k(path: string): Float32Array {
  let wav;
  try {
    wav = readWav(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new DeviceError('DEVICE_NOT_FOUND', `input WAV file "${path}" not found`, { cause: err });
    if (err instanceof WavFormatError) throw new DeviceError('DEVICE_FORMAT', `input WAV file ${err.message}`, { cause: err });
    throw err;
  }
  if (wav.sampleRate !== SAMPLE_RATE) {
    throw new DeviceError(
      'DEVICE_FORMAT',
      `input WAV file "${path}" is ${wav.sampleRate} Hz; Hearth captures at ${SAMPLE_RATE} Hz and does not resample (convert it first, e.g. sox in.wav -r ${SAMPLE_RATE} out.wav)`,
    );
  }
  if (wav.channels === 1) return wav.samples;
  // A stereo (or wider) file is averaged down to the mono microphone.
  const ch = wav.channels;
  const mono = new Float32Array(wav.frames);
  for (let i = 0; i < wav.frames; i++) {
    let s = 0;
    for (let c = 0; c < ch; c++) s += wav.samples[i * ch + c]!;
    mono[i] = s / ch;
  }
  return mono;
}

export interface WavPlaybackOptions {
  path: string;
  /** Default 'pcm16'; 'f32' keeps the engine's samples bit for bit. */
  format?: WavSampleFormat;
}

export class WavPlayback implements PlaybackDevice {
  readonly kind = 'wav' as const;
  readonly name: string;
  private readonly format: WavSampleFormat;
  private writer: WavWriter | null = null;
  private failure: DeviceError | null = null;
  private frameCount = 0;
  private droppedCount = 0;

  constructor(options: WavPlaybackOptions) {
    this.name = options.path;
    this.format = options.format ?? 'pcm16';
  }

  get isOpen(): boolean {
    return this.writer !== null;
  }

  get error(): DeviceError | null {
    if (!this.failure && this.writer?.error) {
      this.failure = new DeviceError('DEVICE_FAILED', `output WAV file "${this.name}" failed: ${this.writer.error.message}`, { cause: this.writer.error });
    }
    return this.failure;
  }

  /** Opens (truncating) the file; a reopen starts a new recording. */
  async open(): Promise<void> {
    if (this.writer && !this.error) return;
    await this.close();
    try {
      this.writer = await WavWriter.create(this.name, { channels: PLAYBACK_CHANNELS, sampleRate: SAMPLE_RATE, format: this.format });
    } catch (err) {
      this.failure = asDeviceError(err, 'DEVICE_OPEN_FAILED', `cannot create output WAV file "${this.name}"`);
      throw this.failure;
    }
    this.failure = null;
    this.frameCount = 0;
  }

  /** Flushes and finalises the file (header sizes patched). Never rejects; a disk error stays in `error`. */
  async close(): Promise<void> {
    const w = this.writer;
    this.writer = null;
    if (!w) return;
    try {
      await w.close();
    } catch (err) {
      this.failure ??= asDeviceError(err, 'DEVICE_FAILED', `output WAV file "${this.name}" failed`);
    }
  }

  write(frame: Float32Array, _tickTimeMs: number): boolean {
    checkPlaybackFrame(frame);
    if (!this.writer || this.error) {
      if (this.writer) this.droppedCount++;
      return false;
    }
    this.writer.write(frame);
    this.frameCount++;
    return true;
  }

  stats(): DeviceStats {
    return { frames: this.frameCount, underruns: 0, overruns: 0, dropped: this.droppedCount };
  }
}
