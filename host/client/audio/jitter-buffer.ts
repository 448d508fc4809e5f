// Per-speaker jitter buffer. It orders a speaker's packets by frame index and
// hands out exactly one decision per 20 ms playout tick: play a packet, recover
// a missing one from the next packet's in-band FEC, conceal it, or stay silent.
// It holds payloads, not PCM (the decoder is the caller's), and it never reads
// a clock: arrival and tick times are arguments, so tests drive it with
// synthetic time.
//
// The "sequence" is the frame index on the speaker's 20 ms frame clock
// (protocol timestamp / 960), not the datagram sequence number: the latter is
// shared with keep-alives, so it has gaps that are not lost audio.
import { FRAME_MS } from './format.js';

export type PlayoutDecision =
  /** Decode `payload`. `skipped`: a packet dropped just before it to shrink the buffer; decode and discard it so the decoder state stays continuous. */
  | { kind: 'packet'; seq: number; payload: Uint8Array; skipped: Uint8Array | null }
  /** `seq` is missing; `payload` is packet seq+1, whose in-band FEC recovers it (seq+1 is still played at its own turn). */
  | { kind: 'fec'; seq: number; payload: Uint8Array }
  /**
   * Conceal one frame. `inserted`: an extra frame that delays playout by one tick to grow the buffer
   * (`seq` is not consumed). `fadeOut`: the talk spurt ends with this frame; ramp it down to silence.
   */
  | { kind: 'plc'; seq: number; inserted: boolean; fadeOut: boolean }
  /** Nothing to play; `buffering`: a spurt has started and is filling up to the target depth. */
  | { kind: 'idle'; buffering: boolean };

export interface JitterStats {
  /** Packets pushed, including late and duplicate ones. */
  received: number;
  late: number;
  duplicate: number;
  /** Frames never received in time, each one either FEC-recovered or concealed. */
  lost: number;
  /** Lost frames concealed by PLC (not counting inserted frames or a spurt's trailing frames). */
  concealed: number;
  fecRecovered: number;
  /** Frames inserted to grow the playout delay. */
  inserted: number;
  /** Packets dropped to shrink it. */
  dropped: number;
  /** Talk spurts started. */
  spurts: number;
  /** Packets currently held, in ms of audio. */
  depthMs: number;
  /** How long a packet that took the fastest recent path waits before it plays (0 when idle). */
  playoutDelayMs: number;
  targetMs: number;
  /** Windowed high percentile of the arrival delay variation. */
  jitterMs: number;
}

export interface JitterBufferOptions {
  /** Never plays out with less than this held (the seed's 40 ms rule). */
  minDepthMs?: number;
  /** The target never grows past this. Default 300. */
  maxDepthMs?: number;
  /** Consecutive concealed ticks with an empty buffer after which the spurt is over. Default 3. */
  endTicks?: number;
  /** Quiet time (no late packet, no insertion) before the buffer may drop a frame to shrink. Default 3000. */
  shrinkCalmMs?: number;
  /** Payloads this small are taken as quiet, the preferred frames to drop. Default 20 bytes. */
  quietBytes?: number;
}

/** Frames the ring holds: 2.56 s, far above the depth cap, so reordering never collides. */
const CAP = 128;
/** Delay samples in the jitter window: 4 s of speech. */
const WINDOW = 200;
const PERCENTILE = 0.97;
/** A due shrink waits this long for a quiet frame, then drops whatever comes. */
const QUIET_WAIT_MS = 1000;
/** Successive drops of one calm spell are at least this far apart, so a large excess drains over seconds. */
const SHRINK_SPACING_MS = 1000;

