// A "latest value" cell with watch semantics (like tokio's watch channel):
// the writer replaces the value, readers only ever see the newest one. A slow
// reader skips intermediate values instead of queueing them, so a UI that
// renders on animation frames can never fall behind a backlog of snapshots.
export class Latest<T> {
  private current: T;
  private versionNo = 0;
  private waiters: ((v: T) => void)[] = [];
  private readonly listeners = new Set<(v: T, version: number) => void>();
  private notifyScheduled = false;
  /** until() conditions, checked against every value set (none is skipped for them). */
  private readonly predicates = new Set<(v: T) => void>();

  constructor(initial: T) {
    this.current = initial;
  }

  get(): T {
    return this.current;
  }

  get version(): number {
    return this.versionNo;
  }

  set(value: T): void {
    this.current = value;
    this.versionNo++;
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w(value);
    for (const p of [...this.predicates]) p(value);
    // Listeners are told once per turn of the event loop at most: ten sets in
    // one turn cost one notification carrying the newest value.
    if (this.listeners.size && !this.notifyScheduled) {
      this.notifyScheduled = true;
      setImmediate(() => {
        this.notifyScheduled = false;
        for (const l of this.listeners) l(this.current, this.versionNo);
      });
    }
  }

  /** Resolves with the newest value once the version is past `seen` (immediately if it already is). */
  changed(seen: number): Promise<T> {
    if (this.versionNo > seen) return Promise.resolve(this.current);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Calls `listener` with the newest value after changes (coalesced); returns the unsubscribe function. */
  subscribe(listener: (v: T, version: number) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Resolves with the first value that satisfies `pred` (checked on every change); rejects after timeoutMs. */
  until(pred: (v: T) => boolean, timeoutMs = 10_000): Promise<T> {
    if (pred(this.current)) return Promise.resolve(this.current);
    return new Promise((resolve, reject) => {
      const check = (v: T): void => {
        if (!pred(v)) return;
        clearTimeout(timer);
        this.predicates.delete(check);
        resolve(v);
      };
      const timer = setTimeout(() => {
        this.predicates.delete(check);
        reject(new Error(`state did not reach the expected condition within ${timeoutMs} ms`));
      }, timeoutMs);
      this.predicates.add(check);
    });
  }
}
