// Per-tick CPU cost of a pipeline half, as a rolling window of samples (µs),
// summarised as p50/p99. Fixed storage: no allocation per tick.
export class CpuMeter {
  private readonly samples: Float64Array;
  private n = 0;
  private readonly sorted: Float64Array;

  constructor(window = 500) {
    this.samples = new Float64Array(window);
    this.sorted = new Float64Array(window);
  }

  add(us: number): void {
    this.samples[this.n % this.samples.length] = us;
    this.n++;
  }

  summary(): { p50: number; p99: number } {
    const count = Math.min(this.n, this.samples.length);
    if (count === 0) return { p50: 0, p99: 0 };
    const s = this.sorted.subarray(0, count);
    s.set(this.samples.subarray(0, count));
    s.sort();
    const at = (q: number) => s[Math.min(count - 1, Math.floor(q * count))]!;
    return { p50: Math.round(at(0.5)), p99: Math.round(at(0.99)) };
  }
}