/** A fixed window of the last `size` values, allocation-free. */
class Ring {
  readonly v: Float64Array;
  count = 0;
  private pos = 0;
  constructor(size: number) {
    this.v = new Float64Array(size);
  }
  get full(): boolean {
    return this.count === this.v.length;
  }
  /** Adds x; returns the value it pushed out (Infinity while not full). */
  push(x: number): number {
    const out = this.full ? this.v[this.pos]! : Infinity;
    this.v[this.pos] = x;
    this.pos = (this.pos + 1) % this.v.length;
    if (this.count < this.v.length) this.count++;
    return out;
  }
  clear(): void {
    this.count = 0;
    this.pos = 0;
  }
  add(d: number): void {
    for (let i = 0; i < this.count; i++) this.v[i] = this.v[i]! + d;
  }
  min(): number {
    let m = Infinity;
    for (let i = 0; i < this.count; i++) if (this.v[i]! < m) m = this.v[i]!;
    return m;
  }
}

const IDLE: PlayoutDecision = Object.freeze({ kind: 'idle', buffering: false });
const BUFFERING: PlayoutDecision = Object.freeze({ kind: 'idle', buffering: true });

export class JitterBuffer {
  private readonly minDepth: number;
  private readonly maxDepth: number;
  private readonly endTicks: number;
  private readonly quietBytes: number;

  private readonly payloads: (Uint8Array | null)[] = new Array<Uint8Array | null>(CAP).fill(null);
  /** Last frame index seen in each slot, kept after it plays, so a replay is told from a late packet. */
  private readonly slotSeq = new Float64Array(CAP).fill(-1);
  private readonly arrivals = new Float64Array(CAP);
  private held = 0;

  private state: 'idle' | 'buffering' | 'playing' = 'idle';
  private base = 0;
  private nextSeq = 0;
  private lowestHeld = 0;
  /** The previous spurt's highest index: anything at or below it is a straggler, not part of this spurt. */
  private floor = -Infinity;
  private highestSeen = -1;
  private firstArrival = 0;
  /**
   * Fastest transit (arrival - nominal send time, relative to `base`) among the spurt's last WINDOW
   * packets: windowed rather than all-time, so a lasting step in delay (a new route, sender clock
   * drift) becomes the new baseline instead of looking like jitter forever.
   */
  private minTransit = Infinity;
  private readonly transits = new Ring(WINDOW);
  /** Frames concealed with nothing newer known: lost if a later packet shows up, else the spurt's tail. */
  private tailStart = -1;
  private emptyRun = 0;
  private shrinkDueMs = -1;
  private lastShrinkMs = -Infinity;
  /** How long (tick - arrival) each packet played since the last disturbance waited (less any drops since). */
  private readonly slacks: Ring;
  /** Delay variation samples, kept across spurts: a new spurt starts at the depth the last one learned. */
  private readonly delays = new Ring(WINDOW);
  private readonly sorted = new Float64Array(WINDOW);
  private jitter = 0;
  private target: number;
  private lastDelay = 0;

  private readonly c = { received: 0, late: 0, duplicate: 0, lost: 0, concealed: 0, fecRecovered: 0, inserted: 0, dropped: 0, spurts: 0 };

  constructor(opts: JitterBufferOptions = {}) {
    this.minDepth = opts.minDepthMs ?? 40;
    this.maxDepth = Math.max(this.minDepth, opts.maxDepthMs ?? 300);
    this.endTicks = opts.endTicks ?? 3;
    this.slacks = new Ring(Math.max(1, Math.round((opts.shrinkCalmMs ?? 3000) / FRAME_MS)));
    this.quietBytes = opts.quietBytes ?? 20;
    this.target = this.minDepth;
  }

