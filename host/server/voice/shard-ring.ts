// The hand-off between voice shards (shard-pool.ts): a single-producer,
// single-consumer byte ring in a SharedArrayBuffer, one per ordered pair of
// shards, plus a doorbell per consuming shard. The speaker's shard opens a
// packet once and writes its plaintext (speaker header + payload + channel)
// once into the ring of every other shard that has listeners in that
// channel; each of those seals and sends to its own listeners. One hop per
// shard per packet, never one per copy, and no structured clone, no
// allocation and no message per packet.
//
// Why a ring rather than postMessage: a postMessage costs a clone, a task on
// the receiving loop and a few µs either side per packet; the ring costs a
// memcpy of ~150 bytes and two atomic stores, and one wake covers everything
// written while the consumer was busy.
//
// Records are 4-byte aligned: [u32 length][u32 channelId][u32 stamp][length
// bytes] (stamp: the producer's clock in ms, low 32 bits, so the consumer can
// tell how long a record waited). A
// record never straddles the end: if it does not fit before the end, the
// producer writes a WRAP marker there and starts again at 0. head and tail
// are free-running u32 byte counters (kept in Int32 slots, read with >>> 0);
// the capacity is a power of two, so `counter & mask` is the position and
// `(tail - head) >>> 0` the bytes in use, across the 2^32 wrap too.
//
// Ordering: one producer and one consumer per ring, records read in the order
// written, so a speaker's packets reach each shard in order. The producer
// publishes tail only after the record's bytes are written (Atomics.store is
// sequentially consistent: whoever loads the new tail sees the bytes), the
// consumer publishes head only after it has copied a record out.
//
// When full, the newest record is dropped and counted (`dropped`): the
// consumer is that far behind, and voice older than the queue is worth less
// than the next packet's place in it (a jitter buffer discards late audio).

/** Int32 slots in front of the data area. */
const HEAD = 0;
const TAIL = 1;
const DROPPED = 2;
const CONTROL_BYTES = 16;
/** Record header: length, channel id, stamp. */
const RECORD_HEADER = 12;
/** Marker in a record's length slot: the rest of this lap is empty, continue at 0. */
const WRAP = 0xffff_ffff;

const align4 = (n: number) => (n + 3) & ~3;

/** Called per record, in order; `bytes` is only valid during the call (copy what you keep). */
export type RecordSink = (channelId: number, stamp: number, bytes: Uint8Array, offset: number, length: number) => void;

export class ShardRing {
  /** 16 control bytes + `capacity` data bytes; share it with the other side and wrap it in a ShardRing there. */
  static allocate(capacity: number): SharedArrayBuffer {
    if (!Number.isInteger(capacity) || capacity < 64 || capacity > 1 << 30 || (capacity & (capacity - 1)) !== 0) {
      throw new RangeError(`ring capacity must be a power of two between 64 and 2^30, got ${capacity}`);
    }
    return new SharedArrayBuffer(CONTROL_BYTES + capacity);
  }

  private readonly control: Int32Array;
  private readonly words: Uint32Array;
  /** The data area as bytes: a Buffer view, so records copy out with Buffer#copy (no allocation). */
  readonly bytes: Buffer;
  private readonly capacity: number;
  private readonly mask: number;

  constructor(sab: SharedArrayBuffer) {
    this.capacity = sab.byteLength - CONTROL_BYTES;
    this.mask = this.capacity - 1;
    this.control = new Int32Array(sab, 0, CONTROL_BYTES / 4);
    this.words = new Uint32Array(sab, CONTROL_BYTES, this.capacity / 4);
    this.bytes = Buffer.from(sab, CONTROL_BYTES, this.capacity);
  }

  /** Records the producer could not write because the ring was full. */
  get dropped(): number {
    return Atomics.load(this.control, DROPPED) >>> 0;
  }

  /** Bytes written and not yet consumed (padding and wrap markers included). */
  get used(): number {
    return (Atomics.load(this.control, TAIL) - Atomics.load(this.control, HEAD)) >>> 0;
  }

  isEmpty(): boolean {
    return Atomics.load(this.control, TAIL) === Atomics.load(this.control, HEAD);
  }

