// In-memory devices paced by the engine's own clock: one frame per read or
// write, nothing lost, nothing invented. Tests and benchmarks measure the
// engine against them sample for sample, so both record the tick time of every
// frame, and these conventions make sample positions into times:
//
// - Capture: the frame read at tick t is the audio "recorded" during
//   [t - 20 ms, t]. Frame n (the n-th successful read since construction)
//   covers source samples [960n, 960n + 960), and sample k of it was captured
//   at t - 20 + k/48 ms.
// - Playback: sample k of a frame written at tick t plays at t + k/48 ms.
//   The recording is indexed per stereo pair: pair j is sample j % 960 of the
//   (j / 960)-th frame written.
import { FRAME_MS, FRAME_SAMPLES, SAMPLES_PER_MS } from '../format.js';
import { checkCaptureFrame, checkPlaybackFrame, DeviceError, type CaptureDevice, type DeviceStats, type PlaybackDevice } from './device.js';

export type SampleSource = Float32Array | ((sampleIndex: number) => number);

/** A small growable f64 list for tick times (no per-frame allocation once grown). */
class TickLog {
  private data = new Float64Array(256);
  length = 0;
  push(t: number): void {
    if (this.length === this.data.length) {
      const next = new Float64Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = t;
  }
  at(i: number): number {
    return i >= 0 && i < this.length ? this.data[i]! : NaN;
  }
  toArray(): number[] {
    return Array.from(this.data.subarray(0, this.length));
  }
}

/** Shared open/close/fail bookkeeping. */
abstract class VirtualDevice {
  readonly kind = 'virtual' as const;
  readonly name: string;
  protected opened = false;
  protected failure: DeviceError | null = null;

  constructor(name: string) {
    this.name = name;
  }

  get isOpen(): boolean {
    return this.opened;
  }

  get error(): DeviceError | null {
    return this.failure;
  }

  async open(): Promise<void> {
    this.failure = null;
    this.opened = true;
  }

  async close(): Promise<void> {
    this.opened = false;
  }

  /** Simulates the device vanishing mid-call: reads give silence / writes are dropped until reopened. */
  fail(reason: string): void {
    this.failure = new DeviceError('DEVICE_FAILED', `${this.role} "${this.name}" failed: ${reason}`);
  }

  protected get healthy(): boolean {
    return this.opened && !this.failure;
  }

  protected abstract readonly role: string;
}

export interface VirtualCaptureOptions {
  name?: string;
  /** What the "microphone" hears; silence when omitted. */
  source?: SampleSource;
  /** With an array source: start again at its end instead of going silent. */
  loop?: boolean;
}

interface Injection {
  start: number;
  samples: Float32Array;
}

export class VirtualCapture extends VirtualDevice implements CaptureDevice {
  protected readonly role = 'virtual input';
  private readonly source: SampleSource | null;
  private readonly loop: boolean;
  private readonly ticks = new TickLog();
  private injections: Injection[] = [];
  private underrunCount = 0;

  constructor(options: VirtualCaptureOptions = {}) {
    super(options.name ?? 'virtual');
    this.source = options.source ?? null;
    this.loop = options.loop ?? false;
  }

  /** Source samples delivered so far (= the index of the next sample to be read). */
  get position(): number {
    return this.ticks.length * FRAME_SAMPLES;
  }

  /** Tick time of the first frame read, NaN before any. */
  get firstTickMs(): number {
    return this.ticks.at(0);
  }

  /** True once an array source (without loop) has been played to its end. */
  get ended(): boolean {
    return this.source instanceof Float32Array && !this.loop && this.position >= this.source.length;
  }

  read(out: Float32Array, tickTimeMs: number): boolean {
    checkCaptureFrame(out);
    if (!this.healthy) {
      out.fill(0);
      if (this.opened) this.underrunCount++;
      return false;
    }
    const base = this.position;
    const src = this.source;
    if (src === null) out.fill(0);
    else if (typeof src === 'function') {
      for (let k = 0; k < FRAME_SAMPLES; k++) out[k] = src(base + k);
    } else {
      const len = src.length;
      for (let k = 0; k < FRAME_SAMPLES; k++) {
        const i = base + k;
        out[k] = i < len ? src[i]! : this.loop && len > 0 ? src[i % len]! : 0;
      }
    }
    if (this.injections.length > 0) this.mixInjections(out, base);
    this.ticks.push(tickTimeMs);
    return true;
  }

  /**
   * Mixes `samples` into the stream at run time (a click, a burst of speech),
   * starting at absolute sample `atSample` (default: the next sample to be
   * read; earlier positions are clamped to it). Returns the sample index where
   * it starts, so a test knows exactly where to look for it.
   */
  inject(samples: Float32Array, atSample?: number): number {
    const start = Math.max(this.position, atSample ?? 0);
    this.injections.push({ start, samples: Float32Array.from(samples) });
    return start;
  }

