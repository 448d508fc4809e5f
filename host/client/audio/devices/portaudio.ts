// Sound cards as engine devices, f32 at 48 kHz: capture mono, playback
// stereo, framed by FrameRing between naudiodon's chunks and the engine's
// 20 ms ticks (naudiodon.ts holds the binding and a stream's lifecycle).
// - A capture read returns exactly `highwaterMark` bytes (16,384 by default,
//   i.e. 4,096 f32 samples); naudiodon's native queue BLOCKS PortAudio's
//   callback when JS stops reading, so we read continuously into the ring.
// - Its playback callback blocks until JS writes; the engine writes a frame on
//   every tick (silence included), so we forward only what the engine gives.
import { FRAME_SAMPLES, PLAYBACK_CHANNELS } from '../format.js';
import { FrameRing } from '../ring.js';
import { checkCaptureFrame, checkPlaybackFrame, DeviceError, type CaptureDevice, type DeviceStats, type PlaybackDevice } from './device.js';
import { openStream, PortAudioDevice, type AudioStream, type Naudiodon, type PortAudioDeviceInfo } from './naudiodon.js';

export { listDevices, matchDevice, type PortAudioDeviceInfo } from './naudiodon.js';

export interface PortAudioCaptureOptions {
  /** Device name (exact or unique substring); the default input when omitted. */
  name?: string | null;
  /** Samples per naudiodon read (default 960: a frame reaches the ring as soon as it exists). */
  readSamples?: number;
  /** No audio for this long on the engine's clock = the device failed (default 1000). */
  stallMs?: number;
}

export class PortAudioCapture extends PortAudioDevice implements CaptureDevice {
  protected readonly direction = 'input';
  private readonly readSamples: number;
  private ring: FrameRing;
  private scratch = new Float32Array(0);
  private channels = 1;
  private maxChunk = 0;
  private priming = true;
  private delivered = false;
  private arrived = false;
  private lastDataTick = NaN;
  private counts = { frames: 0, underruns: 0, overruns: 0, chunks: 0 };

  constructor(options: PortAudioCaptureOptions = {}) {
    super(options.name, options.stallMs);
    this.readSamples = options.readSamples ?? FRAME_SAMPLES;
    this.ring = new FrameRing(8 * (this.readSamples + FRAME_SAMPLES), FRAME_SAMPLES);
  }

  protected create(na: Naudiodon, dev: PortAudioDeviceInfo): AudioStream {
    this.ring.clear();
    this.priming = true;
    this.delivered = false;
    this.arrived = false;
    this.lastDataTick = NaN;
    this.maxChunk = 0;
    let first: unknown;
    // Mono first; some hardware devices only open in stereo, which we average.
    for (const channels of dev.maxChannels >= 2 ? [1, 2] : [1]) {
      try {
        const s = openStream(na, 'inOptions', { channelCount: channels, deviceId: dev.id, highwaterMark: this.readSamples * 4 * channels });
        this.channels = channels;
        s.on('data', (b: Buffer) => this.onData(b));
        return s;
      } catch (err) {
        first ??= err;
      }
    }
    throw first;
  }

  private onData(b: Buffer): void {
    const n = b.length >> 2;
    const frames = n / this.channels;
    if (this.channels === 1 && (b.byteOffset & 3) === 0) this.ring.write(new Float32Array(b.buffer, b.byteOffset, n));
    else {
      if (this.scratch.length < frames) this.scratch = new Float32Array(frames);
      const ch = this.channels;
      for (let i = 0; i < frames; i++) {
        let s = 0;
        for (let c = 0; c < ch; c++) s += b.readFloatLE((i * ch + c) * 4);
        this.scratch[i] = s / ch;
      }
      this.ring.write(this.scratch, 0, frames);
    }
    this.maxChunk = Math.max(this.maxChunk, frames);
    this.counts.chunks++;
    this.arrived = true;
  }

