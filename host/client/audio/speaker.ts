// One remote speaker's playout: its jitter buffer decides, once per tick,
// what the frame is (packet, FEC, concealment, silence) and its own Opus
// decoder turns that into 960 mono samples. Each speaker needs its own
// decoder because Opus decoding (and concealment above all) depends on the
// previous frames of the same stream.
import { FRAME_SAMPLES } from './format.js';
import { JitterBuffer, type JitterBufferOptions, type JitterStats } from './jitter-buffer.js';
import { OpusDecoder } from './opus.js';

export interface SpeakerOptions {
  jitter?: JitterBufferOptions;
  /** `speaking` stays true this long after the last played frame, so the indicator does not flicker. Default 200. */
  hangoverMs?: number;
}

export interface SpeakerStats extends JitterStats {
  /** Level of the last pulled frame, dBFS (-120 for silence). */
  rmsDb: number;
  peakDb: number;
  speaking: boolean;
  /** Packets the decoder rejected (corrupt); each was concealed instead. */
  decodeErrors: number;
}

const SILENCE_DB = -120;

// The fade spans the whole last concealed frame and ends exactly at zero, so the silence that follows
// starts without a step; a raised cosine has no corner at either end.
const FADE = new Float32Array(FRAME_SAMPLES);
for (let i = 0; i < FRAME_SAMPLES; i++) FADE[i] = 0.5 * (1 + Math.cos((Math.PI * (i + 1)) / FRAME_SAMPLES));

function dbfs(x: number): number {
  return x > 0 ? Math.max(SILENCE_DB, 20 * Math.log10(x)) : SILENCE_DB;
}

export class SpeakerPlayout {
  private readonly jitter: JitterBuffer;
  private readonly decoder = new OpusDecoder();
  private readonly scratch = new Float32Array(FRAME_SAMPLES);
  private readonly hangoverMs: number;
  private lastPlayedMs = -Infinity;
  private nowMs = -Infinity;
  private rmsDb = SILENCE_DB;
  private peakDb = SILENCE_DB;
  private decodeErrors = 0;

  constructor(opts: SpeakerOptions = {}) {
    this.jitter = new JitterBuffer(opts.jitter);
    this.hangoverMs = opts.hangoverMs ?? 200;
  }

  /** One received packet; `seq` is its frame index (timestamp / 960). Keeps a reference to `payload`. */
  push(seq: number, payload: Uint8Array, arrivalMs: number): 'queued' | 'duplicate' | 'late' {
    return this.jitter.push(seq, payload, arrivalMs);
  }

  /** The speaker's frame for the tick at `nowMs` into `out` (960 mono). False when idle: `out` is zeros. */
  pull(nowMs: number, out: Float32Array): boolean {
    this.nowMs = nowMs;
    const d = this.jitter.next(nowMs);
    switch (d.kind) {
      case 'idle':
        out.fill(0, 0, FRAME_SAMPLES);
        this.rmsDb = SILENCE_DB;
        this.peakDb = SILENCE_DB;
        return false;
      case 'packet':
        // The dropped frame is decoded only to keep the decoder's history continuous.
        if (d.skipped !== null) this.decodeOr(d.skipped, this.scratch, false);
        this.decodeOr(d.payload, out, false);
        break;
      case 'fec':
        this.decodeOr(d.payload, out, true);
        break;
      case 'plc':
        this.decoder.conceal(out);
        if (d.fadeOut) for (let i = 0; i < FRAME_SAMPLES; i++) out[i] = out[i]! * FADE[i]!;
        break;
    }
    this.lastPlayedMs = nowMs;
    this.measure(out);
    return true;
  }

  /** True while frames play, and for the hangover after the last one. */
  get speaking(): boolean {
    return this.nowMs - this.lastPlayedMs <= this.hangoverMs;
  }

  stats(): SpeakerStats {
    return { ...this.jitter.stats(), rmsDb: this.rmsDb, peakDb: this.peakDb, speaking: this.speaking, decodeErrors: this.decodeErrors };
  }

  close(): void {
    this.decoder.close();
  }

  /** A corrupt packet is concealed rather than let one bad datagram stop the speaker's playout. */
  private decodeOr(payload: Uint8Array, out: Float32Array, fec: boolean): void {
    try {
      if (fec) this.decoder.decodeFec(payload, out);
      else this.decoder.decode(payload, out);
    } catch {
      this.decodeErrors++;
      this.decoder.conceal(out);
    }
  }

  private measure(out: Float32Array): void {
    let sum = 0;
    let peak = 0;
    for (let i = 0; i < FRAME_SAMPLES; i++) {
      const s = out[i]!;
      sum += s * s;
      const a = s < 0 ? -s : s;
      if (a > peak) peak = a;
    }
    this.rmsDb = dbfs(Math.sqrt(sum / FRAME_SAMPLES));
    this.peakDb = dbfs(peak);
  }
}
