// A fixed-size latency histogram for the audio path: recording is a few
// integer operations and allocates nothing, so it can run on every frame.
// Buckets: 1 µs wide below 64 µs, then 16 per power of two (at most 6.25 %
// wide) up to ~2^31 µs. Quantiles are reported as the bucket's midpoint.
const LINEAR = 64;
const SUB = 16;
const BUCKETS = LINEAR + (31 - 6) * SUB;

function bucketOf(us: number): number {
  const n = us <= 0 ? 0 : us >= 0x7fffffff ? 0x7fffffff : Math.floor(us);
  if (n < LINEAR) return n;
  const e = 31 - Math.clz32(n); // >= 6
  return LINEAR + (e - 6) * SUB + ((n >>> (e - 4)) & (SUB - 1));
}

function bucketLow(b: number): number {
  if (b < LINEAR) return b;
  const e = Math.floor((b - LINEAR) / SUB) + 6;
  return 2 ** e + ((b - LINEAR) % SUB) * 2 ** (e - 4);
}

function bucketMid(b: number): number {
  if (b < LINEAR) return b + 0.5;
  return (bucketLow(b) + bucketLow(b + 1)) / 2;
}

export class Histogram {
  private readonly counts = new Uint32Array(BUCKETS);
  private n = 0;
  private maxValue = 0;

  record(us: number): void {
    this.counts[bucketOf(us)]!++;
    this.n++;
    if (us > this.maxValue) this.maxValue = us;
  }

  get count(): number {
    return this.n;
  }

  get max(): number {
    return this.maxValue;
  }

  /** The q-quantile (0..1) in µs, 0 when empty. */
  quantile(q: number): number {
    if (this.n === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * this.n));
    let seen = 0;
    for (let b = 0; b < BUCKETS; b++) {
      seen += this.counts[b]!;
      if (seen >= rank) return Math.min(bucketMid(b), this.maxValue);
    }
    return this.maxValue;
  }

  reset(): void {
    this.counts.fill(0);
    this.n = 0;
    this.maxValue = 0;
  }
}
