// A thin binding over the Opus wasm build that @evan/opus ships. The package's
// own Encoder/Decoder classes cannot conceal exactly one 20 ms frame (its wasm
// build conceals 5760 samples, the native one rejects an empty packet) and have
// no FEC decode; the wasm module's raw opus_decode can do both when it is
// called with frame_size = 960 (../shared/DESIGN.md, "Verified facts").
//
// The module is instantiated lazily, once per thread (a worker gets its own),
// and every encoder/decoder of the thread lives in its one linear memory.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { FRAME_SAMPLES, SAMPLE_RATE } from './format.js';

const OPUS_APPLICATION_VOIP = 2048;
const OPUS_SET_BITRATE = 4002;
const OPUS_SET_VBR = 4006;
const OPUS_SET_INBAND_FEC = 4012;
const OPUS_SET_PACKET_LOSS_PERC = 4014;
const OPUS_GET_LOOKAHEAD = 4027;

/** Largest payload either side handles: one UDP datagram's worth, above Opus's 1276-byte single-frame maximum. */
export const MAX_PACKET_BYTES = 1500;

interface OpusExports {
  memory: { buffer: ArrayBuffer };
  _initialize?: () => void;
  malloc(size: number): number;
  free(ptr: number): void;
  opus_strerror(code: number): number;
  opus_decoder_get_size(channels: number): number;
  opus_decoder_init(st: number, rate: number, channels: number): number;
  opus_decode(st: number, data: number, len: number, pcm: number, frameSize: number, decodeFec: number): number;
  opus_encoder_get_size(channels: number): number;
  opus_encoder_init(st: number, rate: number, channels: number, application: number): number;
  opus_encode(st: number, pcm: number, frameSize: number, out: number, maxBytes: number): number;
  // The wrappers take one int argument; _get returns the value itself (not an error code).
  opus_encoder_ctl_set(st: number, cmd: number, arg: number): number;
  opus_encoder_ctl_get(st: number, cmd: number): number;
}

// The project's libs (ES2022, no DOM) do not declare WebAssembly; this is the part used here.
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
}
const Wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

// The smallest module using a v128 instruction: it validates only where wasm SIMD does.
const SIMD_PROBE = Uint8Array.of(0, 97, 115, 109, 1, 0, 0, 0, 1, 4, 1, 96, 0, 0, 3, 2, 1, 0, 10, 9, 1, 7, 0, 65, 0, 253, 15, 26, 11);

class OpusWasm {
  readonly x: OpusExports;
  u8!: Uint8Array;
  i16!: Int16Array;

  constructor() {
    const dir = join(dirname(createRequire(import.meta.url).resolve('@evan/opus/package.json')), 'wasm');
    const file = Wasm.validate(SIMD_PROBE) ? 'simd.wasm' : 'opus.wasm';
    const module = new Wasm.Module(readFileSync(join(dir, file)));
    const noop = (): number => 0;
    let self: OpusWasm | null = null;
    const instance = new Wasm.Instance(module, {
      // Opus never writes to a file; these exist only because emscripten's libc links them.
      wasi_snapshot_preview1: { fd_seek: noop, fd_write: noop, fd_close: noop, proc_exit: noop },
      // A grown memory detaches the old ArrayBuffer, so every view must be rebuilt.
      env: { emscripten_notify_memory_growth: () => self?.refresh() },
    });
    this.x = instance.exports as OpusExports;
    self = this;
    this.refresh();
    this.x._initialize?.();
  }

  refresh(): void {
    this.u8 = new Uint8Array(this.x.memory.buffer);
    this.i16 = new Int16Array(this.x.memory.buffer);
  }

  check(code: number, what: string): number {
    if (code >= 0) return code;
    let msg = '';
    for (let p = this.x.opus_strerror(code); p < this.u8.length && this.u8[p] !== 0; p++) msg += String.fromCharCode(this.u8[p]!);
    throw new Error(`opus: ${what}: ${msg || 'error'} (${code})`);
  }