  /**
   * Producer: appends one record (`a` then `b`, e.g. a header and a payload).
   * False when it does not fit: dropped and counted, nothing written.
   */
  push(channelId: number, stamp: number, a: Uint8Array, b: Uint8Array): boolean {
    const length = a.length + b.length;
    const need = align4(RECORD_HEADER + length);
    const tail = Atomics.load(this.control, TAIL) >>> 0;
    const used = (tail - (Atomics.load(this.control, HEAD) >>> 0)) >>> 0;
    let pos = tail & this.mask;
    const toEnd = this.capacity - pos;
    const skip = need > toEnd ? toEnd : 0;
    if (used + skip + need > this.capacity) {
      Atomics.add(this.control, DROPPED, 1);
      return false;
    }
    if (skip > 0) {
      this.words[pos >>> 2] = WRAP;
      pos = 0;
    }
    this.words[pos >>> 2] = length;
    this.words[(pos >>> 2) + 1] = channelId >>> 0;
    this.words[(pos >>> 2) + 2] = stamp >>> 0;
    this.bytes.set(a, pos + RECORD_HEADER);
    this.bytes.set(b, pos + RECORD_HEADER + a.length);
    Atomics.store(this.control, TAIL, (tail + skip + need) | 0);
    return true;
  }

  /** Consumer: hands up to `max` records to `sink`, oldest first; returns how many. */
  drain(sink: RecordSink, max = Infinity): number {
    const tail = Atomics.load(this.control, TAIL) >>> 0;
    let head = Atomics.load(this.control, HEAD) >>> 0;
    let n = 0;
    while (head !== tail && n < max) {
      const pos = head & this.mask;
      const length = this.words[pos >>> 2]!;
      if (length === WRAP) {
        head = (head + (this.capacity - pos)) >>> 0;
        Atomics.store(this.control, HEAD, head | 0);
        continue;
      }
      sink(this.words[(pos >>> 2) + 1]!, this.words[(pos >>> 2) + 2]!, this.bytes, pos + RECORD_HEADER, length);
      head = (head + align4(RECORD_HEADER + length)) >>> 0;
      // Published per record: the producer gets the room back at once.
      Atomics.store(this.control, HEAD, head | 0);
      n++;
    }
    return n;
  }

  /** Consumer, at start: forgets whatever a previous consumer (a shard that died) left unread. */
  discard(): void {
    Atomics.store(this.control, HEAD, Atomics.load(this.control, TAIL));
  }
}

/** Atomics.waitAsync (Node 16+, V8); ES2022's lib does not declare it yet. */
type WaitAsync = (a: Int32Array, index: number, value: number) => { async: false; value: string } | { async: true; value: Promise<string> };
const waitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync;

const SLEEPING = 0;
const SEQ = 1;

/**
 * One per consuming shard: how producers wake it. The consumer announces that
 * it is about to sleep, checks its rings once more and waits on SEQ; a
 * producer that finds it sleeping clears the flag and notifies, once. So a
 * wake costs one notify per burst, however many records the burst holds, and
 * a producer that finds the consumer awake costs one failed compare-exchange.
 */
export class ShardBell {
  static allocate(): SharedArrayBuffer {
    return new SharedArrayBuffer(8);
  }

  private readonly cell: Int32Array;

  constructor(sab: SharedArrayBuffer) {
    this.cell = new Int32Array(sab);
  }

  /** Producer, after a push. */
  ring(): void {
    if (Atomics.compareExchange(this.cell, SLEEPING, 1, 0) === 1) {
      Atomics.add(this.cell, SEQ, 1);
      Atomics.notify(this.cell, SEQ);
    }
  }

  /**
   * Consumer: resolves when a producer rings, or at once if `idle()` turns
   * false after the flag is up (a record written just before it went up).
   * Never blocks the thread: the wait is asynchronous.
   */
  async sleep(idle: () => boolean): Promise<void> {
    const seq = Atomics.load(this.cell, SEQ);
    Atomics.store(this.cell, SLEEPING, 1);
    if (!idle()) {
      Atomics.store(this.cell, SLEEPING, 0);
      return;
    }
    const r = waitAsync(this.cell, SEQ, seq);
    if (r.async) await r.value;
  }

  /** Wakes the consumer without a record (it is shutting down). */
  wake(): void {
    Atomics.store(this.cell, SLEEPING, 0);
    Atomics.add(this.cell, SEQ, 1);
    Atomics.notify(this.cell, SEQ);
  }
}
