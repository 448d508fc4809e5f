// Owner side of one chain thread: starts chain-worker.ts with a fixed list
// of guests, sends frames over the shared memory (chain-protocol.ts), waits
// for them with a deadline (a blocking Atomics.wait: the owner is the audio
// thread, a worker) and reads the per-guest results. Like sandbox.ts for one
// plugin, it knows nothing about policies: that is audio-chain.ts.
//
// Everything on the frame path (send, wait, answered, status, readOut) works
// on preallocated views of the shared memory and allocates nothing.
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import { waitAsync } from '../platform.js';
import {
  CHAIN_SAB_BYTES,
  chainViews,
  Ctrl,
  FRAME_US_SLOT,
  G,
  GUEST_WORDS,
  MESSAGE_BYTES,
  Phase,
  STATS_PER_GUEST,
  type ChainGuestInit,
  type ChainInit,
  type ChainViews,
  type EffectsMessage,
  type GuestStatus,
} from './chain-protocol.js';

/** How long the owner spins for an answer before it sleeps (see wait()). */
const OWNER_SPIN_MS = 2;

const WORKER_URL = new URL('./chain-worker.js', import.meta.url);
const decoder = new TextDecoder();

export type ReadyResult = { ok: true } | { ok: false; culprit: number; message: string };

export interface ChainThreadOptions {
  resetEvery: number;
  /** JS heap cap of the thread (Extism's per-call blocks live there). */
  heapMiB: number;
}

export class ChainThread {
  readonly size: number;
  private readonly v: ChainViews;
  private readonly worker: Worker;
  private readonly port: MessagePort;
  private seq = 0;
  private effectsSeen = 0;
  private exitReason: string | null = null;
  private terminated = false;
  /** performance.now() when the thread was started. */
  readonly startedAt = performance.now();

  constructor(guests: readonly ChainGuestInit[], enabled: readonly boolean[], opts: ChainThreadOptions) {
    this.size = guests.length;
    const sab = new SharedArrayBuffer(CHAIN_SAB_BYTES);
    this.v = chainViews(sab);
    this.v.ctrl[Ctrl.Current] = -1;
    // NaN until a guest publishes: "no value yet", not a zero that looks measured.
    this.v.stats.fill(Number.NaN);
    for (let i = 0; i < guests.length; i++) this.v.guests[i * GUEST_WORDS + G.Enabled] = enabled[i] ? 1 : 0;
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    const init: ChainInit = { sab, guests: [...guests], resetEvery: opts.resetEvery, port: port2 };
    this.worker = new Worker(WORKER_URL, {
      workerData: init,
      transferList: [port2],
      name: 'audio-chain',
      env: {},
      execArgv: ['--disable-warning=ExperimentalWarning'],
      stdout: true,
      stderr: true,
      resourceLimits: { maxOldGenerationSizeMb: opts.heapMiB, maxYoungGenerationSizeMb: 16, stackSizeMb: 4 },
    });
    // Guests cannot print; whatever reaches the thread's stdio is dropped.
    this.worker.stdout.resume();
    this.worker.stderr.resume();
    this.worker.on('error', (err) => (this.exitReason ??= `chain thread failed: ${err.message}`));
    this.worker.on('exit', (code) => (this.exitReason ??= `chain thread exited (code ${code})`));
  }

  /** The worker is instantiated and waiting for frames (a plain read: usable from the frame path). */
  get ready(): boolean {
    return Atomics.load(this.v.ctrl, Ctrl.Phase) === Phase.Ready && this.exitReason === null;
  }

  /** Why the thread is gone (null while it runs). */
  get exited(): string | null {
    return this.exitReason;
  }

  /**
   * Resolves once every guest is instantiated (a guest that failed to is
   * marked in its Load word), or with the culprit: the guest being
   * instantiated when the thread died or `timeoutMs` ran out (a start
   * function that loops).
   */
  async whenReady(timeoutMs: number): Promise<ReadyResult> {
    const deadline = performance.now() + timeoutMs;
    // Atomics.waitAsync does not keep Node's event loop alive; this timer does.
    const keepAlive = setInterval(() => {}, 1000);
    try {
      for (;;) {
        if (this.ready) return { ok: true };
        if (this.exitReason !== null) return { ok: false, culprit: this.current, message: `${this.exitReason} while instantiating` };
        const left = deadline - performance.now();
        if (left <= 0) {
          return { ok: false, culprit: this.current, message: `did not finish instantiating within ${timeoutMs} ms (its start function may loop)` };
        }
        // Short slices: a thread that dies never notifies Phase.
        const w = waitAsync(this.v.ctrl, Ctrl.Phase, Phase.Starting, Math.min(left, 50));
        if (w.async) await w.value;
      }
    } finally {
      clearInterval(keepAlive);
    }
  }