  /** malloc that throws instead of handing back a null pointer. */
  alloc(bytes: number): number {
    const p = this.x.malloc(bytes);
    if (p === 0) throw new Error(`opus: out of wasm memory allocating ${bytes} bytes`);
    return p;
  }
}

let shared: OpusWasm | null = null;
function opusWasm(): OpusWasm {
  return (shared ??= new OpusWasm());
}

// Wasm memory is never returned to the OS, so an instance dropped without close() would leak for the
// thread's lifetime; the registry frees it after GC as a safety net.
const leaks = new FinalizationRegistry<number[]>((ptrs) => {
  for (const p of ptrs) shared?.x.free(p);
});

export interface OpusEncoderOptions {
  /** Target bitrate in bit/s (VBR). Default 48000. */
  bitrate?: number;
  /** In-band FEC (LBRR). Default true. Opus only spends bits on it when the expected loss is above 0. */
  fec?: boolean;
  /** Expected packet loss in percent (0..100), normally fed back from the receivers. Default 0. */
  expectedLossPercent?: number;
}

/** Mono 48 kHz Opus encoder, VOIP application, VBR; one 960-sample frame per call. */
export class OpusEncoder {
  private readonly m = opusWasm();
  private st: number;
  private readonly pcm: number;
  private readonly out: number;
  private loss = -1;
  private readonly token = {};

  constructor(opts: OpusEncoderOptions = {}) {
    const x = this.m.x;
    this.st = this.m.alloc(x.opus_encoder_get_size(1));
    this.pcm = this.m.alloc(FRAME_SAMPLES * 2);
    this.out = this.m.alloc(MAX_PACKET_BYTES);
    leaks.register(this, [this.st, this.pcm, this.out], this.token);
    try {
      this.m.check(x.opus_encoder_init(this.st, SAMPLE_RATE, 1, OPUS_APPLICATION_VOIP), 'encoder init');
      this.ctl(OPUS_SET_VBR, 1, 'set VBR');
      this.ctl(OPUS_SET_BITRATE, opts.bitrate ?? 48_000, 'set bitrate');
      this.ctl(OPUS_SET_INBAND_FEC, (opts.fec ?? true) ? 1 : 0, 'set in-band FEC');
      this.setExpectedLoss(opts.expectedLossPercent ?? 0);
    } catch (e) {
      this.close();
      throw e;
    }
  }

  /**
   * Encodes exactly one frame (960 samples, nominally -1..1; out-of-range samples are clamped).
   * Returns a view into wasm memory, not a copy, so the send path allocates no buffer: it is valid
   * until the next encode() on this encoder or until any Opus encoder/decoder is constructed in
   * this thread (that may grow the memory and detach it). Seal or copy it straight away, and use
   * its byteOffset/byteLength: its .buffer is the whole wasm memory.
   */
  encode(pcm: Float32Array): Uint8Array {
    if (this.st === 0) throw new Error('opus: encoder is closed');
    if (pcm.length !== FRAME_SAMPLES) throw new Error(`opus: encode needs ${FRAME_SAMPLES} samples, got ${pcm.length}`);
    const m = this.m;
    const i16 = m.i16;
    const base = this.pcm >> 1;
    for (let i = 0; i < FRAME_SAMPLES; i++) {
      const v = Math.round(pcm[i]! * 32768);
      i16[base + i] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
    }
    const n = m.check(m.x.opus_encode(this.st, this.pcm, FRAME_SAMPLES, this.out, MAX_PACKET_BYTES), 'encode');
    return m.u8.subarray(this.out, this.out + n);
  }

  /** Tells the encoder how much loss to protect against (clamped to 0..100); a no-op if unchanged. */
  setExpectedLoss(percent: number): void {
    const p = Math.max(0, Math.min(100, Math.round(Number.isFinite(percent) ? percent : 0)));
    if (p === this.loss) return;
    this.ctl(OPUS_SET_PACKET_LOSS_PERC, p, 'set packet loss');
    this.loss = p;
  }

