// A fixed-capacity ring of f32 samples between two clocks that disagree on
// chunk size: naudiodon hands capture audio in reads of its own size (4,096
// samples by default) while the engine wants exactly one 960-sample frame per
// tick, and on playback the engine pushes frames while PortAudio pulls in
// bursts. The ring is allocated once; write/read copy with plain loops rather
// than subarray()+set() so that nothing is allocated per frame on the audio
// thread.

export class FrameRing {
  readonly capacity: number;
  readonly frameSize: number;
  private readonly buf: Float32Array;
  /** Index of the oldest sample. */
  private head = 0;
  private count = 0;
  private droppedTotal = 0;
  private underflowTotal = 0;

  constructor(capacity: number, frameSize: number) {
    if (!Number.isInteger(frameSize) || frameSize <= 0) throw new RangeError(`FrameRing: frameSize must be a positive integer, got ${frameSize}`);
    if (!Number.isInteger(capacity) || capacity < frameSize) throw new RangeError(`FrameRing: capacity (${capacity}) must be an integer of at least one frame (${frameSize})`);
    this.capacity = capacity;
    this.frameSize = frameSize;
    this.buf = new Float32Array(capacity);
  }

  /** Samples currently buffered. */
  get available(): number {
    return this.count;
  }

  /** Whole frames currently buffered. */
  get framesAvailable(): number {
    return Math.floor(this.count / this.frameSize);
  }

  /** Samples dropped (oldest first) because a write found the ring full, since construction. */
  get dropped(): number {
    return this.droppedTotal;
  }

  /** readFrame() calls that found less than one frame, since construction. */
  get underflows(): number {
    return this.underflowTotal;
  }

  /**
   * Appends `length` samples of `src` from `offset`. When they do not fit, the
   * OLDEST buffered samples are dropped to make room (the newest audio is the
   * one worth keeping in a live call); a chunk larger than the whole ring keeps
   * only its last `capacity` samples. Returns how many samples this call dropped.
   */
  write(src: ArrayLike<number>, offset = 0, length = src.length - offset): number {
    if (offset < 0 || length < 0 || offset + length > src.length) throw new RangeError(`FrameRing.write: ${length} samples at ${offset} is outside a source of ${src.length}`);
    let dropped = 0;
    if (length > this.capacity) {
      // Everything buffered plus the head of the chunk is lost.
      dropped = this.count + (length - this.capacity);
      offset += length - this.capacity;
      length = this.capacity;
      this.head = 0;
      this.count = 0;
    } else if (this.count + length > this.capacity) {
      dropped = this.dropOldest(this.count + length - this.capacity);
    }
    const cap = this.capacity;
    let tail = this.head + this.count;
    if (tail >= cap) tail -= cap;
    for (let i = 0; i < length; i++) {
      this.buf[tail] = src[offset + i]!;
      if (++tail === cap) tail = 0;
    }
    this.count += length;
    this.droppedTotal += dropped;
    return dropped;
  }

  /**
   * Fills `out` (exactly one frame) with the oldest frameSize samples. When
   * less than a frame is buffered nothing is consumed, `out` is zero-filled,
   * the underflow is counted and false is returned.
   */
  readFrame(out: Float32Array): boolean {
    if (out.length !== this.frameSize) throw new RangeError(`FrameRing.readFrame: out holds ${out.length} samples, a frame is ${this.frameSize}`);
    if (this.count < this.frameSize) {
      out.fill(0);
      this.underflowTotal++;
      return false;
    }
    this.read(out, 0, this.frameSize);
    return true;
  }

  /**
   * Moves up to `length` of the oldest samples into `out` at `offset` and
   * returns how many it moved (fewer when fewer are buffered; not an underflow).
   */
  read(out: Float32Array, offset = 0, length = out.length - offset): number {
    if (offset < 0 || length < 0 || offset + length > out.length) throw new RangeError(`FrameRing.read: ${length} samples at ${offset} is outside a target of ${out.length}`);
    const n = Math.min(length, this.count);
    const cap = this.capacity;
    let h = this.head;
    for (let i = 0; i < n; i++) {
      out[offset + i] = this.buf[h]!;
      if (++h === cap) h = 0;
    }
    this.head = h;
    this.count -= n;
    return n;
  }

  /** Drops up to `n` of the oldest samples (counted in `dropped`); returns how many. */
  discard(n: number): number {
    const k = this.dropOldest(n);
    this.droppedTotal += k;
    return k;
  }

  private dropOldest(n: number): number {
    const k = Math.max(0, Math.min(Math.floor(n), this.count));
    this.head = (this.head + k) % this.capacity;
    this.count -= k;
    return k;
  }

  /** Empties the ring without counting anything as dropped. */
  clear(): void {
    this.head = 0;
    this.count = 0;
  }
}
