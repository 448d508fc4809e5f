// WAV files for headless clients, bots, tests and benchmarks: read a whole file
// (16-bit PCM or 32-bit float, plain or WAVE_FORMAT_EXTENSIBLE), and write a
// recording as it happens. The writer streams blocks to disk asynchronously
// (a synchronous write on the audio thread would let a slow disk make audio
// late) and patches the RIFF sizes on close, so an hour of playback never sits
// in memory.
import { readFileSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { SAMPLE_RATE } from './format.js';

export type WavSampleFormat = 'pcm16' | 'f32';

export interface WavData {
  sampleRate: number;
  channels: number;
  /** Interleaved, -1..1. */
  samples: Float32Array;
  /** Per channel. */
  frames: number;
  format: WavSampleFormat;
}

export class WavFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WavFormatError';
  }
}

const FORMAT_PCM = 1;
const FORMAT_FLOAT = 3;
const FORMAT_EXTENSIBLE = 0xfffe;
// The 14 bytes after the format code in an EXTENSIBLE sub-format GUID
// (KSDATAFORMAT_SUBTYPE_PCM / _IEEE_FLOAT share them).
const GUID_TAIL = [0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71];

export function readWav(path: string): WavData {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw e.code === 'ENOENT' ? Object.assign(new Error(`WAV file "${path}" not found`), { code: 'ENOENT' }) : e;
  }
  try {
    return parseWav(bytes);
  } catch (err) {
    if (err instanceof WavFormatError) throw new WavFormatError(`"${path}": ${err.message}`);
    throw err;
  }
}

export function parseWav(bytes: Uint8Array): WavData {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const tag = (at: number) => String.fromCharCode(bytes[at]!, bytes[at + 1]!, bytes[at + 2]!, bytes[at + 3]!);
  if (bytes.length < 12) throw new WavFormatError(`not a WAV file (${bytes.length} bytes, too short for a RIFF header)`);
  if (tag(0) === 'RF64') throw new WavFormatError('RF64 (over 4 GiB) WAV files are not supported');
  if (tag(0) !== 'RIFF' || tag(8) !== 'WAVE') throw new WavFormatError('not a WAV file (no RIFF/WAVE header)');

  let fmt: { code: number; channels: number; sampleRate: number; blockAlign: number; bits: number } | null = null;
  let data: { at: number; size: number } | null = null;
  let at = 12;
  while (at + 8 <= bytes.length) {
    const id = tag(at);
    const size = v.getUint32(at + 4, true);
    const body = at + 8;
    if (body + size > bytes.length) {
      throw new WavFormatError(`truncated: the "${id.trim()}" chunk declares ${size} bytes but only ${bytes.length - body} follow`);
    }
    if (id === 'fmt ') fmt = parseFmt(v, body, size);
    else if (id === 'data') data = { at: body, size };
    // Any other chunk (LIST, fact, cue, bext, ...) is metadata: skip it.
    at = body + size + (size & 1);
  }
  if (!fmt) throw new WavFormatError('no "fmt " chunk (truncated or not a WAV file)');
  if (!data) throw new WavFormatError('no "data" chunk (truncated or not a WAV file)');

  const { code, channels, sampleRate, blockAlign, bits } = fmt;
  let format: WavSampleFormat;
  if (code === FORMAT_PCM && bits === 16) format = 'pcm16';
  else if (code === FORMAT_FLOAT && bits === 32) format = 'f32';
  else {
    const kind = code === FORMAT_PCM ? 'PCM' : code === FORMAT_FLOAT ? 'float' : `format code ${code}`;
    throw new WavFormatError(`unsupported encoding: ${kind} with ${bits} bits per sample (Hearth reads 16-bit PCM and 32-bit float)`);
  }
  if (channels < 1) throw new WavFormatError('the "fmt " chunk declares 0 channels');
  if (sampleRate < 1) throw new WavFormatError('the "fmt " chunk declares a sample rate of 0');
  if (blockAlign !== channels * (bits / 8)) throw new WavFormatError(`inconsistent "fmt " chunk: block align ${blockAlign} for ${channels} channels of ${bits} bits`);
  if (data.size % blockAlign !== 0) throw new WavFormatError(`the data chunk (${data.size} bytes) is not a whole number of ${blockAlign}-byte frames`);

  const n = data.size / (bits / 8);
  const samples = new Float32Array(n);
  if (format === 'pcm16') {
    for (let i = 0; i < n; i++) {
      const s = v.getInt16(data.at + 2 * i, true);
      samples[i] = s < 0 ? s / 32768 : s / 32767;
    }
  } else {
    for (let i = 0; i < n; i++) samples[i] = v.getFloat32(data.at + 4 * i, true);
  }
  return { sampleRate, channels, samples, frames: n / channels, format };
}