  /**
   * One arrived packet (frame index `seq`). The buffer keeps a reference to `payload`: do not reuse
   * its memory. Push a tick's arrivals before calling next() for that tick.
   */
  push(seq: number, payload: Uint8Array, arrivalMs: number): 'queued' | 'duplicate' | 'late' {
    if (!Number.isSafeInteger(seq) || seq < 0) throw new RangeError(`jitter buffer: frame index ${seq} is not a non-negative integer`);
    this.c.received++;
    const slot = seq % CAP;
    if (this.slotSeq[slot] === seq) {
      this.c.duplicate++;
      return 'duplicate';
    }
    if (this.state === 'idle') {
      // Stragglers of the spurt that just ended; a far-back index means the speaker's clock restarted.
      if (seq <= this.highestSeen && this.highestSeen - seq < CAP) return this.late(seq, arrivalMs);
      this.startSpurt(seq, arrivalMs);
    } else if (this.state === 'buffering') {
      if (seq < this.lowestHeld) {
        if (seq <= this.floor || this.highestSeen - seq >= CAP) return this.late(seq, arrivalMs);
        this.lowestHeld = seq;
      } else if (seq - this.lowestHeld >= CAP) {
        this.startSpurt(seq, arrivalMs);
      }
    } else if (seq < this.nextSeq) {
      return this.late(seq, arrivalMs);
    } else if (seq - this.nextSeq >= CAP) {
      this.startSpurt(seq, arrivalMs);
    }
    this.slotSeq[slot] = seq;
    this.payloads[slot] = payload;
    this.arrivals[slot] = arrivalMs;
    this.held++;
    this.sawNewer(seq);
    this.sampleDelay(seq, arrivalMs);
    return 'queued';
  }

  /** The decision for the playout tick at `nowMs`; call it once per 20 ms. */
  next(nowMs: number): PlayoutDecision {
    if (this.state === 'idle') return IDLE;
    if (this.state === 'buffering') {
      if (nowMs - this.firstArrival < this.target) return BUFFERING;
      this.state = 'playing';
      this.nextSeq = this.lowestHeld;
    }
    const seq = this.nextSeq;
    const delay = this.playoutDelay(nowMs);
    const present = this.has(seq);

    if (present) {
      this.emptyRun = 0;
      let skipped: Uint8Array | null = null;
      if (this.shouldShrink(nowMs, seq)) {
        skipped = this.take(seq);
        this.c.dropped++;
        this.shrinkDueMs = -1;
        this.lastShrinkMs = nowMs;
        // Every packet of the spell would have waited a frame less: the record stays valid, shifted.
        this.slacks.add(-FRAME_MS);
        this.nextSeq = seq + 1;
      }
      const s = this.nextSeq++;
      this.slacks.push(nowMs - this.arrivals[s % CAP]!);
      return { kind: 'packet', seq: s, payload: this.take(s), skipped };
    }

    // Missing. Under target, wait a tick for it instead of giving it up: that is how the delay grows.
    if (delay < this.target) {
      this.c.inserted++;
      this.disturbed();
      return this.concealed(seq, true);
    }
    this.nextSeq = seq + 1;
    const next = this.has(seq + 1) ? this.payloads[(seq + 1) % CAP]! : null;
    if (next !== null) {
      this.emptyRun = 0;
      this.c.lost++;
      this.c.fecRecovered++;
      return { kind: 'fec', seq, payload: next };
    }
    if (seq < this.highestSeen) {
      this.c.lost++;
      this.c.concealed++;
    } else if (this.tailStart < 0) {
      this.tailStart = seq;
    }
    return this.concealed(seq, false);
  }

  stats(): JitterStats {
    return {
      ...this.c,
      depthMs: this.held * FRAME_MS,
      playoutDelayMs: this.state === 'playing' ? Math.max(0, Math.round(this.lastDelay)) : 0,
      targetMs: this.target,
      jitterMs: Math.round(this.jitter * 10) / 10,
    };
  }

  /** Whether a spurt is being buffered or played. */
  get active(): boolean {
    return this.state !== 'idle';
  }

  private playoutDelay(nowMs: number): number {
    return (this.lastDelay = nowMs - (this.minTransit + (this.nextSeq - this.base) * FRAME_MS));
  }

  private concealed(seq: number, inserted: boolean): PlayoutDecision {
    // Only an empty buffer (nothing newer known) can mean the speaker stopped.
    if (this.highestSeen < this.nextSeq) this.emptyRun++;
    else this.emptyRun = 0;
    const fadeOut = this.emptyRun >= this.endTicks;
    if (fadeOut) this.goIdle();
    return { kind: 'plc', seq, inserted, fadeOut };
  }

