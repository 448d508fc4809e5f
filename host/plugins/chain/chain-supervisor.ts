// Which chain thread serves the capture chain, and starting its successors.
// A new chain thread (after a kill or crash, to bring a faulted guest back,
// or for replace()) is started in the background with every guest that keeps
// its instance; it is swapped in once ready, by whichever comes first: the
// launch's own continuation or the next process() call (a plain read of the
// thread's Phase word, so a frame never waits for the event loop). A guest
// that makes instantiation hang or crash is blamed (the control word names
// it) and the launch is retried without it. A newer launch supersedes an
// older one still starting.
import { PluginError } from '../errors.js';
import type { ChainEntry } from './chain-entry.js';
import { LoadState, type EffectsMessage } from './chain-protocol.js';
import { ChainThread } from './chain-thread.js';
import type { ChainReportKind } from './chain-types.js';

export interface Cause {
  /** The guest whose kill, crash or re-enabling caused the restart. */
  pluginId: string;
  message: string;
}

/** A chain thread and the entries of its guests, by index. */
export interface Bound {
  t: ChainThread;
  members: ChainEntry[];
  onEffects: (m: EffectsMessage) => void;
  /** Why it was started, when it is a restart (reported on swap). */
  cause: Cause | null;
}

export interface SupervisorHost {
  /** The guests a new chain thread should hold, in chain order. */
  members(): ChainEntry[];
  fault(e: ChainEntry, health: 'faulted' | 'killed', message: string): void;
  report(pluginId: string, kind: ChainReportKind, message: string): void;
  effects(members: ChainEntry[], m: EffectsMessage): void;
  /** The serving thread changed (or is gone): nothing of the old one is in flight any more. */
  servingChanged(): void;
}

export class ChainSupervisor {
  serving: Bound | null = null;
  private starting: Bound | null = null;
  private gen = 0;
  private closed = false;
  restarts = 0;
  private hopsBefore = 0;

  constructor(
    private readonly host: SupervisorHost,
    private readonly opts: { resetEvery: number; loadTimeoutMs: number },
  ) {}

  /** Frames served by every chain thread so far. */
  get hops(): number {
    return this.hopsBefore + (this.serving?.t.hops ?? 0);
  }

  /** From the frame path: swap in a started thread as soon as it is ready. */
  swapIfReady(): void {
    if (this.starting?.t.ready) this.swapIn(this.starting);
  }

  /** Starts a chain thread and resolves once it serves (rejects when no thread can start at all). */
  async launch(cause: Cause | null): Promise<void> {
    const gen = ++this.gen;
    if (this.starting) void this.starting.t.terminate();
    this.starting = null;
    for (let attempt = 0; ; attempt++) {
      if (this.closed || gen !== this.gen) return;
      const members = this.host.members();
      const heapMiB = 64 + members.reduce((n, e) => n + e.prepared.limits.memoryMiB, 0);
      const t = new ChainThread(
        members.map((e) => e.prepared.init),
        members.map((e) => e.expected),
        { resetEvery: this.opts.resetEvery, heapMiB },
      );
      const bound: Bound = { t, members, onEffects: (m) => this.host.effects(members, m), cause };
      this.starting = bound;
      const r = await t.whenReady(this.opts.loadTimeoutMs);
      if (this.serving === bound) return; // process() swapped it in already
      if (this.closed || gen !== this.gen || this.starting !== bound) {
        void t.terminate();
        return;
      }
      if (r.ok) return this.swapIn(bound);
      this.starting = null;
      void t.terminate();
      const culprit = members[r.culprit];
      if (!culprit || attempt > members.length) throw new PluginError('LOAD_FAILED', `the audio chain thread could not start: ${r.message}`);
      this.host.fault(culprit, 'faulted', `failed to load: ${r.message}`);
    }
  }

  /** launch() in the background (from the frame path): a failure is reported, never thrown. */
  relaunch(cause: Cause): void {
    this.launch(cause).catch((err: Error) => this.host.report(cause.pluginId, 'fault', err.message));
  }

  /** Stops serving with `b` (killed, crashed or replaced). */
  drop(b: Bound): void {
    if (this.serving !== b) return;
    this.hopsBefore += b.t.hops;
    this.serving = null;
    this.host.servingChanged();
    void b.t.terminate();
  }

  /** Tells every thread holding `e` whether to call it. */
  pushEnabled(e: ChainEntry): void {
    for (const b of [this.serving, this.starting]) {
      const i = b ? b.members.indexOf(e) : -1;
      if (i >= 0) b!.t.setEnabled(i, e.expected);
    }
  }

  close(): Promise<void> {
    this.closed = true;
    this.gen++;
    const threads = [this.serving?.t, this.starting?.t];
    this.serving = null;
    this.starting = null;
    return Promise.all(threads.map((t) => t?.terminate())).then(() => undefined);
  }

  private swapIn(b: Bound): void {
    if (this.serving === b) return;
    if (this.serving) this.drop(this.serving);
    this.serving = b;
    this.starting = null;
    this.host.servingChanged();
    for (let i = 0; i < b.members.length; i++) {
      const e = b.members[i]!;
      e.sinceStart = 0;
      e.started = true;
      if (b.t.loadState(i) === LoadState.Failed) this.host.fault(e, 'faulted', b.t.message(i));
    }
    if (b.cause) {
      this.restarts++;
      const running = b.members.filter((e) => e.expected).map((e) => e.id);
      this.host.report(b.cause.pluginId, 'restarted', `${b.cause.message} (running: ${running.join(', ') || 'none'})`);
    }
  }
}
