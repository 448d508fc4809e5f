// Native memory housekeeping for a long-running server process (glibc malloc,
// through the native/sendmmsg addon; nothing happens where it is not built).
//
// A server's native memory comes in bursts: logins hash with argon2 (a 19 MiB
// block each, on libuv's threads), TLS handshakes allocate and free, and a
// wave of joins writes the channel tree to everyone. glibc keeps what a burst
// freed: the dynamic mmap threshold rises to the first big block freed, so
// later argon2 blocks are carved from per-thread arenas and stay resident, and
// free pages inside the heaps are only returned by malloc_trim. Two measures:
// - at start: a fixed 1 MiB mmap threshold (big blocks are mapped and unmapped,
//   never kept) and at most 2 malloc arenas (threads share them instead of
//   each keeping one of its own);
// - after connections come or go: malloc_trim, at most every TRIM_EVERY_MS,
//   once the burst has been quiet for TRIM_QUIET_MS.
// Measured in docs/OPERATIONS.md ("Memory").
import { createRequire } from 'node:module';

interface MallocTuning {
  tuneMalloc(mmapThresholdBytes: number, arenaMax: number): boolean;
  trimMalloc(): boolean;
}

const MMAP_THRESHOLD_BYTES = 1024 * 1024;
const ARENA_MAX = 2;
const TRIM_QUIET_MS = 1000;
const TRIM_EVERY_MS = 10_000;

function load(): MallocTuning | null {
  if (process.env.HEARTH_MALLOC_TUNING === '0') return null;
  try {
    const m = createRequire(import.meta.url)('hearth-sendmmsg') as Partial<MallocTuning>;
    return typeof m.tuneMalloc === 'function' && typeof m.trimMalloc === 'function' ? (m as MallocTuning) : null;
  } catch {
    return null;
  }
}

export class MemoryHousekeeping {
  private readonly native = load();
  private lastChange = 0;
  private lastTrim = 0;
  private dirty = false;
  /** Trims done (stats, tests). */
  trims = 0;

  /** Whether the native tuning is available (not built, not glibc, or HEARTH_MALLOC_TUNING=0: false). */
  get available(): boolean {
    return this.native !== null;
  }

  /** Call once, as early as possible: arenas already created keep existing. */
  tune(): boolean {
    return this.native?.tuneMalloc(MMAP_THRESHOLD_BYTES, ARENA_MAX) ?? false;
  }

  /** A connection came or went. */
  noteChange(now: number): void {
    this.dirty = true;
    this.lastChange = now;
  }

  /** From the server's 1 s sweep: trims once a burst has settled. */
  tick(now: number): void {
    if (!this.dirty || this.native === null) return;
    if (now - this.lastChange < TRIM_QUIET_MS || now - this.lastTrim < TRIM_EVERY_MS) return;
    this.dirty = false;
    this.lastTrim = now;
    this.native.trimMalloc();
    this.trims++;
  }
}