  /** The encoder's algorithmic delay in samples (312 at 48 kHz: 6.5 ms). */
  get lookaheadSamples(): number {
    if (this.st === 0) throw new Error('opus: encoder is closed');
    return this.m.x.opus_encoder_ctl_get(this.st, OPUS_GET_LOOKAHEAD);
  }

  /** Frees the wasm-side state; safe to call more than once. */
  close(): void {
    if (this.st === 0) return;
    leaks.unregister(this.token);
    const x = this.m.x;
    x.free(this.st);
    x.free(this.pcm);
    x.free(this.out);
    this.st = 0;
  }

  private ctl(cmd: number, arg: number, what: string): void {
    if (this.st === 0) throw new Error('opus: encoder is closed');
    this.m.check(this.m.x.opus_encoder_ctl_set(this.st, cmd, arg), what);
  }
}

/** Mono 48 kHz Opus decoder; every call yields exactly one 960-sample frame. */
export class OpusDecoder {
  private readonly m = opusWasm();
  private st: number;
  private readonly pcm: number;
  private readonly pkt: number;
  private readonly token = {};

  constructor() {
    const x = this.m.x;
    this.st = this.m.alloc(x.opus_decoder_get_size(1));
    this.pcm = this.m.alloc(FRAME_SAMPLES * 2);
    this.pkt = this.m.alloc(MAX_PACKET_BYTES);
    leaks.register(this, [this.st, this.pcm, this.pkt], this.token);
    try {
      this.m.check(x.opus_decoder_init(this.st, SAMPLE_RATE, 1), 'decoder init');
    } catch (e) {
      this.close();
      throw e;
    }
  }

  /** Decodes one 20 ms packet into out (960 samples). Throws on a corrupt packet; the decoder stays usable. */
  decode(packet: Uint8Array, out: Float32Array): void {
    this.run(packet, out, 0, 'decode');
  }

  /**
   * Recovers the frame BEFORE nextPacket (the one that was lost) from nextPacket's in-band FEC.
   * If nextPacket carries no FEC data, Opus conceals instead. Decode nextPacket itself afterwards.
   */
  decodeFec(nextPacket: Uint8Array, out: Float32Array): void {
    this.run(nextPacket, out, 1, 'FEC decode');
  }

  /** Packet-loss concealment for exactly one 960-sample frame. */
  conceal(out: Float32Array): void {
    this.run(null, out, 0, 'conceal');
  }

  /** Frees the wasm-side state; safe to call more than once. */
  close(): void {
    if (this.st === 0) return;
    leaks.unregister(this.token);
    const x = this.m.x;
    x.free(this.st);
    x.free(this.pcm);
    x.free(this.pkt);
    this.st = 0;
  }

  private run(packet: Uint8Array | null, out: Float32Array, fec: number, what: string): void {
    if (this.st === 0) throw new Error('opus: decoder is closed');
    if (out.length < FRAME_SAMPLES) throw new Error(`opus: ${what} needs a ${FRAME_SAMPLES}-sample output, got ${out.length}`);
    const m = this.m;
    let len = 0;
    if (packet !== null) {
      len = packet.length;
      if (len === 0) throw new Error(`opus: ${what}: empty packet`);
      if (len > MAX_PACKET_BYTES) throw new Error(`opus: ${what}: packet of ${len} bytes exceeds ${MAX_PACKET_BYTES}`);
      m.u8.set(packet, this.pkt);
    }
    const n = m.check(m.x.opus_decode(this.st, packet === null ? 0 : this.pkt, len, this.pcm, FRAME_SAMPLES, fec), what);
    // A valid packet of 10 ms (or 2.5/5) would leave part of the frame stale: the protocol fixes 20 ms.
    if (n !== FRAME_SAMPLES) throw new Error(`opus: ${what}: packet holds ${n} samples, expected ${FRAME_SAMPLES}`);
    const i16 = m.i16;
    const base = this.pcm >> 1;
    for (let i = 0; i < FRAME_SAMPLES; i++) out[i] = i16[base + i]! / 32768;
  }
}