  read(out: Float32Array, tickTimeMs: number): boolean {
    checkCaptureFrame(out);
    if (!this.stream || this.failure) {
      out.fill(0);
      return false;
    }
    if (this.arrived || Number.isNaN(this.lastDataTick)) {
      this.lastDataTick = tickTimeMs;
      this.turns.reset();
    }
    this.arrived = false;
    if (this.turns.poke() >= 2 && tickTimeMs - this.lastDataTick > this.stallMs) {
      this.fail(this.stream, `no audio for ${Math.round(tickTimeMs - this.lastDataTick)} ms`);
      out.fill(0);
      return false;
    }
    // Start (and restart after an underrun) only with one burst plus a frame
    // buffered, so the gap before the next burst cannot starve a tick.
    const prime = this.maxChunk + FRAME_SAMPLES;
    if (this.priming && this.ring.available < prime) {
      out.fill(0);
      if (this.delivered) this.counts.underruns++;
      return false;
    }
    this.priming = false;
    // More than a burst of slack beyond that means the card's clock runs
    // ahead of ours (or it flooded us): drop the oldest to keep latency bounded.
    if (this.ring.available > prime + this.maxChunk + FRAME_SAMPLES) {
      this.ring.discard(this.ring.available - prime);
      this.counts.overruns++;
    }
    if (!this.ring.readFrame(out)) {
      this.counts.underruns++;
      this.priming = true;
      return false;
    }
    this.delivered = true;
    this.counts.frames++;
    return true;
  }

  stats(): DeviceStats {
    return { ...this.counts, droppedSamples: this.ring.dropped, bufferedSamples: this.ring.available, chunkSamples: this.maxChunk, channels: this.channels };
  }
}

export interface PortAudioPlaybackOptions {
  /** Device name (exact or unique substring); the default output when omitted. */
  name?: string | null;
  /** Frames queued here beyond what PortAudio holds; the oldest is dropped past it (default 3). */
  queueFrames?: number;
  /** PortAudio taking nothing for this long on the engine's clock = the device failed (default 1000). */
  stallMs?: number;
}

const PLAYBACK_FRAME = FRAME_SAMPLES * PLAYBACK_CHANNELS;

export class PortAudioPlayback extends PortAudioDevice implements PlaybackDevice {
  protected readonly direction = 'output';
  private readonly ring: FrameRing;
  // One chunk in flight at a time: naudiodon copies it synchronously inside
  // write(), so this one buffer is reused for every chunk.
  private readonly scratch: Float32Array;
  private readonly bytes: Buffer;
  private inFlight = false;
  private inFlightSince = 0;
  private lastTick = 0;
  private counts = { frames: 0, underruns: 0, overruns: 0, handed: 0, dropped: 0 };

  constructor(options: PortAudioPlaybackOptions = {}) {
    super(options.name, options.stallMs);
    const q = Math.max(1, options.queueFrames ?? 3);
    this.ring = new FrameRing(q * PLAYBACK_FRAME, PLAYBACK_FRAME);
    this.scratch = new Float32Array(q * PLAYBACK_FRAME);
    this.bytes = Buffer.from(this.scratch.buffer);
  }

  protected create(na: Naudiodon, dev: PortAudioDeviceInfo): AudioStream {
    if (dev.maxChannels < PLAYBACK_CHANNELS) throw new DeviceError('DEVICE_FORMAT', `output device "${dev.name}" has ${dev.maxChannels} channel; Hearth plays stereo`);
    this.ring.clear();
    this.inFlight = false;
    return openStream(na, 'outOptions', { channelCount: PLAYBACK_CHANNELS, deviceId: dev.id, maxQueue: 2 });
  }

  write(frame: Float32Array, tickTimeMs: number): boolean {
    checkPlaybackFrame(frame);
    if (!this.stream || this.failure) {
      if (this.failure) this.counts.dropped++;
      return false;
    }
    this.lastTick = tickTimeMs;
    if (this.inFlight && this.turns.poke() >= 2 && tickTimeMs - this.inFlightSince > this.stallMs) {
      this.fail(this.stream, `took no audio for ${Math.round(tickTimeMs - this.inFlightSince)} ms`);
      this.counts.dropped++;
      return false;
    }
    // A full queue drops its oldest frame: late audio is worth less than current audio.
    if (this.ring.write(frame) > 0) this.counts.overruns++;
    this.counts.frames++;
    this.pump();
    return true;
  }

  private pump(): void {
    const s = this.stream;
    if (this.inFlight || !s || this.failure) return;
    const n = this.ring.read(this.scratch, 0, this.ring.available);
    if (n === 0) return;
    this.inFlight = true;
    this.inFlightSince = this.lastTick;
    this.turns.reset();
    s.write(this.bytes.subarray(0, n * 4), (err) => {
      // A stream we have left (closed, failed, reopened) must not touch the new one's state.
      if (s !== this.stream) return;
      this.inFlight = false;
      if (err) return this.fail(s, `write failed: ${err instanceof Error ? err.message : String(err)}`);
      this.counts.handed += n / PLAYBACK_FRAME;
      this.pump();
    });
  }

  stats(): DeviceStats {
    return { ...this.counts, queuedFrames: this.ring.framesAvailable, inFlight: this.inFlight };
  }
}