function parseFmt(v: DataView, at: number, size: number): { code: number; channels: number; sampleRate: number; blockAlign: number; bits: number } {
  if (size < 16) throw new WavFormatError(`the "fmt " chunk is ${size} bytes, at least 16 expected`);
  let code = v.getUint16(at, true);
  const bits = v.getUint16(at + 14, true);
  if (code === FORMAT_EXTENSIBLE) {
    if (size < 40) throw new WavFormatError(`WAVE_FORMAT_EXTENSIBLE "fmt " chunk is ${size} bytes, 40 expected`);
    const sub = at + 24;
    for (let i = 0; i < GUID_TAIL.length; i++) {
      if (v.getUint8(sub + 2 + i) !== GUID_TAIL[i]) throw new WavFormatError('WAVE_FORMAT_EXTENSIBLE with an unknown sub-format GUID');
    }
    code = v.getUint16(sub, true);
    const valid = v.getUint16(at + 18, true);
    if (valid !== 0 && valid !== bits) throw new WavFormatError(`WAVE_FORMAT_EXTENSIBLE with ${valid} valid bits in ${bits}-bit containers is not supported`);
  }
  return { code, channels: v.getUint16(at + 2, true), sampleRate: v.getUint32(at + 4, true), blockAlign: v.getUint16(at + 12, true), bits };
}

export interface WavWriterOptions {
  channels: number;
  /** Default 48000. */
  sampleRate?: number;
  /** Default 'pcm16'. */
  format?: WavSampleFormat;
}

// One disk write per ~85 ms of stereo f32: few syscalls, small memory.
const BLOCK_BYTES = 64 * 1024;

export class WavWriter {
  readonly path: string;
  readonly channels: number;
  readonly sampleRate: number;
  readonly format: WavSampleFormat;
  private readonly headerBytes: number;
  private block: Buffer;
  private used = 0;
  private dataBytes = 0;
  private pending: Promise<void> = Promise.resolve();
  private closing: Promise<void> | null = null;
  private failure: Error | null = null;
  private constructor(private readonly fh: FileHandle, path: string, o: Required<WavWriterOptions>) {
    this.path = path;
    this.channels = o.channels;
    this.sampleRate = o.sampleRate;
    this.format = o.format;
    this.headerBytes = o.format === 'f32' ? 58 : 44;
    this.block = Buffer.alloc(BLOCK_BYTES);
  }

  /** Creates (truncates) `path` and writes a header whose sizes close() will patch. */
  static async create(path: string, options: WavWriterOptions): Promise<WavWriter> {
    const o = { sampleRate: SAMPLE_RATE, format: 'pcm16' as WavSampleFormat, ...options };
    if (!Number.isInteger(o.channels) || o.channels < 1) throw new RangeError(`WavWriter: channels must be a positive integer, got ${o.channels}`);
    const fh = await open(path, 'w');
    const w = new WavWriter(fh, path, o);
    try {
      await fh.write(w.header(), 0, w.headerBytes, 0);
    } catch (err) {
      await fh.close().catch(() => undefined);
      throw err;
    }
    return w;
  }