  /** When source sample `sampleIndex` was captured (ms, engine clock); NaN if not read yet. */
  captureTimeMs(sampleIndex: number): number {
    const n = Math.floor(sampleIndex / FRAME_SAMPLES);
    return this.ticks.at(n) - FRAME_MS + (sampleIndex - n * FRAME_SAMPLES) / SAMPLES_PER_MS;
  }

  /** The tick time passed to every successful read, in order. */
  frameTimes(): number[] {
    return this.ticks.toArray();
  }

  stats(): DeviceStats {
    return { frames: this.ticks.length, underruns: this.underrunCount, overruns: 0, position: this.position, ended: this.ended, pendingInjections: this.injections.length };
  }

  private mixInjections(out: Float32Array, base: number): void {
    const end = base + FRAME_SAMPLES;
    for (const inj of this.injections) {
      const from = Math.max(inj.start, base);
      const to = Math.min(inj.start + inj.samples.length, end);
      for (let i = from; i < to; i++) out[i - base]! += inj.samples[i - inj.start]!;
    }
    this.injections = this.injections.filter((inj) => inj.start + inj.samples.length > end);
  }
}

export interface VirtualPlaybackOptions {
  name?: string;
  /**
   * Frames kept in memory (default 3,000 = 60 s, 23 MB). Later frames are
   * counted (`notRecorded`) but not stored, so a long benchmark cannot exhaust memory.
   */
  recordLimitFrames?: number;
}

export class VirtualPlayback extends VirtualDevice implements PlaybackDevice {
  protected readonly role = 'virtual output';
  private readonly limit: number;
  private readonly ticks = new TickLog();
  private data = new Float32Array(FRAME_SAMPLES * 2 * 64);
  private droppedCount = 0;
  private notRecordedCount = 0;

  constructor(options: VirtualPlaybackOptions = {}) {
    super(options.name ?? 'virtual');
    this.limit = options.recordLimitFrames ?? 3000;
  }

  /** Frames recorded (and stored). */
  get frames(): number {
    return this.ticks.length;
  }

  /** Tick time of the first frame written, NaN before any. */
  get firstTickMs(): number {
    return this.ticks.at(0);
  }

  write(frame: Float32Array, tickTimeMs: number): boolean {
    checkPlaybackFrame(frame);
    if (!this.healthy) {
      if (this.opened) this.droppedCount++;
      return false;
    }
    if (this.ticks.length >= this.limit) {
      this.notRecordedCount++;
      return true;
    }
    const at = this.ticks.length * frame.length;
    if (at + frame.length > this.data.length) {
      const next = new Float32Array(Math.max(this.data.length * 2, at + frame.length));
      next.set(this.data.subarray(0, at));
      this.data = next;
    }
    this.data.set(frame, at);
    this.ticks.push(tickTimeMs);
    return true;
  }

  /** Everything recorded, interleaved L R (a copy). */
  recorded(): Float32Array {
    return this.data.slice(0, this.ticks.length * FRAME_SAMPLES * 2);
  }

  /** The recording as mono, (L + R) / 2 per pair. */
  recordedMono(): Float32Array {
    const pairs = this.ticks.length * FRAME_SAMPLES;
    const out = new Float32Array(pairs);
    for (let j = 0; j < pairs; j++) out[j] = (this.data[2 * j]! + this.data[2 * j + 1]!) / 2;
    return out;
  }

  /** When stereo pair `sampleIndex` of the recording plays (ms, engine clock); NaN if not recorded. */
  playTimeMs(sampleIndex: number): number {
    const n = Math.floor(sampleIndex / FRAME_SAMPLES);
    return this.ticks.at(n) + (sampleIndex - n * FRAME_SAMPLES) / SAMPLES_PER_MS;
  }

  /**
   * The first stereo pair, at or after `fromSample`, where either channel
   * reaches |x| >= threshold (so a hard-panned click is found too), with the
   * time it plays; null when there is none. For latency measurements.
   */
  findFirst(threshold: number, fromSample = 0): { sampleIndex: number; timeMs: number } | null {
    const pairs = this.ticks.length * FRAME_SAMPLES;
    for (let j = Math.max(0, fromSample); j < pairs; j++) {
      if (Math.abs(this.data[2 * j]!) >= threshold || Math.abs(this.data[2 * j + 1]!) >= threshold) {
        return { sampleIndex: j, timeMs: this.playTimeMs(j) };
      }
    }
    return null;
  }

  /** The tick time passed to every recorded write, in order. */
  frameTimes(): number[] {
    return this.ticks.toArray();
  }

  /** The recording and its first tick time, for shipping across a thread. */
  dump(): { samples: Float32Array; firstTickMs: number; frameTimes: number[] } {
    return { samples: this.recorded(), firstTickMs: this.firstTickMs, frameTimes: this.frameTimes() };
  }

  stats(): DeviceStats {
    return { frames: this.ticks.length + this.notRecordedCount, underruns: 0, overruns: 0, dropped: this.droppedCount, notRecorded: this.notRecordedCount };
  }
}
