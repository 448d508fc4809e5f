// The downstream half of the actor split: every user action (from the UI, the
// headless client, a test) is a message put on one queue. Many producers,
// one consumer; push() never waits, so a sender never waits for the network.
// The consumer handles one action at a time, in order.
export class ActionQueue<T> {
  private readonly items: T[] = [];
  private wake: (() => void) | null = null;
  private closed = false;

  push(item: T): void {
    if (this.closed) return;
    this.items.push(item);
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  get length(): number {
    return this.items.length;
  }

  close(): void {
    this.closed = true;
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  /** Runs `handle` for every item until close(); an exception from one item does not stop the loop. */
  async consume(handle: (item: T) => Promise<void> | void, onError: (err: unknown, item: T) => void): Promise<void> {
    for (;;) {
      while (this.items.length) {
        const item = this.items.shift()!;
        try {
          await handle(item);
        } catch (err) {
          onError(err, item);
        }
        if (this.closed) return;
      }
      if (this.closed) return;
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }
}
