// Experimental (voice.sealWorkers > 0): seals large fan-outs in worker threads.
// The main thread posts one message per speaker packet (header + payload and
// the listeners' tokens); a worker seals it under each listener's key and
// returns every datagram in one transferred ArrayBuffer. The main thread keeps
// the one UDP socket and does the sends, so the source port stays the lane's.
//
// Ordering: a speaker is pinned to one worker; a worker handles its messages
// in order and its replies arrive in order, so each speaker's packets leave in
// the order they came in. Keys follow attach/detach through the same ordered
// channel (every worker gets every key: any session may listen to any speaker).
import { Worker } from 'node:worker_threads';
import type { Logger } from '../../log/logger.js';
import type { VoiceBackend } from '../../voice/packet.js';

export interface SealRequest {
  type: 'seal';
  id: number;
  /** header || payload, transferred. */
  data: ArrayBuffer;
  /** Listener tokens (Uint32Array's buffer), transferred. */
  tokens: ArrayBuffer;
}

export interface SealResult {
  type: 'sealed';
  id: number;
  /** Datagram i at [i * size, (i + 1) * size), valid where sealed[i] is 1. */
  buf: ArrayBuffer;
  size: number;
  sealed: Uint8Array;
}

export type WorkerMessage =
  | { type: 'key'; token: number; key: Uint8Array; backend: VoiceBackend }
  | { type: 'drop'; token: number }
  | SealRequest;

interface Slot<T> {
  worker: Worker;
  /** What each posted request goes back to, oldest first. */
  pending: { id: number; ctx: T }[];
  head: number;
}

export class SealPool<T> {
  private readonly slots: Slot<T>[] = [];
  private nextId = 1;
  private nextSlot = 0;
  private failed = false;
  private closing = false;

  constructor(
    workers: number,
    private readonly log: Logger,
    private readonly onSealed: (ctx: T, buf: ArrayBuffer, size: number, sealed: Uint8Array) => void,
  ) {
    for (let i = 0; i < workers; i++) {
      const worker = new Worker(new URL('./seal-worker.js', import.meta.url));
      const slot: Slot<T> = { worker, pending: [], head: 0 };
      worker.on('message', (r: SealResult) => this.onResult(slot, r));
      worker.on('error', (err) => {
        // Fall back to sealing on the main thread; packets in flight are lost.
        this.log.error({ err, worker: i }, 'voice seal worker failed; sealing on the main thread');
        this.failed = true;
      });
      worker.on('exit', (code) => {
        if (this.closing) return;
        this.log.error({ code, worker: i }, 'voice seal worker exited; sealing on the main thread');
        this.failed = true;
      });
      worker.unref();
      this.slots.push(slot);
    }
  }

  /** False once a worker has failed: the caller seals inline. */
  get usable(): boolean {
    return !this.failed && this.slots.length > 0;
  }

  /** The worker a new speaker is pinned to (round robin). */
  assign(): number {
    const i = this.nextSlot;
    this.nextSlot = (i + 1) % this.slots.length;
    return i;
  }

  addKey(token: number, key: Buffer, backend: VoiceBackend): void {
    // A copy: cloning a view would clone its whole backing store.
    const m: WorkerMessage = { type: 'key', token, key: new Uint8Array(key), backend };
    for (const s of this.slots) s.worker.postMessage(m);
  }

  dropKey(token: number): void {
    const m: WorkerMessage = { type: 'drop', token };
    for (const s of this.slots) s.worker.postMessage(m);
  }

  seal(slotIndex: number, header: Uint8Array, payload: Uint8Array, tokens: Uint32Array, ctx: T): void {
    const slot = this.slots[slotIndex]!;
    const data = new Uint8Array(header.length + payload.length);
    data.set(header, 0);
    data.set(payload, header.length);
    const id = this.nextId++;
    slot.pending.push({ id, ctx });
    const m: SealRequest = { type: 'seal', id, data: data.buffer, tokens: tokens.buffer as ArrayBuffer };
    slot.worker.postMessage(m, [data.buffer, m.tokens]);
  }

  private onResult(slot: Slot<T>, r: SealResult): void {
    const p = slot.pending[slot.head];
    if (p === undefined || p.id !== r.id) {
      this.log.error({ expected: p?.id, got: r.id }, 'voice seal worker answered out of order');
      return;
    }
    slot.pending[slot.head++] = undefined as never;
    // Compact now and then instead of shift() per result.
    if (slot.head > 1024 && slot.head * 2 > slot.pending.length) {
      slot.pending = slot.pending.slice(slot.head);
      slot.head = 0;
    }
    this.onSealed(p.ctx, r.buf, r.size, r.sealed);
  }

  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
    this.slots.length = 0;
  }
}