  /** Hands a frame to the thread; returns its sequence number. The caller makes sure none is in flight. */
  send(mic: Float32Array, reference: Float32Array): number {
    this.v.mic.set(mic);
    this.v.reference.set(reference);
    this.seq = (this.seq + 1) | 0 || 1;
    Atomics.store(this.v.ctrl, Ctrl.ReqSeq, this.seq);
    Atomics.notify(this.v.ctrl, Ctrl.ReqSeq, 1);
    return this.seq;
  }

  answered(seq: number): boolean {
    return Atomics.load(this.v.ctrl, Ctrl.RespSeq) === seq;
  }

  /**
   * Blocks this thread until frame `seq` is answered or `timeoutMs` passed.
   * It spins for the first OWNER_SPIN_MS before sleeping: the chain usually
   * answers within a fraction of a millisecond, and waking a thread that
   * sleeps in Atomics.wait on an idle (virtual) CPU was measured here at
   * 60-150 µs, more than the whole chain's work.
   */
  wait(seq: number, timeoutMs: number): boolean {
    const ctrl = this.v.ctrl;
    const deadline = performance.now() + timeoutMs;
    const spinUntil = Math.min(deadline, performance.now() + OWNER_SPIN_MS);
    while (performance.now() < spinUntil) {
      if (Atomics.load(ctrl, Ctrl.RespSeq) === seq) return true;
    }
    for (;;) {
      const now = Atomics.load(ctrl, Ctrl.RespSeq);
      if (now === seq) return true;
      const left = deadline - performance.now();
      if (left <= 0 || this.exitReason !== null) return false;
      Atomics.wait(ctrl, Ctrl.RespSeq, now, left);
    }
  }

  /** The processed frame (valid once answered). */
  readOut(out: Float32Array): void {
    out.set(this.v.out);
  }

  status(i: number): GuestStatus {
    return this.v.guests[i * GUEST_WORDS + G.Status]! as GuestStatus;
  }

  elapsedUs(i: number): number {
    return this.v.times[i]!;
  }

  /** The chain thread's own time for the last frame (µs). */
  get frameUs(): number {
    return this.v.times[FRAME_US_SLOT]!;
  }

  loadState(i: number): number {
    return this.v.guests[i * GUEST_WORDS + G.Load]!;
  }

  memoryKiB(i: number): number {
    return this.v.guests[i * GUEST_WORDS + G.MemoryKiB]!;
  }

  /**
   * The stats guest i published last (sdk statSet), under the manifest's
   * names; NaN (no value yet) is left out. Not for the frame path: it allocates.
   */
  publishedStats(i: number, names: readonly string[]): Record<string, number> {
    const out: Record<string, number> = {};
    const base = i * STATS_PER_GUEST;
    for (let k = 0; k < names.length && k < STATS_PER_GUEST; k++) {
      const x = this.v.stats[base + k]!;
      if (!Number.isNaN(x)) out[names[k]!] = Math.round(x * 1000) / 1000;
    }
    return out;
  }

  message(i: number): string {
    const len = this.v.guests[i * GUEST_WORDS + G.MessageLen]!;
    return decoder.decode(this.v.messages.slice(i * MESSAGE_BYTES, i * MESSAGE_BYTES + len));
  }

  setEnabled(i: number, on: boolean): void {
    Atomics.store(this.v.guests, i * GUEST_WORDS + G.Enabled, on ? 1 : 0);
  }

  /** The guest the thread is in (-1: none), and since when (clockUs). */
  get current(): number {
    return Atomics.load(this.v.ctrl, Ctrl.Current);
  }

  get currentSinceUs(): number {
    return Atomics.load(this.v.ctrl, Ctrl.GuestStartUs);
  }

  get hops(): number {
    return Atomics.load(this.v.ctrl, Ctrl.Hops);
  }

  /** Hands every pending effects message to `fn` (cheap no-op when none was posted). */
  drainEffects(fn: (m: EffectsMessage) => void): void {
    const posted = Atomics.load(this.v.ctrl, Ctrl.EffectsPosted);
    if (posted === this.effectsSeen) return;
    for (;;) {
      const m = receiveMessageOnPort(this.port);
      if (!m) break;
      this.effectsSeen++;
      fn(m.message as EffectsMessage);
    }
  }

  /** Stops the thread, a guest looping in it included. Idempotent. */
  terminate(): Promise<void> {
    if (this.terminated) return Promise.resolve();
    this.terminated = true;
    this.exitReason ??= 'terminated';
    this.port.close();
    return this.worker.terminate().then(() => undefined);
  }
}