  /** Frames (per channel) written so far. */
  get frames(): number {
    return (this.dataBytes + this.used) / this.bytesPerSample / this.channels;
  }

  /** The first disk error, if any; writes after it are ignored and close() rejects with it. */
  get error(): Error | null {
    return this.failure;
  }

  /** Appends interleaved samples (a whole number of frames). Never blocks on the disk. */
  write(samples: Float32Array): void {
    if (samples.length % this.channels !== 0) throw new RangeError(`WavWriter.write: ${samples.length} samples is not a whole number of ${this.channels}-channel frames`);
    if (this.closing) throw new Error(`WavWriter: "${this.path}" is closed`);
    if (this.failure) return;
    const bps = this.bytesPerSample;
    for (let i = 0; i < samples.length; i++) {
      if (this.used + bps > this.block.length) this.flushBlock();
      const x = samples[i]!;
      if (this.format === 'f32') this.block.writeFloatLE(x, this.used);
      else {
        const c = x > 1 ? 1 : x < -1 ? -1 : x || 0;
        this.block.writeInt16LE(Math.round(c < 0 ? c * 32768 : c * 32767), this.used);
      }
      this.used += bps;
    }
  }

  /** Flushes, patches the header sizes and closes the file. Idempotent. */
  close(): Promise<void> {
    if (!this.closing) {
      this.closing = (async () => {
        if (this.used > 0) this.flushBlock();
        await this.pending;
        try {
          if (!this.failure) await this.fh.write(this.header(), 0, this.headerBytes, 0);
        } catch (err) {
          this.failure ??= err as Error;
        } finally {
          await this.fh.close().catch(() => undefined);
        }
        if (this.failure) throw this.failure;
      })();
    }
    return this.closing;
  }

  private get bytesPerSample(): number {
    return this.format === 'f32' ? 4 : 2;
  }

  private flushBlock(): void {
    const chunk = this.block.subarray(0, this.used);
    const position = this.headerBytes + this.dataBytes;
    this.dataBytes += this.used;
    this.block = Buffer.alloc(BLOCK_BYTES);
    this.used = 0;
    // Writes are chained so they land in order; each owns its block.
    this.pending = this.pending.then(async () => {
      if (this.failure) return;
      try {
        await this.fh.write(chunk, 0, chunk.length, position);
      } catch (err) {
        this.failure = err as Error;
      }
    });
  }

  private header(): Buffer {
    const h = Buffer.alloc(this.headerBytes);
    const f32 = this.format === 'f32';
    const bps = this.bytesPerSample;
    h.write('RIFF', 0, 'latin1');
    h.writeUInt32LE(this.headerBytes - 8 + this.dataBytes, 4);
    h.write('WAVEfmt ', 8, 'latin1');
    h.writeUInt32LE(f32 ? 18 : 16, 16);
    h.writeUInt16LE(f32 ? FORMAT_FLOAT : FORMAT_PCM, 20);
    h.writeUInt16LE(this.channels, 22);
    h.writeUInt32LE(this.sampleRate, 24);
    h.writeUInt32LE(this.sampleRate * this.channels * bps, 28);
    h.writeUInt16LE(this.channels * bps, 32);
    h.writeUInt16LE(bps * 8, 34);
    let at = 36;
    if (f32) {
      // Non-PCM formats carry cbSize and a "fact" chunk (frame count) by the spec.
      h.writeUInt16LE(0, 36);
      h.write('fact', 38, 'latin1');
      h.writeUInt32LE(4, 42);
      h.writeUInt32LE(this.dataBytes / bps / this.channels, 46);
      at = 50;
    }
    h.write('data', at, 'latin1');
    h.writeUInt32LE(this.dataBytes, at + 4);
    return h;
  }
}

/** Writes a whole WAV file at once (tests, fixtures, benchmarks). */
export async function writeWav(path: string, samples: Float32Array, options: WavWriterOptions): Promise<void> {
  const w = await WavWriter.create(path, options);
  w.write(samples);
  await w.close();
}