  /**
   * Drop one frame when every packet of a calm spell (the last shrinkCalmMs of play, with no late packet and
   * no insertion) waited at least a frame longer than the target: all of them would still have been in time
   * one frame later. Prefers a quiet frame; at most one drop per SHRINK_SPACING_MS.
   */
  private shouldShrink(nowMs: number, seq: number): boolean {
    if (!this.slacks.full || nowMs - this.lastShrinkMs < SHRINK_SPACING_MS || !this.has(seq + 1) || this.slacks.min() - FRAME_MS < this.target) {
      this.shrinkDueMs = -1;
      return false;
    }
    if (this.shrinkDueMs < 0) this.shrinkDueMs = nowMs;
    return this.payloads[seq % CAP]!.length <= this.quietBytes || nowMs - this.shrinkDueMs >= QUIET_WAIT_MS;
  }

  /** A late packet or an insertion: the network is not calm, so shrinking waits for a new calm spell. */
  private disturbed(): void {
    this.slacks.clear();
  }

  private late(seq: number, arrivalMs: number): 'late' {
    this.c.late++;
    this.slotSeq[seq % CAP] = seq;
    // A previous spurt's straggler says nothing about this spurt's timing.
    if (this.state !== 'idle' && seq >= this.base) {
      this.sawNewer(seq);
      this.sampleDelay(seq, arrivalMs);
      this.disturbed();
    }
    return 'late';
  }

  /** A packet newer than any seen proves the frames concealed before it were real losses, not the spurt's end. */
  private sawNewer(seq: number): void {
    if (seq <= this.highestSeen) return;
    this.highestSeen = seq;
    if (this.tailStart < 0) return;
    const last = Math.min(seq, this.nextSeq - 1);
    const n = last - this.tailStart + 1;
    if (n > 0) {
      this.c.lost += n;
      this.c.concealed += n;
    }
    this.tailStart = last + 1 < this.nextSeq ? last + 1 : -1;
  }

  private startSpurt(seq: number, arrivalMs: number): void {
    this.clearHeld();
    this.floor = this.highestSeen < seq ? this.highestSeen : -Infinity;
    this.state = 'buffering';
    this.base = seq;
    this.lowestHeld = seq;
    this.nextSeq = seq;
    this.firstArrival = arrivalMs;
    this.minTransit = Infinity;
    this.transits.clear();
    this.tailStart = -1;
    this.emptyRun = 0;
    this.shrinkDueMs = -1;
    this.slacks.clear();
    // A new spurt must not inherit the previous one's highest index as proof of loss.
    this.highestSeen = seq - 1;
    this.c.spurts++;
  }

  private goIdle(): void {
    this.state = 'idle';
    this.clearHeld();
    this.tailStart = -1;
    this.emptyRun = 0;
  }

  private clearHeld(): void {
    if (this.held === 0) return;
    this.payloads.fill(null);
    this.held = 0;
  }

  private has(seq: number): boolean {
    const slot = seq % CAP;
    return this.slotSeq[slot] === seq && this.payloads[slot] !== null;
  }

  private take(seq: number): Uint8Array {
    const slot = seq % CAP;
    const p = this.payloads[slot]!;
    this.payloads[slot] = null;
    this.held--;
    return p;
  }

  /** Delay variation: how much later than the recent fastest packet this one came, against 20 ms per frame. */
  private sampleDelay(seq: number, arrivalMs: number): void {
    const transit = arrivalMs - (seq - this.base) * FRAME_MS;
    const leaving = this.transits.push(transit);
    if (transit <= this.minTransit) this.minTransit = transit;
    else if (leaving === this.minTransit) this.minTransit = this.transits.min();

    this.delays.push(transit - this.minTransit);
    const n = this.delays.count;
    // Once the window is full (all but the first 4 s ever) this sorts in place with no view allocated.
    const sorted = n === WINDOW ? this.sorted : this.sorted.subarray(0, n);
    sorted.set(n === WINDOW ? this.delays.v : this.delays.v.subarray(0, n));
    sorted.sort();
    this.jitter = sorted[Math.min(n - 1, Math.floor(PERCENTILE * n))]!;
    const t = Math.ceil(this.jitter / FRAME_MS - 1e-9) * FRAME_MS;
    this.target = Math.min(this.maxDepth, Math.max(this.minDepth, t));
  }
}
